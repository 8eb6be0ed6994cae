/**
 * The job summary: Markdown from a scan result, under GitHub's 1 MiB limit. Pure.
 *
 * It leads with the verdict: ⚠️ when the scan could not see everything (never ✅ then), ❌ when
 * stale keys exist, ✅ only for a complete scan that found none. Long lists stay readable: the
 * first rows of each table are shown, the rest folded away, and what does not fit is counted.
 */
import type { DueSoon, ExemptedFinding, Finding, Gap } from '../model.js';
import { scanGaps } from './coverage.js';
import { utcDate } from './days.js';
import { addDays } from './deactivation.js';
import {
  byteLength,
  count,
  escapeMarkdown as md,
  fitLines,
  plural,
  tableHeader,
  tableRow,
} from '../render/markdown.js';
import { accountLabel, keyLabel, reasonText, userMarkdown, type KeyIdStyle } from '../render/present.js';
import { utcMinute, type Deactivation, type ScanResult } from './result.js';

/** GitHub drops a step summary over 1 MiB; stay clear of it. */
export const SUMMARY_BUDGET_BYTES = 1_000_000;
/** Rows shown before a table folds the rest away. */
const STALE_SHOWN = 25;
const DUE_SOON_SHOWN = 10;
/** Due-soon keys are a heads-up, not a finding: past this many the report has the rest. */
const DUE_SOON_MAX = 500;

export interface SummaryOptions {
  keyId: KeyIdStyle;
  budgetBytes?: number;
  /** The tracking issue, when there is one; `problem` says why it may be behind the scan. */
  issue?: { action: string; number: number | null; url: string | null; problem?: string | null };
  /** Markdown lines on how to rotate the stale keys, placed after their table. */
  rotation?: readonly string[];
}

/** Where the rows a summary leaves out can be found: never a path on the runner, which nobody can open. */
const ELSEWHERE = 'the JSON report has them all (output `report-path`; upload it with actions/upload-artifact)';

export function renderSummary(result: ScanResult, options: SummaryOptions): string {
  const { account, judgement } = result;
  const budget = options.budgetBytes ?? SUMMARY_BUDGET_BYTES;
  const gaps = scanGaps(result);
  const hiding = gaps.filter((g) => g.couldHideStale);
  const stale = judgement.stale.length;

  const head: string[] = [`## Stale AWS access keys: ${md(accountLabel(account))}`, ''];
  if (hiding.length > 0) {
    head.push(
      `⚠️ **The scan is incomplete: stale keys may be missing.** ${plural(hiding.length, 'thing', 'things')} could not be checked (below, with the fix).`,
      '',
    );
  }
  if (stale > 0) {
    head.push(`❌ **${plural(stale, 'access key is', 'access keys are')} stale.** ${scanned(result)}`);
  } else if (hiding.length > 0) {
    head.push(`No stale access keys among those checked. ${scanned(result)}`);
  } else {
    head.push(`✅ No stale access keys. ${scanned(result)}`);
  }
  const exempted = judgement.exempted.length;
  if (exempted > 0) {
    head.push(
      '',
      `${plural(exempted, 'stale key is', 'stale keys are')} exempted by their user’s tags until a date (below).`,
    );
  }
  head.push('', thresholds(result.policy));
  const issue = options.issue;
  if (issue?.number && issue.url) {
    head.push('', `Tracking issue: [#${issue.number}](${issue.url}) (${issue.action}).`);
  }
  if (issue?.problem) head.push('', `⚠️ The tracking issue may be behind this scan: ${md(issue.problem)}`);
  if (hiding.length > 0) head.push('', '### Not checked', '', ...hiding.map(gapLine));

  const method = methodSection(result, gaps);
  const rotation = stale > 0 && options.rotation ? ['', '### Rotate each key', '', ...options.rotation] : [];
  const fixed = byteLength([...head, ...method, ...rotation].join('\n')) + 400;
  let left = budget - fixed;

  const body: string[] = [];
  const deactivation = deactivationSection(result, options.keyId);
  if (deactivation.length > 0) {
    body.push(...deactivation, '');
    left -= byteLength(deactivation.join('\n')) + 1;
  }
  if (stale > 0) {
    const share = judgement.dueSoon.length > 0 ? 0.85 : 1;
    const section = staleKeysTable(result, options.keyId, `### Stale keys (${count(stale)})`, Math.floor(left * share));
    body.push(...section, ...rotation, '');
    left -= byteLength(section.join('\n')) + 1;
  }
  if (judgement.exempted.length > 0) {
    const rows = judgement.exempted.map((f) => exemptedRow(f, result, options.keyId));
    const section = table(
      `### Exempted (${count(rows.length)})`,
      [
        'Stale keys their user’s tags accept as a risk until a date, with a reason. They do not fail the job until the date passes; then they are stale again.',
      ],
      EXEMPTED_HEADINGS,
      rows,
      STALE_SHOWN,
      Math.floor(left / 2),
    );
    body.push(...section, '');
    left -= byteLength(section.join('\n')) + 1;
  }
  if (judgement.dueSoon.length > 0) {
    const due = judgement.dueSoon;
    const intro = [
      `These keys turn stale within ${plural(result.policy.warnDays, 'day', 'days')}. They do not fail the job.`,
    ];
    if (due.some((k) => !k.accessKeyId)) {
      intro.push(
        'The credential report has no key IDs, and only stale keys are looked up live: the creation date tells a user’s keys apart.',
      );
    }
    const rows = due.slice(0, DUE_SOON_MAX).map((k) => dueRow(k, options.keyId, result));
    const section = table(
      `### Due soon (${count(due.length)})`,
      [intro.join(' ')],
      DUE_HEADINGS,
      rows,
      DUE_SOON_SHOWN,
      left,
      due.length - rows.length,
    );
    body.push(...section, '');
  }
  return [...head, '', ...body, ...method, ''].join('\n');
}

