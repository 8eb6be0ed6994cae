/**
 * The tracking issue, as data: its hidden marker, its body, the announcements of changes, how the
 * action knows its own issue, and the plan that turns the last scan and the issue found into the
 * writes to make. Pure: no I/O, no clock of its own (the scan's `now`).
 *
 * What the issue lists is the stale keys the scan saw plus, when the scan was incomplete, the keys
 * listed before whose users it could not see ("carried"): a key is called resolved only when a scan
 * saw its user and found it no longer stale.
 */
import { createHash } from 'node:crypto';
import { ROOT_USER, type Finding, type Gap } from '../model.js';
import { isIncomplete, sawUser, scanGaps } from '../account/coverage.js';
import { utcDate } from '../account/days.js';
import {
  byteLength,
  escapeMarkdown as md,
  count,
  fitLines,
  plural,
  tableHeader,
  tableRow,
} from '../render/markdown.js';
import { accountLabel, keyLabel, reasonText, userMarkdown, type KeyIdStyle } from '../render/present.js';
import { failureMessage } from '../account/report.js';
import { rotationSteps } from './rotation.js';
import { utcMinute, type ScanResult } from '../account/result.js';

/**
 * GitHub refuses bodies and comments over 65,536 characters; stay well clear. The parts: the
 * marker, the table (less the keys not checked), the task list, the rotation steps (a few
 * keys' commands) and the prose around them.
 */
export const ISSUE_BODY_BUDGET = 60_000;
const MARKER_BUDGET = 12_000;
const TABLE_BUDGET = 26_000;
const TASKS_BUDGET = 16_000;
const CARRIED_BUDGET = 8_000;
const NOTICE_BUDGET = 2_000;
const MARKER_PREFIX = '<!-- iam-stale-keys:tracking ';
const ANNOUNCE_PREFIX = '<!-- iam-stale-keys:announce ';
const ACCOUNT_LABEL_PREFIX = 'aws-account:';

export interface TrackedIssue {
  number: number;
  url: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  locked: boolean;
  comments: number;
}

