/**
 * The job summary of a run over many accounts: the verdict, one overview row per account (worst
 * first), then each account's stale keys, all under GitHub's 1 MiB. Pure.
 */
import { isIncomplete, scanGaps } from '../account/coverage.js';
import { byteLength, count, escapeMarkdown as md, plural, tableHeader, tableRow } from '../render/markdown.js';
import { accountLabel, type KeyIdStyle } from '../render/present.js';
import { utcMinute, type ScanResult } from '../account/result.js';
import { gapLine, staleKeysTable, SUMMARY_BUDGET_BYTES, thresholds } from '../account/summary.js';
import type { MemberAccount } from './accounts.js';

/** What became of one account in a run. */
export interface AccountRun {
  account: MemberAccount;
  /**
   * The scan, or `null` when the account could not be scanned. In the organisation mode its
   * `inventory.keys` is emptied once the report file has them; the judgement is whole.
   */
  result: ScanResult | null;
  /** Why the account could not be scanned. */
  error: string | null;
  /** Its tracking issue, when there is one; `changed` when this run announced a change in it. */
  issue: {
    action: string;
    number: number | null;
    url: string | null;
    changed?: boolean | null;
    /** Why the issue may be behind this scan (GitHub did not answer, or the run's write budget was spent). */
    problem?: string | null;
  } | null;
}

export interface OverviewOptions {
  keyId: KeyIdStyle;
  budgetBytes?: number;
  /** How the accounts were chosen, for the reader: `organization o-abc (shard 2/3)`. */
  source: string;
  /** Accounts dropped by exclude-accounts. */
  excluded: readonly string[];
  now: Date;
}

/** A stale table longer than this is folded in its account's section. */
const ROOM_PER_ACCOUNT = 60_000;
const ELSEWHERE = 'the JSON report has them all (output `report-path`)';

/** Worst first: accounts that could not be scanned, then incomplete ones, then by stale and due-soon keys. */
export function worstFirst(runs: readonly AccountRun[]): AccountRun[] {
  const rank = (r: AccountRun) => (r.result === null ? 0 : isIncomplete(r.result) ? 1 : 2);
  const stale = (r: AccountRun) => r.result?.judgement.stale.length ?? 0;
  const due = (r: AccountRun) => r.result?.judgement.dueSoon.length ?? 0;
  return [...runs].sort(
    (a, b) =>
      rank(a) - rank(b) || stale(b) - stale(a) || due(b) - due(a) || a.account.id.localeCompare(b.account.id, 'en'),
  );
}

export function renderOverview(runs: readonly AccountRun[], options: OverviewOptions): string {
  const budget = options.budgetBytes ?? SUMMARY_BUDGET_BYTES;
  const sorted = worstFirst(runs);
  const failed = sorted.filter((r) => r.result === null);
  const scannedRuns = sorted.filter((r): r is AccountRun & { result: ScanResult } => r.result !== null);
  const incomplete = scannedRuns.filter((r) => isIncomplete(r.result));
  const withStale = scannedRuns.filter((r) => r.result.judgement.stale.length > 0);
  const stale = withStale.reduce((n, r) => n + r.result.judgement.stale.length, 0);

  const head = [`## Stale AWS access keys: ${plural(runs.length, 'account', 'accounts')}`, ''];
  if (failed.length > 0 || incomplete.length > 0) {
    const parts = [];
    if (failed.length > 0) parts.push(`${plural(failed.length, 'account', 'accounts')} could not be scanned`);
    if (incomplete.length > 0) {
      parts.push(`${plural(incomplete.length, 'scan was', 'scans were')} incomplete`);
    }
    head.push(
      `⚠️ **Stale keys may be missing: ${parts.join(', and ')}.** The rows below say why and how to fix it.`,
      '',
    );
  }
  if (stale > 0) {
    head.push(
      `❌ **${plural(stale, 'access key is', 'access keys are')} stale in ${plural(withStale.length, 'account', 'accounts')}.** ${totals(scannedRuns)}`,
    );
  } else if (failed.length > 0 || incomplete.length > 0) {
    head.push(`No stale access keys among those checked. ${totals(scannedRuns)}`);
  } else {
    head.push(`✅ No stale access keys in any account. ${totals(scannedRuns)}`);
  }
  const policy = scannedRuns[0]?.result.policy;
  if (policy) head.push('', thresholds(policy));

  const method = [
    '<details><summary>How this run was made</summary>',
    '',
    `- Accounts: ${md(options.source)}${options.excluded.length > 0 ? `; excluded: ${options.excluded.join(', ')}` : ''}.`,
    `- Judged at ${utcMinute(options.now)}, ages in whole UTC days.`,
    '',
    '</details>',
  ];

  const overview = ['### Accounts', '', tableHeader(OVERVIEW_HEADINGS), ...sorted.map(overviewRow)];
  let left = budget - byteLength([...head, ...overview, ...method].join('\n')) - 400;
  const sections: string[] = [];
  let shown = 0;
  for (const run of sorted) {
    const section = accountSection(run, options.keyId, Math.min(left, ROOM_PER_ACCOUNT));
    if (section.length === 0) continue;
    const size = byteLength(section.join('\n')) + 1;
    if (size > left) break;
    sections.push(...section, '');
    left -= size;
    shown++;
  }
  const worthShowing = sorted.filter((r) => accountSectionWanted(r)).length;
  if (shown < worthShowing) {
    sections.push(`_…and ${plural(worthShowing - shown, 'more account', 'more accounts')}: ${ELSEWHERE}._`, '');
  }
  return [...head, '', ...overview, '', ...sections, ...method, ''].join('\n');
}