/** The stale keys as a table: the first rows shown, the rest folded away, within `budget` bytes. */
export function staleKeysTable(result: ScanResult, keyId: KeyIdStyle, title: string, budget: number): string[] {
  const rows = result.judgement.stale.map((f) => staleRow(f, result, keyId));
  return table(title, [], STALE_HEADINGS, rows, STALE_SHOWN, budget);
}

/**
 * A table whose first `shown` rows are visible and the rest folded into `<details>`, as many as fit
 * in `budget` bytes. Rows that do not fit, and `leftOut` rows never given, are counted, with where
 * to find them.
 */
function table(
  title: string,
  intro: readonly string[],
  headings: readonly string[],
  rows: readonly string[],
  shown: number,
  budget: number,
  leftOut = 0,
): string[] {
  const more = (n: number) => `\n_…and ${count(n + leftOut)} more: ${ELSEWHERE}._`;
  const out = [title, '', ...intro.flatMap((line) => [line, '']), tableHeader(headings)];
  const visible = rows.slice(0, shown);
  const folded = rows.slice(shown);
  const open = [
    '',
    `<details><summary>${plural(folded.length, 'more key', 'more keys')}</summary>`,
    '',
    tableHeader(headings),
  ];
  const close = ['', '</details>'];
  const reserve = folded.length > 0 ? byteLength([...open, ...close].join('\n')) + 1 : 0;

  const fits = fitLines(visible, budget - byteLength(out.join('\n')) - reserve, (n) => more(n + folded.length));
  out.push(...fits);
  if (fits.length < visible.length) return out; // The closing line already counts the rest.
  if (folded.length > 0) {
    const room = budget - byteLength([...out, ...open, ...close].join('\n'));
    const inside = fitLines(folded, room, more);
    out.push(...open, ...inside, ...close);
    if (inside.length < folded.length) return out;
  }
  if (leftOut > 0) out.push(more(0));
  return out;
}

const STALE_HEADINGS = ['User', 'Access key', 'Age (days)', 'Last used', 'Reason'];
const DUE_HEADINGS = ['User', 'Access key', 'Age (days)', 'Stale in (days)'];
const EXEMPTED_HEADINGS = ['User', 'Access key', 'Age (days)', 'Exempt until', 'Reason'];