/** What the hidden marker carries: the account, and the keys the body lists as it showed them. */
export interface Marker {
  v: 1;
  account: string;
  /** Digest of every listed key's token: equal digests, equal sets. */
  digest: string;
  count: number;
  /** Token → `KEY (user)` as the body showed it, for naming resolved keys. Cut when too long (`partial`). */
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

/** A key listed before that this scan could not see: it stays listed, not called resolved. */
export interface CarriedKey {
  token: string;
  /** `KEY (user)`, as the marker has it. */
  label: string;
}

/** What the issue lists after a scan. */
export interface Listing {
  stale: Finding[];
  carried: CarriedKey[];
  /** Digest of every listed token. */
  digest: string;
  /** A stale key could hide where the scan could not see. */
  incomplete: boolean;
  /** The gaps a stale key could hide in. */
  gaps: Gap[];
}

/** `AKIA… (alice)` → its key and user; `null` when it does not read so. */
export function parseKeyLabel(label: string): { key: string; user: string; root: boolean } | null {
  const m = /^(.*) \(([^()]*)\)$/.exec(label);
  if (!m) return null;
  const user = m[2]!;
  return { key: m[1]!, user, root: user === ROOT_USER || user === 'root' };
}

/** The stale keys the scan saw, and the keys listed before whose users it did not see. */
export function listing(result: ScanResult, previous: Marker | null): Listing {
  const accountId = result.account.id;
  const stale = result.judgement.stale;
  const seen = new Set(stale.map((f) => keyToken(accountId, f)));
  const carried: CarriedKey[] = [];
  if (previous && previous.account === accountId) {
    for (const [token, label] of Object.entries(previous.keys)) {
      if (seen.has(token)) continue;
      const parsed = parseKeyLabel(label);
      // A label that does not say whose key it is cannot be shown seen: keep it.
      if (!parsed || !sawUser(result, parsed.user, parsed.root)) carried.push({ token, label });
    }
  }
  const gaps = scanGaps(result).filter((g) => g.couldHideStale);
  return {
    stale,
    carried,
    digest: digestOf([...seen, ...carried.map((c) => c.token)]),
    incomplete: isIncomplete(result),
    gaps,
  };
}

function digestOf(tokens: readonly string[]): string {
  return createHash('sha256')
    .update([...tokens].sort().join(','))
    .digest('hex')
    .slice(0, 16);
}

function shown(f: Finding, keyId: KeyIdStyle): string {
  return `${keyLabel(f, keyId)} (${f.user})`;
}

/** The marker of a listing. Carried keys go first: no later scan could name them otherwise. */
export function buildMarker(result: ScanResult, keyId: KeyIdStyle, list: Listing = listing(result, null)): Marker {
  const entries: Array<readonly [string, string]> = [
    ...list.carried.map((c) => [c.token, c.label] as const),
    ...list.stale.map((f) => [keyToken(result.account.id, f), shown(f, keyId)] as const),
  ];
  const marker: Marker = { v: 1, account: result.account.id, digest: list.digest, count: entries.length, keys: {} };
  let size = 200;
  for (const [token, label] of entries) {
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
    return marker.v === 1 &&
      typeof marker.account === 'string' &&
      typeof marker.digest === 'string' &&
      typeof marker.keys === 'object' &&
      marker.keys !== null
      ? marker
      : null;
  } catch {
    return null;
  }
}

/**
 * The label that names the account on its tracking issue, beside the issue labels: a run finds the
 * account's issues with one listing filtered by it, however many accounts share the repository.
 * 24 characters for a 12-digit ID, within GitHub's 50.
 */
export function accountIssueLabel(accountId: string): string {
  return `${ACCOUNT_LABEL_PREFIX}${accountId}`;
}

/** The account label's description, for people who find it in the repository's labels. */
export function accountLabelDescription(accountId: string): string {
  return `Tracking issue of AWS account ${accountId}, kept by iam-stale-keys`;
}

/** Whether an issue's labels name an account: issues opened before account labels name none. */
export function hasAccountLabel(labels: readonly string[]): boolean {
  return labels.some((l) => l.toLowerCase().startsWith(ACCOUNT_LABEL_PREFIX));
}

export function issueTitle(template: string, result: ScanResult): string {
  return template.replaceAll('{account}', accountLabel(result.account)).slice(0, 256);
}

/**
 * How the action knows its own issue among those with its labels: by the marker, or, when a person
 * removed or broke the marker, by a title as `issueTitle` renders it for this account (with any
 * alias, or none). A template without `{account}` cannot tell accounts apart: the marker only.
 */
export function ownIssue(
  issue: { title: string; body: string },
  result: ScanResult,
  titleTemplate: string,
): 'marker' | 'title' | null {
  const marker = parseMarker(issue.body);
  if (marker) return marker.account === result.account.id ? 'marker' : null;
  if (!titleTemplate.includes('{account}')) return null;
  const id = result.account.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = titleTemplate
    .split('{account}')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join(`(?:${id}|.+ \\(${id}\\))`);
  return new RegExp(`^${pattern}$`).test(issue.title) || issue.title === issueTitle(titleTemplate, result)
    ? 'title'
    : null;
}

const STAMP = 'Last scanned ';

/** The issue body: the current state of the account, complete on its own. */
export function renderIssueBody(result: ScanResult, ctx: RenderContext, previousBody: string | null = null): string {
  const { judgement, policy, account } = result;
  const previous = parseMarker(previousBody);
  const list = listing(result, previous);
  const { stale, carried } = list;
  const marker = renderMarker(buildMarker(result, ctx.keyId, list));
  const run = ctx.runUrl ? `[this workflow run](${ctx.runUrl})` : 'iam-stale-keys';
  const where = md(accountLabel(account));
  const headline =
    stale.length > 0
      ? `**${md(failureMessage(result))}.**`
      : carried.length === 0 && !list.incomplete
        ? `✅ **No stale access keys remain in account ${where}.**`
        : `**No stale access keys were found in account ${where} among the keys this scan could check.**`;
  const unused = policy.maxUnusedDays > 0 ? ` or after ${plural(policy.maxUnusedDays, 'day', 'days')} unused` : '';
  const head = [
    marker,
    `## Stale AWS access keys in ${where}`,
    '',
    headline,
    '',
    ...incompleteNotice(list),
    `${STAMP}${utcMinute(result.now)} by ${run}: ${plural(result.inventory.userCount, 'user', 'users')} and ${plural(judgement.scannedKeys, 'key', 'keys')}; a key is stale at ${plural(policy.maxAgeDays, 'day', 'days')}${unused}.`,
    '',
  ];
  // An issue keeps the link it was opened with.
  const before = ctx.previous?.number ?? linkedPrevious(previousBody);
  const tail = [
    ...(before ? [`Previously tracked in #${before}.`, ''] : []),
    '<sub>Kept up to date by iam-stale-keys on every scan, and closed when a complete scan finds no stale keys.</sub>',
  ];
  if (stale.length === 0 && carried.length === 0) return [...head, ...tail].join('\n');

  const ticked = tickedLabels(previousBody);
  const task = (label: string, user: string, note: string) =>
    `- [${ticked.has(label) ? 'x' : ' '}] \`${label}\` (${user}${note})`;
  // Carried keys first: their lines come out of the table's budget, so the whole stays in bounds.
  const unchecked = fitLines(
    carried.map((c) => {
      const parsed = parseKeyLabel(c.label);
      return parsed
        ? task(parsed.key, userMarkdown({ user: parsed.user, root: parsed.root }), ', not checked in the last scan')
        : `- ${md(c.label)} (not checked in the last scan)`;
    }),
    CARRIED_BUDGET,
    (n) => `- …and ${count(n)} more`,
  );
  const body = [...head];
  let tasks: string[] = [];
  if (stale.length > 0) {
    // No run link here: it would make every run's body differ from the last.
    const more = (n: number) =>
      `\n_…and ${count(n)} more: see the summary of the run linked above, and its report artifact._`;
    const rows = stale.map((f) => issueRow(f, result, ctx.keyId));
    tasks = stale.map((f) =>
      task(keyLabel(f, ctx.keyId), userMarkdown(f), f.ageDays === null ? '' : `, ${plural(f.ageDays, 'day', 'days')}`),
    );
    // The table and the task list stop at the same key.
    const tableBudget = TABLE_BUDGET - byteLength(unchecked.join('\n'));
    const kept = Math.min(keptCount(rows, tableBudget, more), keptCount(tasks, TASKS_BUDGET, more));
    const cut = (lines: string[]) => [
      ...lines.slice(0, kept),
      ...(kept < lines.length ? [more(lines.length - kept)] : []),
    ];
    body.push(tableHeader(['User', 'Access key', 'Status', 'Age (days)', 'Last used', 'Reason']), ...cut(rows), '');
    tasks = cut(tasks);
  }
  if (carried.length > 0) {
    const one = carried.length === 1;
    body.push(
      `### Not checked in the last scan (${count(carried.length)})`,
      '',
      `${one ? 'This key was' : 'These keys were'} stale in an earlier scan. The last scan could not see ${one ? "its user's keys" : "their users' keys"}, so ${one ? 'it stays' : 'they stay'} listed until a scan does.`,
      '',
      ...unchecked,
      '',
    );
  }
  if (stale.length > 0) body.push('### Rotate each key', '', ...tasks, '', ...rotationSteps(stale, ctx.keyId), '');
  return [...body, ...tail].join('\n');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function linkedPrevious(body: string | null): number | null {
  const m = /^Previously tracked in #(\d+)\.$/m.exec(body ?? '');
  return m ? Number(m[1]) : null;
}

function incompleteNotice(list: Listing): string[] {
  if (!list.incomplete) return [];
  return [
    '⚠️ **This scan could not check everything**, so this issue stays open and no key it could not see is called resolved:',
    '',
    ...fitLines(
      list.gaps.map((g) => `- ${md(clip(g.what, 400))}. ${md(clip(g.fix, 200))}.`),
      NOTICE_BUDGET,
      (n) => `- …and ${count(n)} more: see the summary of the run.`,
    ),
    '',
  ];
}

/** How many of `lines` `fitLines` keeps within `budget`. */
function keptCount(lines: readonly string[], budget: number, more: (omitted: number) => string): number {
  const out = fitLines(lines, budget, more);
  return out.length < lines.length || out.at(-1) !== lines.at(-1) ? out.length - 1 : lines.length;
}

function issueRow(f: Finding, result: ScanResult, keyId: KeyIdStyle): string {
  const used = f.lastUsedDate
    ? `${utcDate(f.lastUsedDate)}${f.lastUsedService ? ` (${md(f.lastUsedService)})` : ''}`
    : f.lastUseKnown
      ? 'never'
      : 'unknown';
  return tableRow([
    userMarkdown(f),
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

// ----- announcements ----------------------------------------------------------------------------

/**
 * A comment that announces the issue's new set of keys carries this hidden marker, so that runs
 * that overlap post one announcement per change, and a run that finds the change announced does
 * not repeat it.
 */
export function renderAnnouncementMarker(account: string, digest: string): string {
  return `${ANNOUNCE_PREFIX}${JSON.stringify({ account, digest })} -->`;
}

export function parseAnnouncement(body: string): { account: string; digest: string } | null {
  const start = body.lastIndexOf(ANNOUNCE_PREFIX);
  if (start < 0) return null;
  const end = body.indexOf(' -->', start);
  if (end < 0) return null;
  try {
    const a = JSON.parse(body.slice(start + ANNOUNCE_PREFIX.length, end)) as { account?: unknown; digest?: unknown };
    return typeof a.account === 'string' && typeof a.digest === 'string'
      ? { account: a.account, digest: a.digest }
      : null;
  } catch {
    return null;
  }
}

interface CommentLike {
  id: number;
  body: string;
}

/** The digest the account's newest announcement names, among `comments` (oldest first). */
export function latestAnnounced(comments: readonly CommentLike[], account: string): string | null {
  for (let i = comments.length - 1; i >= 0; i--) {
    const a = parseAnnouncement(comments[i]!.body);
    if (a?.account === account) return a.digest;
  }
  return null;
}

/**
 * The comment that stands for the announcement of `digest`: the first of the run of announcements
 * of it since the last announcement of anything else. Every run that posted a later one deletes
 * its own, so overlapping runs leave exactly one.
 */
export function standingAnnouncement(comments: readonly CommentLike[], account: string, digest: string): number | null {
  let first: number | null = null;
  for (let i = comments.length - 1; i >= 0; i--) {
    const a = parseAnnouncement(comments[i]!.body);
    if (a?.account !== account) continue;
    if (a.digest !== digest) break;
    first = comments[i]!.id;
  }
  return first;
}

/** A key as the comments show it: `` `AKIA…` (`alice`) ``. */
function labelMarkdown(label: string): string {
  const parsed = parseKeyLabel(label);
  return parsed ? `\`${parsed.key}\` (${userMarkdown({ user: parsed.user, root: parsed.root })})` : md(label);
}

/** The comment announcing a new set of keys: what was added and what was resolved since `previous`. */
export function renderChangeComment(result: ScanResult, previous: Marker, ctx: RenderContext): string {
  const list = listing(result, previous);
  const current = buildMarker(result, ctx.keyId, list);
  const when = `${utcMinute(result.now)}${ctx.runUrl ? `, [run](${ctx.runUrl})` : ''}`;
  const unchecked = list.carried.length > 0 ? `, and ${plural(list.carried.length, 'key', 'keys')} not checked` : '';
  const now = `${plural(list.stale.length, 'stale key', 'stale keys')}${unchecked}`;
  const lines: string[] = [];
  if (previous.partial || current.partial) {
    lines.push(
      `The stale access keys changed (was ${count(previous.count)}, now ${now}) in the scan of ${when}. The issue body has the current list.`,
    );
  } else {
    const tokens = new Map(list.stale.map((f) => [keyToken(result.account.id, f), f]));
    const carried = new Set(list.carried.map((c) => c.token));
    const added = [...tokens].filter(([t]) => !(t in previous.keys)).map(([, f]) => f);
    const resolved = Object.entries(previous.keys)
      .filter(([t]) => !tokens.has(t) && !carried.has(t))
      .map(([, label]) => label);
    lines.push(`The stale access keys changed in the scan of ${when}: now ${now}.`, '');
    if (added.length > 0) {
      lines.push(
        `**Newly stale (${count(added.length)}):**`,
        ...fitLines(
          added.map(
            (f) =>
              `- \`${keyLabel(f, ctx.keyId)}\` (${userMarkdown(f)}${f.ageDays === null ? '' : `, ${plural(f.ageDays, 'day', 'days')}`})`,
          ),
          25_000,
          (n) => `- …and ${count(n)} more`,
        ),
        '',
      );
    }
    if (resolved.length > 0) {
      lines.push(
        `**Resolved (${count(resolved.length)}):**`,
        ...fitLines(
          resolved.map((label) => `- ${labelMarkdown(label)}`),
          25_000,
          (n) => `- …and ${count(n)} more`,
        ),
        '',
      );
    }
  }
  const notice = list.incomplete
    ? '\n\n⚠️ This scan could not check everything: keys it could not see stay listed and are not called resolved.'
    : '';
  return `${lines.join('\n').trim()}${notice}\n\n${renderAnnouncementMarker(result.account.id, list.digest)}`;
}

/** The comment announcing that no stale key remains (the scan was complete). */
export function renderResolvedComment(result: ScanResult, ctx: RenderContext, closing: boolean): string {
  const run = ctx.runUrl ? ` ([run](${ctx.runUrl}))` : '';
  const digest = listing(result, null).digest;
  return `✅ No stale access keys remain in account ${md(accountLabel(result.account))} as of ${utcMinute(result.now)}${run}.${closing ? ' Closing this issue.' : ''}\n\n${renderAnnouncementMarker(result.account.id, digest)}`;
}

// ----- plans ------------------------------------------------------------------------------------

/** A comment that announces the issue's new set of keys (`digest`), posted once per change. */
export interface Announcement {
  digest: string;
  comment: string;
}

/**
 * What to do with an issue that exists. `update` announces the change first (when there is one)
 * and then rewrites the body: a body that records a set of keys means that set was announced, so a
 * run that stops between the two leaves the next run to rewrite the body without announcing again.
 * `close` rewrites the body to the resolved state and closes in one write, then announces.
 * `restored`: the marker was missing or broken, so what changed since cannot be told.
 */
export type IssuePlan =
  | { action: 'update'; issue: TrackedIssue; body: string; announce: Announcement | null; restored: boolean }
  | { action: 'unchanged'; issue: TrackedIssue }
  | { action: 'close'; issue: TrackedIssue; body: string; announce: Announcement };

export type TrackingPlan = IssuePlan | { action: 'create'; title: string; body: string } | { action: 'none' };

export type PlanOptions = { titleTemplate: string; closeResolved: boolean };

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

/** What to write to the account's open tracking issue. An incomplete scan never closes it. */
export function planForIssue(
  result: ScanResult,
  open: TrackedIssue,
  options: PlanOptions,
  ctx: RenderContext,
): IssuePlan {
  const found = parseMarker(open.body);
  const previous = found?.account === result.account.id ? found : null;
  const list = listing(result, previous);
  const resolved = list.stale.length === 0 && list.carried.length === 0 && !list.incomplete;
  const body = renderIssueBody(result, ctx, open.body);
  if (resolved && options.closeResolved) {
    return {
      action: 'close',
      issue: open,
      body,
      announce: { digest: list.digest, comment: renderResolvedComment(result, ctx, true) },
    };
  }
  if (withoutStamp(body) === withoutStamp(open.body)) return { action: 'unchanged', issue: open };
  if (!previous) return { action: 'update', issue: open, body, announce: null, restored: true };
  if (previous.digest === list.digest) return { action: 'update', issue: open, body, announce: null, restored: false };
  const comment = resolved ? renderResolvedComment(result, ctx, false) : renderChangeComment(result, previous, ctx);
  return { action: 'update', issue: open, body, announce: { digest: list.digest, comment }, restored: false };
}
