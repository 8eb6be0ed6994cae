/**
 * The tracking issue, as data: its body, the announcements of changes, how the action knows its
 * own issue, and the plan that turns the last scan and the issue found into the writes to make. Its
 * hidden marker is in ./marker.ts. Pure: no I/O, no clock of its own (the scan's `now`).
 *
 * What the issue lists is the stale keys the scan saw, the stale keys their users' tags exempt until
 * a date (accepted risk: listed, never called resolved, and keeping the issue open), plus, when the
 * scan was incomplete, the keys listed before whose users it could not see ("carried"): a key is
 * called resolved only when a scan saw its user and found it neither stale nor exempted.
 *
 * A key that moves between stale and exempted changes what the issue lists: the change is announced
 * in a comment (the exemption granted, or ended), and the run reports its verdict as changed, so
 * `notify-when: changed` tells people of it. A new exemption date or owner rewrites the body only.
 *
 * The marker records the UTC day the issue first listed each key (`firstListed`), for a notice
 * period: carried from run to run, and today's for a key newly listed or whose day is missing (a
 * marker from an earlier version, one cut for size, a body a person edited), so a notice never ends
 * early.
 */
import { ROOT_USER, type ExemptedFinding, type Finding, type Gap, type Judgement } from '../model.js';
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
import { digestOf, keyToken, parseMarker, readGroups, renderMarker, writeGroups, type Marker } from './marker.js';
import { ownerCell, ownerNote, ownerOf, reasonCode, refusedNote, staleNotes } from './people.js';

export { keyToken, parseMarker, renderMarker, type Marker } from './marker.js';

/**
 * GitHub refuses bodies and comments over 65,536 characters; stay well clear. The marker comes
 * first: the days keys were first listed (`DATES_BUDGET`, about 3,000 keys), then the keys' labels
 * in what is left of `MARKER_BUDGET`. What the marker leaves, less the prose (`PROSE_RESERVE`: the
 * heading, the notice of an incomplete scan, the rotation steps, the closing lines), goes to the
 * lists: the exempted keys and the keys not checked take at most a share each, then the table
 * and the task list of stale keys share the rest.
 */
export const ISSUE_BODY_BUDGET = 60_000;
const MARKER_BUDGET = 32_000;
const DATES_BUDGET = 24_000;
const LABELS_BUDGET = 12_000;
const PROSE_RESERVE = 7_000;
const EXEMPTED_BUDGET = 8_000;
const CARRIED_BUDGET = 8_000;
const NOTICE_BUDGET = 2_000;
const ACCOUNT_LABEL_PREFIX = 'aws-account:';
const ANNOUNCE_PREFIX = '<!-- iam-stale-keys:announce ';

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

export interface RenderContext {
  keyId: KeyIdStyle;
  /** Link to this workflow run. */
  runUrl: string | null;
  /** The account's last closed tracking issue, to link from a new one. */
  previous: { number: number; url: string } | null;
}

/** A key listed before that this scan could not see: it stays listed, not called resolved. */
export interface CarriedKey {
  token: string;
  /** `KEY (user)`, as the marker has it. */
  label: string;
  /** The last day of its exemption when it was exempted, else `null`. */
  exemptUntil: string | null;
}

