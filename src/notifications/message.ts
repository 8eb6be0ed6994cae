/**
 * The one message every chat tells, built from a scan of one account or from the scans of many (the
 * organisation mode's digest). It knows what to say and in which order; each chat's adapter decides
 * how it looks and how much of it fits. Pure.
 */
import type { Finding } from '../model.js';
import { isIncomplete, scanGaps } from '../account/coverage.js';
import { accountLabel, keyLabel, type KeyIdStyle } from '../render/present.js';
import type { ScanResult } from '../account/result.js';
import { PHRASES, type DigestTotals, type Language } from './phrases.js';
import { code, join, line, link, name, owner, quote, user, warn, type Span, type Text } from './text.js';
import type { Owner } from '../model.js';

export type { Language } from './phrases.js';

/** A list that a chat may cut, ending it with `more(omitted)`. */
export interface MessageList {
  items: readonly Text[];
  more(omitted: number): Text;
}

export interface Message {
  language: Language;
  /** `stale`: stale keys found. `incomplete`: none found, but a stale key could have gone unseen. `clear`: all clear. */
  tone: 'stale' | 'incomplete' | 'clear';
  /** One line, our words and the account's label: never a value that needs escaping. */
  title: string;
  /** Said under the title: what could not be checked (`warn`), or what was (`comment`). */
  note: { text: string; tone: 'warn' | 'comment' } | null;
  /** The oldest stale keys first; in a digest, the accounts with stale keys, then those not fully scanned. */
  lists: readonly MessageList[];
  /** Said after the lists: how many keys turn stale soon. */
  footnote: string | null;
  /** Said after the lists: stale keys exempted by their users' tags, keys deactivated after notice. */
  notes: readonly string[];
  /** The owners of the listed keys, for a chat that mentions people outside its text (DingTalk's `at`). */
  owners: readonly Owner[];
  /** The run, and the tracking issue. */
  links: ReadonlyArray<{ label: string; url: string }>;
  /** One sentence that asks for action, for a message that only carries a mention (WeCom's `@all`). */
  mention: string;
  /** Between a label and its value in plain text: `: ` or `：`. */
  colon: string;
}

export interface AccountMessageInput {
  result: ScanResult;
  keyId: KeyIdStyle;
  language: Language;
  /** Link to the workflow run. */
  runUrl: string | null;
  /** The tracking issue, if any. */
  issue: { number: number; url: string } | null;
}

/**
 * One account of a run, as the digest reads it. `AccountRun` (src/run/overview.ts) is one: the
 * digest asks only for what it shows, so the core does not reach up into the run.
 */
export interface DigestAccount {
  account: { id: string; name: string | null };
  /** The scan, or `null` when the account could not be scanned. */
  result: ScanResult | null;
  /** Why the account could not be scanned. */
  error: string | null;
  /** Its tracking issue, when there is one. */
  issue: { number: number | null; url: string | null } | null;
}

export interface DigestInput {
  runs: readonly DigestAccount[];
  language: Language;
  /** Link to the workflow run. */
  runUrl: string | null;
}

