/**
 * The tracking issue, as data: its hidden marker, its body, the comments, and the plan that turns
 * the last scan and the issues found into the writes to make. Pure: no I/O, no clock of its own.
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../model.js';
import { escapeMarkdown as md, count, fitLines, plural, tableHeader, tableRow } from './markdown.js';
import { accountLabel, keyLabel, reasonText, type KeyIdStyle } from './present.js';
import { failureMessage } from './report.js';
import { utcMinute, type ScanResult } from './scan.js';
import { utcDate } from './days.js';

/** GitHub refuses bodies and comments over 65,536 characters; stay well clear. */
export const ISSUE_BODY_BUDGET = 60_000;
const MARKER_BUDGET = 12_000;
const MARKER_PREFIX = '<!-- iam-stale-keys:tracking ';

export interface TrackedIssue {
  number: number;
  url: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
}

/** What the hidden marker carries: the account, and the stale keys as the body showed them. */
export interface Marker {
  v: 1;
  account: string;
  /** Digest of every stale key's token: equal digests, equal sets. */
  digest: string;
  count: number;
  /** Token → how the key was shown, for naming resolved keys. Cut when too long (`partial`). */
  keys: Record<string, string>;
  partial?: boolean;
}

export interface RenderContext {
  keyId: KeyIdStyle;
  /** Link to this workflow run. */
  runUrl: string | null;
  /** The account's last closed tracking issue, to link from a new one. */
  previous: { number: number; url: string } | null;
}

/**
 * A short, stable, non-reversible token for a key: equal across runs, useless to anyone who reads
 * it in a public repository.
 */
export function keyToken(
  accountId: string,
  key: Pick<Finding, 'accessKeyId' | 'root' | 'user' | 'createDate'>,
): string {
  const id = key.accessKeyId ?? `${key.root ? 'root' : key.user}@${key.createDate?.toISOString() ?? 'unknown'}`;
  return createHash('sha256').update(`${accountId}:${id}`).digest('hex').slice(0, 12);
}

function shown(f: Finding, keyId: KeyIdStyle): string {
  return `${keyLabel(f, keyId)} (${f.user})`;
}

export function buildMarker(result: ScanResult, keyId: KeyIdStyle): Marker {
  const tokens = result.judgement.stale.map((f) => [keyToken(result.account.id, f), shown(f, keyId)] as const);
  const digest = createHash('sha256')
    .update(
      tokens
        .map(([t]) => t)
        .sort()
        .join(','),
    )
    .digest('hex')
    .slice(0, 16);
  const marker: Marker = { v: 1, account: result.account.id, digest, count: tokens.length, keys: {} };
  let size = 200;
  for (const [token, label] of tokens) {
    size += token.length + label.length + 8;
    if (size > MARKER_BUDGET) {
      marker.partial = true;
      break;
    }
    marker.keys[token] = label;
  }
  return marker;
}

/** `-->` cannot occur in JSON of IAM names and key IDs, but escape `>` anyway so the comment always ends where we say. */
export function renderMarker(marker: Marker): string {
  return `${MARKER_PREFIX}${JSON.stringify(marker).replace(/>/g, '\\u003e')} -->`;
}

export function parseMarker(body: string | null | undefined): Marker | null {
  if (!body) return null;
  const start = body.indexOf(MARKER_PREFIX);
  if (start < 0) return null;
  const end = body.indexOf(' -->', start);
  if (end < 0) return null;
  try {
    const marker = JSON.parse(body.slice(start + MARKER_PREFIX.length, end)) as Marker;
    return marker.v === 1 && typeof marker.account === 'string' && typeof marker.digest === 'string' ? marker : null;
  } catch {
    return null;
  }
}

export function issueTitle(template: string, result: ScanResult): string {
  return template.replaceAll('{account}', accountLabel(result.account)).slice(0, 256);
}

const STAMP = 'Last scanned ';