const OVERVIEW_HEADINGS = ['Account', 'Users', 'Keys', 'Stale', 'Due soon', 'Tracking issue'];

function label(run: AccountRun): string {
  const alias = run.result?.account.alias ?? run.account.name;
  return md(accountLabel({ id: run.account.id, alias }));
}

function overviewRow(run: AccountRun): string {
  if (!run.result) {
    return tableRow([
      `❌ ${label(run)}`,
      '—',
      '—',
      '—',
      '—',
      `could not be scanned: ${md(run.error ?? 'unknown error')}`,
    ]);
  }
  const { inventory, judgement } = run.result;
  const mark = isIncomplete(run.result) ? '⚠️ ' : judgement.stale.length > 0 ? '' : '✅ ';
  return tableRow([
    `${mark}${label(run)}`,
    count(inventory.userCount),
    count(judgement.scannedKeys),
    count(judgement.stale.length),
    count(judgement.dueSoon.length),
    issueCell(run),
  ]);
}

function issueCell(run: AccountRun): string {
  const issue = run.issue;
  if (!issue || issue.action === 'none') return '—';
  const link = issue.number && issue.url ? `[#${issue.number}](${issue.url}) ` : '';
  return `${link}${md(issue.action)}${issue.problem ? `: ${md(issue.problem)}` : ''}`;
}

function accountSectionWanted(run: AccountRun): boolean {
  return run.result !== null && (run.result.judgement.stale.length > 0 || isIncomplete(run.result));
}

/** An account's own part: what could not be checked, then its stale keys. Empty when all is well. */
function accountSection(run: AccountRun, keyId: KeyIdStyle, budget: number): string[] {
  if (!accountSectionWanted(run) || !run.result) return [];
  const result = run.result;
  const out = [`### ${label(run)}`, ''];
  const hiding = scanGaps(result).filter((g) => g.couldHideStale);
  if (hiding.length > 0) out.push('Not checked:', '', ...hiding.map(gapLine), '');
  const stale = result.judgement.stale.length;
  if (stale > 0) {
    out.push(
      ...staleKeysTable(
        result,
        keyId,
        `${plural(stale, 'stale key', 'stale keys')}:`,
        budget - byteLength(out.join('\n')),
      ),
    );
  }
  return out;
}

function totals(runs: ReadonlyArray<AccountRun & { result: ScanResult }>): string {
  const users = runs.reduce((n, r) => n + r.result.inventory.userCount, 0);
  const keys = runs.reduce((n, r) => n + r.result.judgement.scannedKeys, 0);
  return `Scanned ${plural(runs.length, 'account', 'accounts')}: ${plural(users, 'user', 'users')} and ${plural(keys, 'key', 'keys')}.`;
}