/** What one account's scan has to say: title, the stale keys oldest first, due soon, links. */
export function accountMessage(input: AccountMessageInput): Message {
  const { result, language } = input;
  const phrases = PHRASES[language];
  const { stale, dueSoon } = result.judgement;
  const gaps = scanGaps(result).filter((g) => g.couldHideStale).length;
  // Never an all-clear while a stale key could have gone unseen.
  const tone = stale.length > 0 ? 'stale' : gaps > 0 ? 'incomplete' : 'clear';
  const title =
    tone === 'stale'
      ? phrases.staleTitle(result)
      : tone === 'incomplete'
        ? phrases.incompleteTitle(result)
        : phrases.allClear(result);
  const links = [];
  if (input.runUrl) links.push({ label: phrases.run, url: input.runUrl });
  if (input.issue) links.push({ label: phrases.issue(input.issue.number), url: input.issue.url });
  let mention: string;
  if (stale.length > 0) mention = phrases.mention(accountLabel(result.account));
  else mention = gaps > 0 ? `${phrases.incompleteTitle(result)}${phrases.stop}` : phrases.allClear(result);
  return {
    language,
    tone,
    title,
    note: gaps > 0 ? { text: phrases.incompleteNote(result, gaps), tone: 'warn' } : null,
    lists: stale.length > 0 ? [{ items: stale.map((f) => keyLine(f, input)), more: (n) => [phrases.more(n)] }] : [],
    footnote: dueSoon.length > 0 ? phrases.dueSoon(dueSoon.length, result.policy.warnDays, stale.length > 0) : null,
    notes: [
      ...(result.judgement.exempted.length > 0 ? [phrases.exempted(result.judgement.exempted.length)] : []),
      ...deactivationNotes(result, input.language),
    ],
    owners: [...new Set(stale.filter((f) => !f.root).map((f) => f.user))].flatMap((u) => {
      const o = result.judgement.owners.get(u);
      return o ? [o] : [];
    }),
    links,
    mention,
    colon: phrases.colon,
  };
}

function ownerOf(f: Finding, result: ScanResult): Span | null {
  const o = f.root ? undefined : result.judgement.owners.get(f.user);
  return o ? owner(o) : null;
}

function keyLine(f: Finding, input: AccountMessageInput): Text {
  const phrases = PHRASES[input.language];
  const reasons = f.reasons.map((r) => phrases.reason(r, f, input.result)).join(phrases.comma);
  return phrases.keyLine({
    user: user(f.user),
    root: f.root,
    key: f.accessKeyId ? code(keyLabel(f, input.keyId)) : null,
    ageDays: f.ageDays,
    reasons: warn(reasons),
    owner: ownerOf(f, input.result),
  });
}

export function digestTotals(runs: readonly DigestAccount[]): DigestTotals {
  const scanned = runs.flatMap((r) => (r.result ? [r.result] : []));
  const sum = (f: (r: ScanResult) => number) => scanned.reduce((n, r) => n + f(r), 0);
  return {
    accounts: runs.length,
    scanned: scanned.length,
    failed: runs.length - scanned.length,
    incomplete: scanned.filter(isIncomplete).length,
    withStale: scanned.filter((r) => r.judgement.stale.length > 0).length,
    staleKeys: sum((r) => r.judgement.stale.length),
    dueSoon: sum((r) => r.judgement.dueSoon.length),
    users: sum((r) => r.inventory.userCount),
    keys: sum((r) => r.judgement.scannedKeys),
  };
}

type Scanned = DigestAccount & { result: ScanResult };

/**
 * One message for a run over many accounts: the totals, the accounts with stale keys (most first)
 * with their counts and tracking issues, then the accounts that could not be scanned or were
 * scanned incompletely, the run. Never an all-clear while an account could not be fully scanned.
 */