/** The access key cell: its ID (or what stands for it), and its status when that is not the usual. */
function keyCell(k: Pick<Finding, 'accessKeyId' | 'root' | 'status' | 'createDate'>, keyId: KeyIdStyle): string {
  const id =
    k.accessKeyId || k.root
      ? `\`${keyLabel(k, keyId)}\``
      : `created ${k.createDate ? utcDate(k.createDate) : 'on an unknown date'}`;
  return k.status === 'Inactive' ? `${id} (inactive)` : id;
}

/** `2026-11-19 (s3, eu-west-1)`, `never`, or `unknown`. */
export function lastUsedCell(k: Finding): string {
  if (k.lastUsedDate) {
    const where = [k.lastUsedService, k.lastUsedRegion].filter(Boolean).map((s) => md(s!));
    return `${utcDate(k.lastUsedDate)}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
  }
  return k.lastUseKnown ? 'never' : 'unknown';
}

function staleRow(f: Finding, result: ScanResult, keyId: KeyIdStyle): string {
  const notApplied = result.judgement.refusedExemptions.get(f.user);
  const on = f.accessKeyId ? result.deactivation?.scheduled.get(f.accessKeyId) : undefined;
  const parts = [f.reasons.map((r) => reasonText(r, result.policy)).join(', ')];
  if (notApplied) parts.push(`exemption not applied: ${md(notApplied)}`);
  if (on) parts.push(`${result.deactivation!.dryRun ? 'would be deactivated' : 'deactivated'} on ${on}`);
  return tableRow([
    userCell(f, result),
    keyCell(f, keyId),
    f.ageDays === null ? 'unknown' : count(f.ageDays),
    lastUsedCell(f),
    parts.join('; '),
  ]);
}

const OUTCOME_WORDS: Record<Deactivation['outcome'], string> = {
  deactivated: 'deactivated',
  'would-deactivate': 'would be deactivated (dry run)',
  changed: 'left alone: it changed since the scan (rotated, deleted or already inactive)',
  failed: 'could not be deactivated',
};

/**
 * What deactivation after notice did this run (or, in a dry run, would do), with the command that
 * undoes each deactivation; empty when nothing was due.
 */
function deactivationSection(result: ScanResult, keyId: KeyIdStyle): string[] {
  const report = result.deactivation;
  if (!report || (report.keys.length === 0 && report.deferred === 0)) return [];
  const done = report.keys.filter((k) => k.outcome === 'deactivated');
  const title = report.dryRun
    ? `### Would be deactivated after notice (dry run: ${count(report.keys.length)})`
    : `### Deactivated after notice (${count(done.length)})`;
  const out = [
    title,
    '',
    `Keys the tracking issue has listed for ${plural(report.afterDays, 'day', 'days')} or more are deactivated, never deleted${report.dryRun ? '; this is a dry run (`dry-run: true`), so nothing was changed' : ''}.`,
    '',
    tableHeader(['User', 'Access key', 'Listed since', 'Outcome']),
    ...report.keys.map((k) =>
      tableRow([
        userCell({ user: k.user, root: false }, result),
        `\`${keyId(k.accessKeyId)}\``,
        k.firstListed,
        k.error ? `${OUTCOME_WORDS[k.outcome]}: ${md(k.error)}` : OUTCOME_WORDS[k.outcome],
      ]),
    ),
  ];
  if (report.deferred > 0) {
    out.push(
      '',
      `${plural(report.deferred, 'more key is', 'more keys are')} due and ${report.deferred === 1 ? 'waits' : 'wait'} for the next run (\`max-deactivations\`).`,
    );
  }
  if (done.length > 0) {
    out.push('', 'To re-activate a key:', '', '```sh');
    out.push(
      ...done.map(
        (k) =>
          `aws iam update-access-key --user-name ${k.user} --access-key-id ${keyId(k.accessKeyId)} --status Active`,
      ),
    );
    out.push('```');
  }
  return out;
}

/** The user, and its owner from the user's tags when they name one. */
function userCell(k: Pick<Finding, 'user' | 'root'>, result: ScanResult): string {
  const owner = k.root ? undefined : result.judgement.owners.get(k.user);
  const who = owner?.text ?? (owner?.handles.github ? `@${owner.handles.github}` : null);
  return who ? `${userMarkdown(k)} (owner: ${md(who)})` : userMarkdown(k);
}

function exemptedRow(f: ExemptedFinding, result: ScanResult, keyId: KeyIdStyle): string {
  return tableRow([
    userCell(f, result),
    keyCell(f, keyId),
    f.ageDays === null ? 'unknown' : count(f.ageDays),
    f.exemption.until,
    md(f.exemption.reason),
  ]);
}

function dueRow(k: DueSoon, keyId: KeyIdStyle, result: ScanResult): string {
  const report = result.deactivation;
  // Listed when it turns stale, deactivated a notice later at the earliest.
  const from = report ? `; deactivated from ${addDays(utcDate(result.now), k.daysLeft + report.afterDays)}` : '';
  return tableRow([userMarkdown(k), keyCell(k, keyId), count(k.ageDays), `${count(k.daysLeft)}${from}`]);
}

export function gapLine(gap: Gap): string {
  return `- ${md(gap.what)}. **Fix:** ${md(gap.fix)}.`;
}

export function scanned(result: ScanResult): string {
  const { inventory, judgement } = result;
  let text = `Scanned ${plural(inventory.userCount, 'user', 'users')} and ${plural(judgement.scannedKeys, 'key', 'keys')}`;
  if (judgement.excludedKeys > 0) {
    text += `; ${plural(judgement.excludedKeys, 'key', 'keys')} of ${plural(judgement.excludedUsers.length, 'user', 'users')} excluded`;
  }
  return `${text}.`;
}

/** The policy in one line. */
export function thresholds(policy: ScanResult['policy']): string {
  const parts = [`Stale at **${plural(policy.maxAgeDays, 'day', 'days')}** old`];
  if (policy.maxUnusedDays > 0) parts.push(`or unused for ${plural(policy.maxUnusedDays, 'day', 'days')}`);
  let text = parts.join(' ');
  text += policy.includeInactive ? ' (inactive keys included)' : ' (active keys)';
  if (policy.warnDays > 0) text += `; due soon within ${plural(policy.warnDays, 'day', 'days')} of it`;
  return `${text}. Root user keys are always stale.`;
}

function methodSection(result: ScanResult, gaps: readonly Gap[]): string[] {
  const { inventory, account } = result;
  const lines = ['<details><summary>How this scan was made</summary>', ''];
  if (inventory.method === 'credential-report') {
    const at = inventory.reportGeneratedAt ? ` generated ${utcMinute(inventory.reportGeneratedAt)}` : '';
    lines.push(
      `- Method: IAM credential report${at} (IAM reuses a report for up to 4 hours); ${plural(inventory.confirmedUsers, 'flagged user', 'flagged users')} confirmed live with ListAccessKeys.`,
    );
  } else {
    lines.push('- Method: IAM API, user by user (ListUsers, ListAccessKeys, GetAccessKeyLastUsed).');
  }
  lines.push(`- Judged at ${utcMinute(result.now)}, ages in whole UTC days.`);
  lines.push(`- Ran as \`${account.callerArn}\`.`);
  const { excludedUsers, unmatchedExclusions } = result.judgement;
  if (excludedUsers.length > 0) {
    const shown = excludedUsers
      .slice(0, 20)
      .map((user) => userMarkdown({ user, root: false }))
      .join(', ');
    const rest = excludedUsers.length - 20;
    lines.push(`- Excluded users: ${shown}${rest > 0 ? ` and ${count(rest)} more` : ''}.`);
  }
  if (unmatchedExclusions.length > 0) {
    lines.push(
      `- exclude-users patterns that matched no user with a key: ${unmatchedExclusions.map((p) => `\`${p}\``).join(', ')}.`,
    );
  }
  for (const note of inventory.notes) lines.push(`- ${md(note)}`);
  for (const note of result.judgement.tagNotes) lines.push(`- ${md(note)} (not used)`);
  for (const gap of gaps.filter((g) => !g.couldHideStale)) lines.push(gapLine(gap));
  lines.push('', '</details>');
  return lines;
}

/** The summary of a scan that could not be made at all: the reason, and no verdict. */
export function renderFailedScan(message: string): string {
  return ['## Stale AWS access keys', '', `❌ **The scan failed, so nothing was checked.** ${md(message)}`, ''].join(
    '\n',
  );
}