/** The issue body: the current state of the account, complete on its own. */
export function renderIssueBody(result: ScanResult, ctx: RenderContext, previousBody: string | null = null): string {
  const { judgement, policy, account } = result;
  const stale = judgement.stale;
  const marker = renderMarker(buildMarker(result, ctx.keyId));
  const run = ctx.runUrl ? `[this workflow run](${ctx.runUrl})` : 'iam-stale-keys';
  const head = [
    marker,
    `## Stale AWS access keys in ${md(accountLabel(account))}`,
    '',
    stale.length > 0
      ? `**${md(failureMessage(result))}.**`
      : `✅ **No stale access keys remain in account ${md(accountLabel(account))}.**`,
    '',
    `${STAMP}${utcMinute(result.now)} by ${run}: ${plural(result.inventory.userCount, 'user', 'users')} and ${plural(judgement.scannedKeys, 'key', 'keys')}; a key is stale at ${policy.maxAgeDays} days${policy.maxUnusedDays > 0 ? ` or after ${policy.maxUnusedDays} days unused` : ''}.`,
    '',
  ];
  const tail = [
    ...(ctx.previous ? [`Previously tracked in #${ctx.previous.number}.`, ''] : []),
    '<sub>Kept up to date by iam-stale-keys on every scan, and closed when no stale keys remain.</sub>',
  ];
  if (stale.length === 0) return [...head, ...tail].join('\n');

  // No run link here: it would make every run's body differ from the last.
  const more = (n: number) =>
    `\n_…and ${count(n)} more: see the summary of the run linked above, and its report artifact._`;
  const rows = fitLines(
    stale.map((f) => issueRow(f, result, ctx.keyId)),
    26_000,
    more,
  );
  const ticked = tickedLabels(previousBody);
  const tasks = fitLines(
    stale.map((f) => {
      const label = keyLabel(f, ctx.keyId);
      const age = f.ageDays === null ? '' : `, ${plural(f.ageDays, 'day', 'days')}`;
      return `- [${ticked.has(label) ? 'x' : ' '}] \`${label}\` (${md(f.user)}${age})`;
    }),
    16_000,
    more,
  );
  return [
    ...head,
    tableHeader(['User', 'Access key', 'Status', 'Age (days)', 'Last used', 'Reason']),
    ...rows,
    '',
    '### Rotate each key',
    '',
    ...tasks,
    '',
    ...ROTATION_STEPS,
    '',
    ...tail,
  ].join('\n');
}

const ROTATION_STEPS = [
  'For each key, without an outage:',
  '1. Create a second access key for the user: `aws iam create-access-key --user-name USER`.',
  '2. Move every application, CI secret and config that uses the old key to the new one.',
  '3. Deactivate the old key: `aws iam update-access-key --user-name USER --access-key-id OLD --status Inactive`.',
  "4. Watch for breakage for a few days: application errors, and the old key's last-used date in IAM.",
  '5. Delete the old key: `aws iam delete-access-key --user-name USER --access-key-id OLD`.',
  '',
  'A root user key should not exist at all: sign in as the root user, delete it, and use IAM roles instead.',
];

function issueRow(f: Finding, result: ScanResult, keyId: KeyIdStyle): string {
  const used = f.lastUsedDate
    ? `${utcDate(f.lastUsedDate)}${f.lastUsedService ? ` (${md(f.lastUsedService)})` : ''}`
    : 'never';
  return tableRow([
    md(f.user),
    `\`${keyLabel(f, keyId)}\``,
    f.status,
    f.ageDays === null ? 'unknown' : count(f.ageDays),
    used,
    f.reasons.map((r) => reasonText(r, result.policy)).join(', '),
  ]);
}