export function digestMessage(input: DigestInput): Message {
  const phrases = PHRASES[input.language];
  const words = phrases.digest;
  const t = digestTotals(input.runs);
  const missing = t.failed + t.incomplete > 0;

  let title: string;
  let note: Message['note'] = null;
  if (t.staleKeys > 0) {
    title = words.staleTitle(t);
    if (missing) note = { text: words.missing(t), tone: 'warn' };
  } else if (missing) {
    title = words.missing(t);
    if (t.scanned > 0) note = { text: words.noneAmongChecked(t), tone: 'comment' };
  } else {
    title = words.allClear(t);
  }

  const scanned = input.runs.filter((r): r is Scanned => r.result !== null);
  const stale = (r: Scanned) => r.result.judgement.stale.length;
  const due = (r: Scanned) => r.result.judgement.dueSoon.length;
  const withStale = scanned
    .filter((r) => stale(r) > 0)
    .sort((a, b) => stale(b) - stale(a) || due(b) - due(a) || a.account.id.localeCompare(b.account.id, 'en'));
  const staleLines = withStale.map((r) => {
    const parts: Text[] = [[warn(words.staleKeys(stale(r)))]];
    if (due(r) > 0) parts.push([words.dueSoon(due(r))]);
    if (isIncomplete(r.result)) parts.push([words.incomplete]);
    return digestLine(r, parts, input.language);
  });

  // Those with stale keys are listed above, saying their scan was incomplete.
  const byId = (a: DigestAccount, b: DigestAccount) => a.account.id.localeCompare(b.account.id, 'en');
  const failed = input.runs.filter((r) => r.result === null).sort(byId);
  const incomplete = scanned.filter((r) => stale(r) === 0 && isIncomplete(r.result)).sort(byId);
  const problemLines = [
    ...failed.map((r) => digestLine(r, [[warn(words.failed(quote(shortReason(r.error))))]], input.language)),
    ...incomplete.map((r) => {
      const gaps = scanGaps(r.result).filter((g) => g.couldHideStale).length;
      return digestLine(r, [[warn(words.gaps(gaps))]], input.language);
    }),
  ];
  const more = (n: number): Text => [words.more(n)];
  const lists = [
    { items: staleLines, more },
    { items: problemLines, more },
  ].filter((l) => l.items.length > 0);

  const policy = scanned[0]?.result.policy;
  const exempted = scanned.reduce((n, r) => n + r.result.judgement.exempted.length, 0);
  let mention: string;
  if (t.staleKeys > 0) mention = words.mention(t);
  else mention = missing ? `${words.missing(t)}${phrases.stop}` : words.allClear(t);
  return {
    language: input.language,
    tone: t.staleKeys > 0 ? 'stale' : missing ? 'incomplete' : 'clear',
    title,
    note,
    lists,
    footnote: t.dueSoon > 0 && policy ? phrases.dueSoon(t.dueSoon, policy.warnDays, t.staleKeys > 0) : null,
    notes: [
      ...(exempted > 0 ? [phrases.exempted(exempted)] : []),
      ...scanned.flatMap((r) => deactivationNotes(r.result, input.language, r.result.account.alias ?? r.account.id)),
    ],
    owners: [],
    links: input.runUrl ? [{ label: phrases.run, url: input.runUrl }] : [],
    mention,
    colon: phrases.colon,
  };
}

/** What deactivation after notice did, in one sentence each: done, dry run, refused. */
function deactivationNotes(result: ScanResult, language: Language, where?: string): string[] {
  const report = result.deactivation;
  if (!report) return [];
  const phrases = PHRASES[language];
  const n = (outcome: string) => report.keys.filter((k) => k.outcome === outcome).length;
  const notes = [
    n('deactivated') > 0 ? phrases.deactivated(n('deactivated'), report.afterDays) : null,
    n('would-deactivate') > 0 ? phrases.wouldDeactivate(n('would-deactivate'), report.afterDays) : null,
    n('failed') > 0 ? phrases.deactivationFailed(n('failed')) : null,
  ].filter((s): s is string => s !== null);
  return where ? notes.map((s) => `${where}${phrases.colon}${s}`) : notes;
}

/** `` `prod` (111111111111): what, what, [Tracking issue #12](…) `` */
function digestLine(run: DigestAccount, parts: Text[], language: Language): Text {
  const phrases = PHRASES[language];
  const label = run.result?.account.alias ?? run.account.name;
  const issue = run.issue;
  const all = [...parts];
  if (issue?.number && issue.url) all.push([link(phrases.issue(issue.number), issue.url)]);
  const who = label ? line`${name(label)} (${run.account.id})` : [run.account.id];
  return line`${who}${phrases.colon}${join(all, phrases.comma)}`;
}

/** Why an account could not be scanned, in a few words: the error's first sentence, at most 100 characters. */
function shortReason(error: string | null): string {
  const text = (error ?? '').replace(/\s+/g, ' ').trim() || 'unknown error';
  const first = (text.split(/(?<=[.!?]) (?=\p{Lu})/u)[0] ?? text).replace(/[.!?]$/, '');
  const chars = [...first];
  return chars.length <= 100 ? first : `${chars.slice(0, 99).join('')}…`;
}