/** What the issue lists after a scan. */
export interface Listing {
  stale: Finding[];
  /** Stale keys exempted until a date: listed, not failing the check. */
  exempted: ExemptedFinding[];
  carried: CarriedKey[];
  /** Digest of every listed token, the exempted ones marked. */
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

/** The marker in an issue's body when it is this account's, else `null`. */
export function accountMarker(body: string | null | undefined, result: ScanResult): Marker | null {
  const marker = parseMarker(body);
  return marker?.account === result.account.id ? marker : null;
}

/** The keys the issue lists: stale or exempted. Nothing else opens an issue or keeps one open. */
export function listedCount(judgement: Judgement): number {
  return judgement.stale.length + judgement.exempted.length;
}

/** The stale and exempted keys the scan saw, and the keys listed before whose users it did not see. */
export function listing(result: ScanResult, previous: Marker | null): Listing {
  const accountId = result.account.id;
  const { stale, exempted } = result.judgement;
  const staleTokens = stale.map((f) => keyToken(accountId, f));
  const exemptTokens = exempted.map((f) => keyToken(accountId, f));
  const seen = new Set([...staleTokens, ...exemptTokens]);
  const carried: CarriedKey[] = [];
  if (previous && previous.account === accountId) {
    const wasExempt = readGroups(previous.exempt);
    for (const [token, label] of Object.entries(previous.keys)) {
      if (seen.has(token)) continue;
      const parsed = parseKeyLabel(label);
      // A label that does not say whose key it is cannot be shown seen: keep it.
      if (!parsed || !sawUser(result, parsed.user, parsed.root)) {
        carried.push({ token, label, exemptUntil: wasExempt.get(token) ?? null });
      }
    }
  }
  const gaps = scanGaps(result).filter((g) => g.couldHideStale);
  return {
    stale,
    exempted,
    carried,
    digest: digestOf(
      [...staleTokens, ...carried.filter((c) => !c.exemptUntil).map((c) => c.token)],
      [...exemptTokens, ...carried.filter((c) => c.exemptUntil).map((c) => c.token)],
    ),
    incomplete: isIncomplete(result),
    gaps,
  };
}

/** Every listed key's token: carried, stale, exempted. */
function listedTokens(list: Listing, accountId: string): string[] {
  return [
    ...list.carried.map((c) => c.token),
    ...list.stale.map((f) => keyToken(accountId, f)),
    ...list.exempted.map((f) => keyToken(accountId, f)),
  ];
}

/**
 * The UTC day (`YYYY-MM-DD`) the issue first listed each key it lists after this scan (stale,
 * exempted, not checked), by `keyToken`: the day `previous` (the marker of the account's issue
 * before this run) records, else `result.now`'s. A key the marker lists without a day (an earlier
 * version's marker, one cut for size, a person's edit) gets today's, as does a day after today, so
 * a notice that counts from it is never shorter than the notice given. A run reads this before it
 * acts on a notice; the body it then writes records the same days.
 */
export function firstListed(previous: Marker | null, result: ScanResult): Map<string, string> {
  const own = previous?.account === result.account.id ? previous : null;
  return daysListed(listing(result, own), own, result);
}

function daysListed(list: Listing, previous: Marker | null, result: ScanResult): Map<string, string> {
  const today = utcDate(result.now);
  const known = previous?.account === result.account.id ? readGroups(previous.since) : new Map<string, string>();
  // A key whose exemption just ended is stale again from today: its notice starts over.
  const wasExempt = previous?.account === result.account.id ? readGroups(previous.exempt) : new Map<string, string>();
  const staleNow = new Set(list.stale.map((f) => keyToken(result.account.id, f)));
  const days = new Map<string, string>();
  for (const token of listedTokens(list, result.account.id)) {
    const day = wasExempt.has(token) && staleNow.has(token) ? undefined : known.get(token);
    days.set(token, day !== undefined && day <= today ? day : today);
  }
  return days;
}

function shown(f: Finding, keyId: KeyIdStyle): string {
  return `${keyLabel(f, keyId)} (${f.user})`;
}

/**
 * The marker of a listing. The days come first, within `DATES_BUDGET`: the exempted keys' last days,
 * then the days keys were first listed, earliest first (a key cut loses its day and gets today's
 * next run: its notice restarts, never ends early). Then the labels, within what is left: carried
 * keys first, since no later scan could name them otherwise. `previous` is the marker the days are
 * carried from.
 */
export function buildMarker(
  result: ScanResult,
  keyId: KeyIdStyle,
  list: Listing = listing(result, null),
  previous: Marker | null = null,
): Marker {
  const accountId = result.account.id;
  const entries: Array<readonly [string, string]> = [
    ...list.carried.map((c) => [c.token, c.label] as const),
    ...list.stale.map((f) => [keyToken(accountId, f), shown(f, keyId)] as const),
    ...list.exempted.map((f) => [keyToken(accountId, f), shown(f, keyId)] as const),
  ];
  const marker: Marker = { v: 1, account: accountId, digest: list.digest, count: entries.length, keys: {} };
  const exempt = writeGroups(
    [
      ...list.carried.flatMap((c) => (c.exemptUntil ? [[c.token, c.exemptUntil] as const] : [])),
      ...list.exempted.map((f) => [keyToken(accountId, f), f.exemption.until] as const),
    ],
    DATES_BUDGET,
  );
  const since = writeGroups(daysListed(list, previous, result), DATES_BUDGET - exempt.used);
  if (Object.keys(exempt.groups).length > 0) marker.exempt = exempt.groups;
  if (Object.keys(since.groups).length > 0) marker.since = since.groups;
  let size = 200;
  const budget = Math.min(LABELS_BUDGET, MARKER_BUDGET - exempt.used - since.used);
  for (const [token, label] of entries) {
    size += token.length + label.length + 8;
    if (size > budget) {
      marker.partial = true;
      break;
    }
    marker.keys[token] = label;
  }
  if (exempt.cut + since.cut > 0) marker.partial = true;
  return marker;
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
  const { stale, exempted, carried } = list;
  const marker = renderMarker(buildMarker(result, ctx.keyId, list, previous));
  const run = ctx.runUrl ? `[this workflow run](${ctx.runUrl})` : 'iam-stale-keys';
  const where = md(accountLabel(account));
  const unused = policy.maxUnusedDays > 0 ? ` or after ${plural(policy.maxUnusedDays, 'day', 'days')} unused` : '';
  const head = [
    marker,
    `## Stale AWS access keys in ${where}`,
    '',
    headline(result, list),
    '',
    ...incompleteNotice(list),
    `${STAMP}${utcMinute(result.now)} by ${run}: ${plural(result.inventory.userCount, 'user', 'users')} and ${plural(judgement.scannedKeys, 'key', 'keys')}; a key is stale at ${plural(policy.maxAgeDays, 'day', 'days')}${unused}.`,
    '',
  ];
  // An issue keeps the link it was opened with.
  const before = ctx.previous?.number ?? linkedPrevious(previousBody);
  const tail = [
    ...(before ? [`Previously tracked in #${before}.`, ''] : []),
    '<sub>Kept up to date by iam-stale-keys on every scan, and closed when a complete scan finds no stale or exempted keys.</sub>',
  ];
  if (stale.length === 0 && exempted.length === 0 && carried.length === 0) return [...head, ...tail].join('\n');

  // What the marker leaves, less the prose, for the lists.
  const lists = ISSUE_BODY_BUDGET - byteLength(marker) - PROSE_RESERVE;
  const ticked = tickedLabels(previousBody);
  const task = (label: string, user: string, note: string) =>
    `- [${ticked.has(label) ? 'x' : ' '}] \`${label}\` (${user}${note})`;
  const exemptedRows = fitLines(
    exempted.map((f) => exemptedRow(f, judgement, ctx.keyId)),
    Math.min(EXEMPTED_BUDGET, Math.floor(lists / 5)),
    (n) => `\n_…and ${count(n)} more: see the summary of the run linked above, and its report artifact._`,
  );
  // The exempted keys and the keys not checked first: what they take comes out of the stale keys' share.
  const unchecked = fitLines(
    carried.map((c) => {
      const parsed = parseKeyLabel(c.label);
      const note = `${c.exemptUntil ? `, exempted until ${c.exemptUntil}` : ''}, not checked in the last scan`;
      return parsed
        ? task(parsed.key, userMarkdown({ user: parsed.user, root: parsed.root }), note)
        : `- ${md(c.label)} (${note.slice(2)})`;
    }),
    Math.min(CARRIED_BUDGET, Math.floor(lists / 5)),
    (n) => `- …and ${count(n)} more`,
  );
  const rest = lists - byteLength(exemptedRows.join('\n')) - byteLength(unchecked.join('\n'));
  const body = [...head];
  let tasks: string[] = [];
  if (stale.length > 0) {
    // No run link here: it would make every run's body differ from the last.
    const more = (n: number) =>
      `\n_…and ${count(n)} more: see the summary of the run linked above, and its report artifact._`;
    const owned = stale.some((f) => ownerCell(ownerOf(f, judgement)) !== '');
    const rows = stale.map((f) => issueRow(f, result, ctx.keyId, owned));
    tasks = stale.map((f) =>
      task(
        keyLabel(f, ctx.keyId),
        userMarkdown(f),
        `${f.ageDays === null ? '' : `, ${plural(f.ageDays, 'day', 'days')}`}${staleNotes(f, judgement, true)}${deactivationNote(f, result)}`,
      ),
    );
    // The table and the task list stop at the same key.
    const tableBudget = Math.floor(rest * 0.6);
    const kept = Math.min(keptCount(rows, tableBudget, more), keptCount(tasks, rest - tableBudget, more));
    const cut = (lines: string[]) => [
      ...lines.slice(0, kept),
      ...(kept < lines.length ? [more(lines.length - kept)] : []),
    ];
    const headings = ['User', 'Access key', 'Status', 'Age (days)', 'Last used', 'Reason'];
    if (owned) headings.splice(2, 0, 'Owner');
    body.push(tableHeader(headings), ...cut(rows), '');
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
  if (exempted.length > 0) {
    const one = exempted.length === 1;
    body.push(
      `### Exempted (accepted risk) (${count(exempted.length)})`,
      '',
      `${one ? 'This key is' : 'These keys are'} stale, but ${one ? "its user's" : "their users'"} tags accept the risk until the day shown (UTC), so ${one ? 'it does' : 'they do'} not fail the check. ${one ? 'It comes' : 'They come'} back as stale when the exemption ends.`,
      '',
      tableHeader(['User', 'Access key', 'Age (days)', 'Owner', 'Exempt until', 'Reason']),
      ...exemptedRows,
      '',
    );
  }
  return [...body, ...tail].join('\n');
}

/** The body's first line of prose: what fails the check, and what is exempted. */
function headline(result: ScanResult, list: Listing): string {
  const where = md(accountLabel(result.account));
  const exempted = list.exempted.length;
  if (list.stale.length > 0) {
    const also =
      exempted > 0
        ? ` ${plural(exempted, 'other key is', 'other keys are')} exempted as accepted risk, listed below.`
        : '';
    return `**${md(failureMessage(result))}.**${also}`;
  }
  if (list.carried.length === 0 && !list.incomplete) {
    return exempted > 0
      ? `**${plural(exempted, 'stale access key', 'stale access keys')} in account ${where} ${exempted === 1 ? 'is' : 'are'} exempted as accepted risk until the days below; none fails the check.**`
      : `✅ **No stale access keys remain in account ${where}.**`;
  }
  const also =
    exempted > 0
      ? ` ${plural(exempted, 'stale key is', 'stale keys are')} exempted as accepted risk, listed below.`
      : '';
  return `**No stale access keys were found in account ${where} among the keys this scan could check.**${also}`;
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

function issueRow(f: Finding, result: ScanResult, keyId: KeyIdStyle, owned: boolean): string {
  const used = f.lastUsedDate
    ? `${utcDate(f.lastUsedDate)}${f.lastUsedService ? ` (${md(f.lastUsedService)})` : ''}`
    : f.lastUseKnown
      ? 'never'
      : 'unknown';
  const refused = refusedNote(f, result.judgement, true);
  return tableRow([
    userMarkdown(f),
    `\`${keyLabel(f, keyId)}\``,
    ...(owned ? [ownerCell(ownerOf(f, result.judgement))] : []),
    f.status,
    f.ageDays === null ? 'unknown' : count(f.ageDays),
    used,
    `${f.reasons.map((r) => reasonText(r, result.policy)).join(', ')}${refused ? `; ${refused}` : ''}`,
  ]);
}

function exemptedRow(f: ExemptedFinding, judgement: Judgement, keyId: KeyIdStyle): string {
  return tableRow([
    userMarkdown(f),
    `\`${keyLabel(f, keyId)}\``,
    f.ageDays === null ? 'unknown' : count(f.ageDays),
    ownerCell(ownerOf(f, judgement)),
    md(f.exemption.until),
    reasonCode(f.exemption.reason, true),
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

/** `2 stale keys, 1 exempted key, and 1 key not checked` */
function listedNow(list: Listing): string {
  const parts = [plural(list.stale.length, 'stale key', 'stale keys')];
  if (list.exempted.length > 0) parts.push(plural(list.exempted.length, 'exempted key', 'exempted keys'));
  if (list.carried.length > 0) parts.push(`${plural(list.carried.length, 'key', 'keys')} not checked`);
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')}, and ${parts.at(-1)!}`;
}

/** Why a key exempted before is stale now: its exemption ended, or its tags no longer grant it. */
function exemptionEnded(f: Finding, until: string, result: ScanResult, keyId: KeyIdStyle): string {
  const key = `\`${keyLabel(f, keyId)}\` (${userMarkdown(f)})`;
  if (until < utcDate(result.now)) return `- The exemption of ${key} ended on ${until}.`;
  const refused = refusedNote(f, result.judgement);
  return `- The exemption of ${key} no longer applies: ${refused ? refused.replace(/^exemption not applied: /, '') : "its user's tags no longer grant it"}.`;
}

/**
 * The comment announcing a new set of keys: what is newly stale (its owner @-mentioned, the one
 * comment that does), whose exemption ended, what is newly exempted, and what was resolved since
 * `previous`. A key that moves between stale and exempted is never called new or resolved.
 */
export function renderChangeComment(result: ScanResult, previous: Marker, ctx: RenderContext): string {
  const list = listing(result, previous);
  const current = buildMarker(result, ctx.keyId, list, previous);
  const when = `${utcMinute(result.now)}${ctx.runUrl ? `, [run](${ctx.runUrl})` : ''}`;
  const now = listedNow(list);
  const lines: string[] = [];
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(
      `**${title} (${count(items.length)}):**`,
      ...fitLines(items, 12_000, (n) => `- …and ${count(n)} more`),
      '',
    );
  };
  if (previous.partial || current.partial) {
    lines.push(
      `The stale access keys changed (was ${count(previous.count)}, now ${now}) in the scan of ${when}. The issue body has the current list.`,
    );
  } else {
    const accountId = result.account.id;
    const wasExempt = readGroups(previous.exempt);
    const known = (f: Finding) => keyToken(accountId, f) in previous.keys;
    const listed = new Set(listedTokens(list, accountId));
    const age = (f: Finding) => (f.ageDays === null ? '' : `, ${plural(f.ageDays, 'day', 'days')}`);
    lines.push(`The stale access keys changed in the scan of ${when}: now ${now}.`, '');
    section(
      'Newly stale',
      list.stale
        .filter((f) => !known(f))
        .map(
          (f) =>
            `- \`${keyLabel(f, ctx.keyId)}\` (${userMarkdown(f)}${age(f)}${staleNotes(f, result.judgement, true)})`,
        ),
    );
    section(
      'Exemption ended',
      list.stale.flatMap((f) => {
        const until = known(f) ? wasExempt.get(keyToken(accountId, f)) : undefined;
        return until ? [exemptionEnded(f, until, result, ctx.keyId)] : [];
      }),
    );
    section(
      'Exempted as accepted risk',
      list.exempted
        .filter((f) => !wasExempt.has(keyToken(accountId, f)))
        .map((f) => {
          const owner = ownerNote(ownerOf(f, result.judgement), false);
          return `- \`${keyLabel(f, ctx.keyId)}\` (${userMarkdown(f)}${age(f)}${owner ? `; ${owner}` : ''}) until ${md(f.exemption.until)}: ${reasonCode(f.exemption.reason)}`;
        }),
    );
    section(
      'Resolved',
      Object.entries(previous.keys)
        .filter(([t]) => !listed.has(t))
        .map(([, label]) => `- ${labelMarkdown(label)}`),
    );
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

/**
 * What to write, given the scan and the account's open tracking issue (if any). An account with
 * stale or exempted keys gets an issue: the record of accepted risk, too.
 */
export function planTracking(
  result: ScanResult,
  open: TrackedIssue | null,
  options: PlanOptions,
  ctx: RenderContext,
): TrackingPlan {
  if (open) return planForIssue(result, open, options, ctx);
  if (listedCount(result.judgement) === 0) return { action: 'none' };
  return { action: 'create', title: issueTitle(options.titleTemplate, result), body: renderIssueBody(result, ctx) };
}

/**
 * What to write to the account's open tracking issue. An incomplete scan never closes it, nor does
 * an exempted key: the issue stays open as the record of the accepted risk.
 */
export function planForIssue(
  result: ScanResult,
  open: TrackedIssue,
  options: PlanOptions,
  ctx: RenderContext,
): IssuePlan {
  const previous = accountMarker(open.body, result);
  const list = listing(result, previous);
  const resolved =
    list.stale.length === 0 && list.exempted.length === 0 && list.carried.length === 0 && !list.incomplete;
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

/** `; deactivated on 2026-12-14 unless rotated first`: the notice, on the key's own line. */
function deactivationNote(f: Finding, result: ScanResult): string {
  const on = f.accessKeyId ? result.deactivation?.scheduled.get(f.accessKeyId) : undefined;
  if (!on) return '';
  return `; ${result.deactivation!.dryRun ? 'would be deactivated' : 'deactivated'} on ${on} unless rotated first`;
}

/**
 * The comment that says which keys were deactivated after notice this run, each with its owner
 * (mentioned, so GitHub tells them) and the command that re-activates it; and which could not be.
 * `null` when the run deactivated nothing and nothing failed: a dry run says its plan in the
 * summary, not here.
 */
export function deactivationComment(result: ScanResult, ctx: Pick<RenderContext, 'keyId' | 'runUrl'>): string | null {
  const report = result.deactivation;
  if (!report || report.dryRun) return null;
  const done = report.keys.filter((k) => k.outcome === 'deactivated');
  const failed = report.keys.filter((k) => k.outcome === 'failed');
  if (done.length === 0 && failed.length === 0) return null;
  const owner = (user: string) => {
    const note = ownerNote(result.judgement.owners.get(user), true);
    return note ? `, ${note}` : '';
  };
  const key = (k: { accessKeyId: string; user: string }) => `\`${ctx.keyId(k.accessKeyId)}\` (\`${k.user}\`)`;
  const lines: string[] = [];
  if (done.length > 0) {
    lines.push(
      `**Deactivated after notice**: listed here for ${plural(report.afterDays, 'day', 'days')} or more, ${done.length === 1 ? 'this key was' : 'these keys were'} set to Inactive (not deleted).`,
      '',
      ...done.map(
        (k) =>
          `- ${key(k)}${owner(k.user)}, listed since ${k.firstListed}. To re-activate: \`aws iam update-access-key --user-name ${k.user} --access-key-id ${ctx.keyId(k.accessKeyId)} --status Active\``,
      ),
    );
  }
  if (failed.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(
      `**Could not be deactivated** (still active):`,
      '',
      ...failed.map((k) => `- ${key(k)}${owner(k.user)}: ${md(k.error ?? 'unknown error')}`),
    );
  }
  if (ctx.runUrl) lines.push('', `[The run](${ctx.runUrl})`);
  return lines.join('\n');
}