/** Keys someone ticked in the task list, so a new body keeps their ticks. */
function tickedLabels(body: string | null): Set<string> {
  const ticked = new Set<string>();
  for (const m of (body ?? '').matchAll(/^- \[[xX]\] `([^`]+)`/gm)) ticked.add(m[1]!);
  return ticked;
}

/** The body without the line that changes on every run, to tell a real change from a re-run. */
function withoutStamp(body: string): string {
  return body
    .split('\n')
    .filter((line) => !line.startsWith(STAMP))
    .join('\n')
    .trim();
}

/** One comment saying what changed since the body was last written, or `null` when nothing did. */
export function renderChangeComment(result: ScanResult, previous: Marker | null, ctx: RenderContext): string | null {
  const current = buildMarker(result, ctx.keyId);
  if (previous && previous.digest === current.digest) return null;
  const when = `${utcMinute(result.now)}${ctx.runUrl ? `, [run](${ctx.runUrl})` : ''}`;
  const now = plural(current.count, 'stale key', 'stale keys');

  if (!previous || previous.partial || current.partial) {
    const was = previous ? `was ${count(previous.count)}, ` : '';
    return `The stale access keys changed (${was}now ${now}) in the scan of ${when}. The issue body has the current list.`;
  }
  const tokens = new Map(result.judgement.stale.map((f) => [keyToken(result.account.id, f), f]));
  const added = [...tokens].filter(([t]) => !(t in previous.keys)).map(([, f]) => f);
  const resolved = Object.entries(previous.keys)
    .filter(([t]) => !tokens.has(t))
    .map(([, label]) => label);

  const lines = [`The stale access keys changed in the scan of ${when}: now ${now}.`, ''];
  if (added.length > 0) {
    lines.push(`**Newly stale (${count(added.length)}):**`);
    lines.push(
      ...fitLines(
        added.map(
          (f) =>
            `- \`${keyLabel(f, ctx.keyId)}\` (${md(f.user)}${f.ageDays === null ? '' : `, ${plural(f.ageDays, 'day', 'days')}`})`,
        ),
        25_000,
        (n) => `- …and ${count(n)} more`,
      ),
      '',
    );
  }
  if (resolved.length > 0) {
    lines.push(`**Resolved (${count(resolved.length)}):**`);
    lines.push(
      ...fitLines(
        resolved.map((label) => `- ${md(label)}`),
        25_000,
        (n) => `- …and ${count(n)} more`,
      ),
    );
  }
  return lines.join('\n').trim();
}

export function renderResolvedComment(result: ScanResult, ctx: RenderContext, closing: boolean): string {
  const run = ctx.runUrl ? ` ([run](${ctx.runUrl}))` : '';
  return `✅ No stale access keys remain in account ${md(accountLabel(result.account))} as of ${utcMinute(result.now)}${run}.${closing ? ' Closing this issue.' : ''}`;
}

/** What to do with an issue that exists. */
export type IssuePlan =
  | { action: 'update'; issue: TrackedIssue; body: string; comment: string | null }
  | { action: 'unchanged'; issue: TrackedIssue }
  | { action: 'close'; issue: TrackedIssue; comment: string };

export type TrackingPlan = IssuePlan | { action: 'create'; title: string; body: string } | { action: 'none' };

type PlanOptions = { titleTemplate: string; closeResolved: boolean };

/** What to write, given the scan and the account's open tracking issue (if any). */
export function planTracking(
  result: ScanResult,
  open: TrackedIssue | null,
  options: PlanOptions,
  ctx: RenderContext,
): TrackingPlan {
  if (open) return planForIssue(result, open, options, ctx);
  if (result.judgement.stale.length === 0) return { action: 'none' };
  return { action: 'create', title: issueTitle(options.titleTemplate, result), body: renderIssueBody(result, ctx) };
}

/** What to write to the account's open tracking issue. */
export function planForIssue(
  result: ScanResult,
  open: TrackedIssue,
  options: PlanOptions,
  ctx: RenderContext,
): IssuePlan {
  const stale = result.judgement.stale.length > 0;
  if (!stale && options.closeResolved) {
    return { action: 'close', issue: open, comment: renderResolvedComment(result, ctx, true) };
  }
  const body = renderIssueBody(result, ctx, open.body);
  if (withoutStamp(body) === withoutStamp(open.body)) return { action: 'unchanged', issue: open };
  const previous = parseMarker(open.body);
  const comment = stale
    ? renderChangeComment(result, previous, ctx)
    : previous?.count
      ? renderResolvedComment(result, ctx, false)
      : null;
  return { action: 'update', issue: open, body, comment };
}
