/** The job summary: Markdown from a scan result, under GitHub's 1 MiB limit. Pure. */
import type { DueSoon, Finding } from '../model.js';
import { utcDate } from './days.js';
import { byteLength, count, escapeMarkdown as md, fitLines, plural, tableHeader, tableRow } from './markdown.js';
import { accountLabel, keyLabel, reasonText, type KeyIdStyle } from './present.js';
import { utcMinute, type ScanResult } from './scan.js';

/** GitHub drops a step summary over 1 MiB; stay clear of it. */
export const SUMMARY_BUDGET_BYTES = 1_000_000;

export interface SummaryOptions {
  keyId: KeyIdStyle;
  /** Where the full JSON report was written, for "and N more" lines. */
  reportPath?: string;
  budgetBytes?: number;
  /** The tracking issue, when there is one. */
  issue?: { action: string; number: number | null; url: string | null };
}

export function renderSummary(result: ScanResult, options: SummaryOptions): string {
  const { account, judgement, policy } = result;
  const budget = options.budgetBytes ?? SUMMARY_BUDGET_BYTES;
  const stale = judgement.stale.length;

  const head: string[] = [`## Stale AWS access keys: ${md(accountLabel(account))}`, ''];
  if (stale === 0) {
    head.push(`✅ No stale access keys. ${scanned(result)}`);
  } else {
    head.push(`❌ **${plural(stale, 'access key is', 'access keys are')} stale.** ${scanned(result)}`);
  }
  head.push('', thresholds(result));
  if (options.issue?.number && options.issue.url) {
    head.push('', `Tracking issue: [#${options.issue.number}](${options.issue.url}) (${options.issue.action}).`);
  }

  const method = methodSection(result);
  const fixed = byteLength(head.join('\n')) + byteLength(method.join('\n')) + 200;
  const more = (n: number): string =>
    `\n_…and ${count(n)} more${options.reportPath ? ` (see report-path: ${md(options.reportPath)})` : ' (see the report file)'}._`;

  const body: string[] = [];
  let left = budget - fixed;
  if (stale > 0) {
    const section = [`### Stale keys (${count(stale)})`, '', tableHeader(STALE_HEADINGS)];
    const rows = fitLines(
      judgement.stale.map((f) => staleRow(f, result, options.keyId)),
      Math.floor(left * (judgement.dueSoon.length > 0 ? 0.8 : 1)) - byteLength(section.join('\n')),
      more,
    );
    section.push(...rows);
    body.push(...section, '');
    left -= byteLength(section.join('\n')) + 1;
  }
  if (judgement.dueSoon.length > 0) {
    const section = [
      `### Due soon (${count(judgement.dueSoon.length)})`,
      '',
      `These keys turn stale within ${policy.warnDays} days. They do not fail the job.${
        result.inventory.method === 'credential-report'
          ? " The credential report has no key IDs, and only stale keys are looked up live: the creation date tells a user's keys apart."
          : ''
      }`,
      '',
      tableHeader(DUE_HEADINGS),
    ];
    const rows = fitLines(
      judgement.dueSoon.map((k) => dueRow(k, options.keyId)),
      left - byteLength(section.join('\n')),
      more,
    );
    body.push(...section, ...rows, '');
  }
  return [...head, '', ...body, ...method, ''].join('\n');
}

const STALE_HEADINGS = ['User', 'Access key', 'Status', 'Age (days)', 'Last used', 'Service', 'Region', 'Reason'];
const DUE_HEADINGS = ['User', 'Access key', 'Age (days)', 'Stale in (days)', 'Created'];

function staleRow(f: Finding, result: ScanResult, keyId: KeyIdStyle): string {
  return tableRow([
    md(f.user),
    `\`${keyLabel(f, keyId)}\``,
    f.status,
    f.ageDays === null ? 'unknown' : count(f.ageDays),
    f.lastUsedDate ? utcDate(f.lastUsedDate) : 'never',
    md(f.lastUsedService ?? '—'),
    md(f.lastUsedRegion ?? '—'),
    f.reasons.map((r) => reasonText(r, result.policy)).join(', '),
  ]);
}

function dueRow(k: DueSoon, keyId: KeyIdStyle): string {
  // Keys from the credential report have no ID: the creation date tells a user's keys apart.
  const id = k.accessKeyId ? `\`${keyLabel(k, keyId)}\`` : '—';
  return tableRow([md(k.user), id, count(k.ageDays), count(k.daysLeft), k.createDate ? utcDate(k.createDate) : '—']);
}

function scanned(result: ScanResult): string {
  const { inventory, judgement } = result;
  let text = `Scanned ${plural(inventory.userCount, 'user', 'users')} and ${plural(judgement.scannedKeys, 'key', 'keys')}`;
  if (judgement.excludedKeys > 0) {
    text += `; ${plural(judgement.excludedKeys, 'key', 'keys')} of ${plural(judgement.excludedUsers.length, 'user', 'users')} excluded`;
  }
  return `${text}.`;
}

function thresholds(result: ScanResult): string {
  const { policy } = result;
  const parts = [`Stale at **${policy.maxAgeDays} days** old`];
  if (policy.maxUnusedDays > 0) parts.push(`or unused for ${policy.maxUnusedDays} days`);
  let text = parts.join(' ');
  text += policy.includeInactive ? ' (inactive keys included)' : ' (active keys)';
  if (policy.warnDays > 0) text += `; due soon within ${policy.warnDays} days of it`;
  return `${text}. Root user keys are always stale.`;
}

function methodSection(result: ScanResult): string[] {
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
  lines.push(`- Ran as \`${md(account.callerArn)}\`.`);
  if (result.judgement.excludedUsers.length > 0) {
    const shown = result.judgement.excludedUsers.slice(0, 20).map(md).join(', ');
    const rest = result.judgement.excludedUsers.length - 20;
    lines.push(`- Excluded users: ${shown}${rest > 0 ? ` and ${count(rest)} more` : ''}.`);
  }
  for (const note of inventory.notes) lines.push(`- ${md(note)}`);
  lines.push('', '</details>');
  return lines;
}
