/**
 * WeCom (企业微信) messages from a scan result, or one digest from the scans of many accounts:
 * robot markdown (with its `<@userid>` mentions), plain app text, and the short text that carries
 * `@all`, in English or Chinese. Pure. Budgets are UTF-8 bytes, as WeCom counts them.
 *
 * WeCom's robot markdown has no escape syntax: a backslash shows as a backslash. So nothing is
 * escaped; names from outside go in inline code, stripped of anything that could end the span or
 * start markup (for IAM names: anything an IAM name cannot hold), and error text loses the same.
 */
import type { Finding, Reason } from '../model.js';
import { isIncomplete, scanGaps } from '../account/coverage.js';
import type { Policy } from '../account/judge.js';
import { byteLength, count, fitLines, plural } from '../render/markdown.js';
import { accountLabel, keyLabel, ROOT_LABEL, type KeyIdStyle } from '../render/present.js';
import type { ScanResult } from '../account/result.js';

export type Language = 'en' | 'zh';

/** WeCom robot markdown content limit, UTF-8 bytes. */
export const ROBOT_MARKDOWN_MAX_BYTES = 4096;
/** Robot text and app text content limit, UTF-8 bytes. */
export const TEXT_MAX_BYTES = 2048;

export interface WecomMessageInput {
  result: ScanResult;
  keyId: KeyIdStyle;
  language: Language;
  /** Link to the workflow run. */
  runUrl: string | null;
  /** The tracking issue, if any. */
  issue: { number: number; url: string } | null;
  /** WeCom user IDs to mention with `<@userid>` in robot markdown. `@all` cannot be: see `robotMentions`. */
  mentions?: readonly string[];
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
  /** WeCom user IDs to mention with `<@userid>` in robot markdown. */
  mentions?: readonly string[];
}

/** What the digest's title counts. */
export interface DigestTotals {
  accounts: number;
  /** Accounts scanned, completely or not. */
  scanned: number;
  /** Accounts that could not be scanned at all. */
  failed: number;
  /** Accounts whose scan is incomplete: a stale key could have gone unseen. */
  incomplete: number;
  withStale: number;
  staleKeys: number;
  dueSoon: number;
  users: number;
  keys: number;
}

/** The root user, to people, in each language. */
export const ROOT_LABELS: Record<Language, string> = { en: ROOT_LABEL, zh: '根用户' };

/**
 * How the mentions of `wecom-mentioned-list` travel: user IDs as `<@userid>` inside the robot
 * markdown (WeCom documents that syntax for robot text and markdown content), and `@all` in a
 * text message's `mentioned_list`, the only place WeCom documents it.
 */
export function robotMentions(list: readonly string[]): { inMarkdown: string[]; everyone: boolean } {
  const inMarkdown = [...new Set(list.filter((id) => id !== '@all'))];
  return { inMarkdown, everyone: list.includes('@all') };
}

/** The robot `markdown` message: title, the oldest stale keys one per line, due-soon count, links. */
export function robotMarkdown(input: WecomMessageInput, maxBytes = ROBOT_MARKDOWN_MAX_BYTES): string {
  return render(input, MARKDOWN, maxBytes);
}

/** The same content as plain text, for the app message API and robot `text` messages. */
export function appText(input: WecomMessageInput, maxBytes = TEXT_MAX_BYTES): string {
  return render(input, PLAIN, maxBytes);
}

/** One sentence for the `text` message that carries `mentioned_list: ["@all"]`. */
export function mentionText(language: Language, result: ScanResult): string {
  const phrases = PHRASES[language];
  if (result.judgement.stale.length > 0) return phrases.mention(accountLabel(result.account));
  return isIncomplete(result) ? `${phrases.incompleteTitle(result)}${phrases.stop}` : phrases.allClear(result);
}

/** How the message is marked up: WeCom robot markdown or plain text. */
interface Style {
  /** A user name from IAM, made inert. */
  user(s: string): string;
  /** An account's alias or its name in the organisation (any printable ASCII there), made inert. */
  name(s: string): string;
  /** Text from elsewhere (an error message), made inert. */
  text(s: string): string;
  code(s: string): string;
  title(s: string, allClear: boolean): string;
  item(s: string): string;
  warning(s: string): string;
  comment(s: string): string;
  link(label: string, url: string, colon: string): string;
}

const MARKDOWN: Style = {
  // IAM names are letters, digits and _+=,.@-: in inline code `_` and `@` stay as they are. Anything
  // else (only a malformed report could bring it) becomes `?`, so no backtick ends the span and no
  // `<@…>` or `<font>` can form.
  user: (s) => `\`${s.replace(/[^\p{L}\p{N}_+=,.@-]/gu, '?')}\``,
  // Organizations allows any printable ASCII in an account's name: spaces and the like stay, and
  // what could end the span or open a link, a tag or a mention becomes `?`.
  name: (s) => `\`${s.replace(/[^\p{L}\p{N} _+=,.@&'():/#-]/gu, '?')}\``,
  // Prose: no backtick, star, bracket or angle bracket, so no span, bold, link, tag or mention forms.
  text: (s) => s.replace(/[\r\n]+/g, ' ').replace(/[`*[\]<>]/g, '?'),
  // Key IDs are AWS's own [A-Z0-9] (and our `…`).
  code: (s) => `\`${s}\``,
  title: (s, allClear) => (allClear ? `<font color="info">**${s}**</font>` : `**${s}**`),
  item: (s) => `>${s}`,
  warning: (s) => `<font color="warning">${s}</font>`,
  comment: (s) => `<font color="comment">${s}</font>`,
  link: (label, url) => `[${label}](${url.replace(/[()\s]/g, encodeURIComponent)})`,
};

const PLAIN: Style = {
  user: (s) => s.replace(/[\r\n]+/g, ' '),
  name: (s) => s.replace(/[\r\n]+/g, ' '),
  text: (s) => s.replace(/[\r\n]+/g, ' '),
  code: (s) => s,
  title: (s) => s,
  item: (s) => `- ${s}`,
  warning: (s) => s,
  comment: (s) => s,
  link: (label, url, colon) => `${label}${colon}${url}`,
};

/** One stale key as a sentence sees it; `user` and `key` already styled. */
interface KeyFacts {
  user: string;
  root: boolean;
  /** `null` when IAM gave no ID. */
  key: string | null;
  ageDays: number | null;
  /** The reasons, styled and joined. */
  reasons: string;
}

/** Everything that reads differently in English and Chinese. */
interface Phrases {
  staleTitle(result: ScanResult): string;
  allClear(result: ScanResult): string;
  /** The title of an incomplete scan that found no stale key. */
  incompleteTitle(result: ScanResult): string;
  /** Said under the title of an incomplete scan: `gaps` things it could not check. */
  incompleteNote(result: ScanResult, gaps: number): string;
  reason(reason: Reason, finding: Finding, result: ScanResult): string;
  keyLine(facts: KeyFacts): string;
  /** `others`: said after a list of stale keys, so "other keys" / "另有". */
  dueSoon(keys: number, warnDays: number, others: boolean): string;
  more(omitted: number): string;
  run: string;
  issue(number: number): string;
  mention(account: string): string;
  /** Between reasons. */
  comma: string;
  /** Between a link's label and its URL in plain text. */
  colon: string;
  /** The end of a sentence. */
  stop: string;
  digest: DigestPhrases;
}

/** The digest's words: `t` is the run's totals. */
interface DigestPhrases {
  staleTitle(t: DigestTotals): string;
  allClear(t: DigestTotals): string;
  /** What could not be scanned, leading with what it means. */
  missing(t: DigestTotals): string;
  noneAmongChecked(t: DigestTotals): string;
  staleKeys(n: number): string;
  dueSoon(n: number): string;
  incomplete: string;
  gaps(n: number): string;
  /** `reason` already styled. */
  failed(reason: string): string;
  more(omitted: number): string;
  mention(t: DigestTotals): string;
}

const EN: Phrases = {
  staleTitle: enStaleTitle,
  allClear: (r) =>
    `No stale access keys in account ${accountLabel(r.account)}: checked ${plural(r.inventory.userCount, 'user', 'users')} and ${plural(r.judgement.scannedKeys, 'key', 'keys')}`,
  incompleteTitle: (r) => `The scan of account ${accountLabel(r.account)} is incomplete, so stale keys may be missing`,
  incompleteNote: (r, gaps) => {
    const couldNot = `${plural(gaps, 'check', 'checks')} could not be made; the run's summary says how to fix ${gaps === 1 ? 'it' : 'them'}`;
    return r.judgement.stale.length > 0
      ? `The scan is incomplete, so more stale keys may be missing: ${couldNot}`
      : `No stale access keys among ${plural(r.inventory.userCount, 'user', 'users')} and ${plural(r.judgement.scannedKeys, 'key', 'keys')} checked, but ${couldNot}`;
  },
  reason: (reason, _f, r) => enReason(reason, r.policy),
  keyLine: ({ user, root, key, ageDays, reasons }) =>
    `${root ? ROOT_LABELS.en : user} ${key ?? '(ID unknown)'}: ${ageDays === null ? 'age unknown' : `${plural(ageDays, 'day', 'days')} old`}, ${reasons}`,
  dueSoon: (n, days, others) =>
    `${plural(n, others ? 'other key turns' : 'key turns', others ? 'other keys turn' : 'keys turn')} stale within ${plural(days, 'day', 'days')}`,
  more: (n) => `…and ${count(n)} more`,
  run: 'View the run',
  issue: (n) => `Tracking issue #${n}`,
  mention: (account) => `Please rotate the stale access keys in account ${account}.`,
  comma: ', ',
  colon: ': ',
  stop: '.',
  digest: {
    staleTitle: (t) =>
      `${plural(t.staleKeys, 'access key is', 'access keys are')} stale in ${t.withStale === t.accounts ? plural(t.withStale, 'account', 'accounts') : `${count(t.withStale)} of ${plural(t.accounts, 'account', 'accounts')}`}`,
    allClear: (t) =>
      `No stale access keys in ${plural(t.accounts, 'account', 'accounts')}: checked ${plural(t.users, 'user', 'users')} and ${plural(t.keys, 'key', 'keys')}`,
    missing: (t) => {
      const parts: string[] = [];
      if (t.failed > 0) parts.push(`${plural(t.failed, 'account', 'accounts')} could not be scanned`);
      if (t.incomplete > 0) parts.push(`${plural(t.incomplete, 'scan was', 'scans were')} incomplete`);
      return `Stale keys may be missing: ${parts.join(', and ')}`;
    },
    noneAmongChecked: (t) =>
      `No stale access keys among those checked: ${plural(t.scanned, 'account', 'accounts')}, ${plural(t.users, 'user', 'users')} and ${plural(t.keys, 'key', 'keys')}`,
    staleKeys: (n) => plural(n, 'stale key', 'stale keys'),
    dueSoon: (n) => `${count(n)} due soon`,
    incomplete: 'scan incomplete',
    gaps: (n) => `scan incomplete: ${plural(n, 'check', 'checks')} could not be made`,
    failed: (reason) => `could not be scanned: ${reason}`,
    more: (n) => `…and ${plural(n, 'more account', 'more accounts')}`,
    mention: (t) => `Please rotate the stale access keys in ${plural(t.withStale, 'account', 'accounts')}.`,
  },
};

function enReason(reason: Reason, policy: Policy): string {
  switch (reason) {
    case 'age':
      return `older than ${plural(policy.maxAgeDays, 'day', 'days')}`;
    case 'unused':
      return `unused for ${count(policy.maxUnusedDays)}+ days`;
    case 'root-key':
      return `${ROOT_LABELS.en} key`;
  }
}

/**
 * The job's failure message (`failureMessage` in report.ts) in the same words, with thousands
 * separators and singulars: `1 access key in account prod (111111111111) is older than 1 day`.
 */
function enStaleTitle(result: ScanResult): string {
  const { policy } = result;
  const stale = result.judgement.stale;
  const subject = `${plural(stale.length, 'access key', 'access keys')} in account ${accountLabel(result.account)} ${stale.length === 1 ? 'is' : 'are'}`;
  const older = `older than ${plural(policy.maxAgeDays, 'day', 'days')}`;
  const unused = `unused for ${plural(policy.maxUnusedDays, 'day', 'days')} or more`;
  const onlyOne = (reason: Reason) => stale.every((f) => f.reasons.length === 1 && f.reasons[0] === reason);
  if (onlyOne('age')) return `${subject} ${older}`;
  if (onlyOne('unused')) return `${subject} ${unused}`;
  const parts = byGravestReason(stale).map(({ reason, keys }) => {
    if (reason === 'root-key') return `${count(keys)} of the ${ROOT_LABELS.en}`;
    return `${count(keys)} ${reason === 'age' ? older : unused}`;
  });
  return `${subject} stale: ${parts.join(', ')}`;
}

const ZH: Phrases = {
  staleTitle: zhStaleTitle,
  allClear: (r) =>
    `账号 ${accountLabel(r.account)} 没有过期的访问密钥（已检查 ${count(r.inventory.userCount)} 个用户、${count(r.judgement.scannedKeys)} 个密钥）`,
  incompleteTitle: (r) => `账号 ${accountLabel(r.account)} 的扫描不完整，可能遗漏了过期的访问密钥`,
  incompleteNote: (r, gaps) =>
    r.judgement.stale.length > 0
      ? `扫描不完整，可能还有未发现的过期密钥：${count(gaps)} 项未能检查，修复方法见运行记录的摘要`
      : `已检查 ${count(r.inventory.userCount)} 个用户、${count(r.judgement.scannedKeys)} 个密钥，没有发现过期的访问密钥；但有 ${count(gaps)} 项未能检查，修复方法见运行记录的摘要`,
  reason: (reason, f, r) => {
    switch (reason) {
      case 'age':
        return `超过 ${count(r.policy.maxAgeDays)} 天未轮换`;
      case 'unused':
        return `已 ${count(f.idleDays ?? r.policy.maxUnusedDays)} 天未使用`;
      case 'root-key':
        return `${ROOT_LABELS.zh}密钥（应删除）`;
    }
  },
  keyLine: ({ user, root, key, ageDays, reasons }) => {
    const owner = root ? `${ROOT_LABELS.zh}的密钥` : `${user} 的密钥`;
    const id = key === null ? '（ID 未知）' : ` ${key} `;
    const age = ageDays === null ? '创建时间未知' : `已创建 ${count(ageDays)} 天`;
    return `${owner}${id}${age}，${reasons}`;
  },
  dueSoon: (n, days, others) => `${others ? '另有' : '有'} ${count(n)} 个密钥将在 ${count(days)} 天内到期`,
  more: (n) => `……另有 ${count(n)} 个`,
  run: '查看运行记录',
  issue: (n) => `跟踪 Issue #${n}`,
  mention: (account) => `请尽快轮换账号 ${account} 中过期的访问密钥。`,
  comma: '，',
  colon: '：',
  stop: '。',
  digest: {
    staleTitle: (t) =>
      t.withStale === t.accounts
        ? `${count(t.accounts)} 个账号共有 ${count(t.staleKeys)} 个过期的访问密钥`
        : `${count(t.accounts)} 个账号中有 ${count(t.withStale)} 个存在过期的访问密钥，共 ${count(t.staleKeys)} 个`,
    allClear: (t) =>
      `${count(t.accounts)} 个账号${t.accounts === 1 ? '' : '都'}没有过期的访问密钥（已检查 ${count(t.users)} 个用户、${count(t.keys)} 个密钥）`,
    missing: (t) => {
      const parts: string[] = [];
      if (t.failed > 0) parts.push(`${count(t.failed)} 个账号未能扫描`);
      if (t.incomplete > 0) parts.push(`${count(t.incomplete)} 个账号扫描不完整`);
      return `可能遗漏了过期的访问密钥：${parts.join('，')}`;
    },
    noneAmongChecked: (t) =>
      `已检查的 ${count(t.scanned)} 个账号（${count(t.users)} 个用户、${count(t.keys)} 个密钥）中没有过期的访问密钥`,
    staleKeys: (n) => `${count(n)} 个过期密钥`,
    dueSoon: (n) => `${count(n)} 个即将到期`,
    incomplete: '扫描不完整',
    gaps: (n) => `扫描不完整：${count(n)} 项未能检查`,
    failed: (reason) => `未能扫描：${reason}`,
    more: (n) => `……另有 ${count(n)} 个账号`,
    mention: (t) => `请尽快轮换 ${count(t.withStale)} 个账号中过期的访问密钥。`,
  },
};

const PHRASES: Record<Language, Phrases> = { en: EN, zh: ZH };

/** `账号 prod (111111111111) 有 3 个访问密钥已超过 90 天未轮换`, or a breakdown when reasons differ. */
function zhStaleTitle(result: ScanResult): string {
  const { policy } = result;
  const stale = result.judgement.stale;
  const where = `账号 ${accountLabel(result.account)}`;
  const groups = byGravestReason(stale);
  const only = groups.length === 1 ? groups[0]?.reason : undefined;
  const older = `超过 ${count(policy.maxAgeDays)} 天未轮换`;
  const unused = `超过 ${count(policy.maxUnusedDays)} 天未使用`;
  if (only === 'age') return `${where} 有 ${count(stale.length)} 个访问密钥已${older}`;
  if (only === 'unused') return `${where} 有 ${count(stale.length)} 个访问密钥已${unused}`;
  if (only === 'root-key') return `${where} 的${ROOT_LABELS.zh}有 ${count(stale.length)} 个访问密钥，应当删除`;
  const parts = groups.map(({ reason, keys }) => {
    if (reason === 'root-key') return `${count(keys)} 个属于${ROOT_LABELS.zh}`;
    return `${count(keys)} 个${reason === 'age' ? older : unused}`;
  });
  return `${where} 有 ${count(stale.length)} 个过期的访问密钥：${parts.join('，')}`;
}

/** Each key counted once, under its gravest reason (as `failureMessage` does), gravest first. */
function byGravestReason(stale: readonly Finding[]): Array<{ reason: Reason; keys: number }> {
  const order: readonly Reason[] = ['root-key', 'age', 'unused'];
  return order
    .map((reason) => ({
      reason,
      keys: stale.filter((f) => order.find((r) => f.reasons.includes(r)) === reason).length,
    }))
    .filter((g) => g.keys > 0);
}

/** The message in one style: fixed head and tail, then as many key lines as fit between them. */
function render(input: WecomMessageInput, style: Style, maxBytes: number): string {
  const { result, language } = input;
  const phrases = PHRASES[language];
  const { stale, dueSoon } = result.judgement;
  const gaps = scanGaps(result).filter((g) => g.couldHideStale).length;
  // Never an all-clear while a stale key could have gone unseen.
  const allClear = stale.length === 0 && gaps === 0;

  const title = stale.length > 0 ? phrases.staleTitle(result) : gaps > 0 ? phrases.incompleteTitle(result) : null;
  const head = [style.title(title ?? phrases.allClear(result), allClear)];
  if (gaps > 0) head.push(style.warning(phrases.incompleteNote(result, gaps)));
  const tail: string[] = [];
  if (dueSoon.length > 0) {
    tail.push(style.comment(phrases.dueSoon(dueSoon.length, result.policy.warnDays, stale.length > 0)));
  }
  if (input.runUrl) tail.push(style.link(phrases.run, input.runUrl, phrases.colon));
  if (input.issue) tail.push(style.link(phrases.issue(input.issue.number), input.issue.url, phrases.colon));
  tail.push(...mentionLine(input.mentions, style));

  // fitLines counts a newline per line it keeps, which pays for the one joining the list to the head.
  const budget = maxBytes - byteLength([...head, ...tail].join('\n'));
  const lines = fitLines(
    stale.map((f) => style.item(keyLine(f, input, style))),
    budget,
    (n) => style.comment(phrases.more(n)),
  );
  return withinBytes([...head, ...lines, ...tail], maxBytes);
}

function keyLine(f: Finding, input: WecomMessageInput, style: Style): string {
  const phrases = PHRASES[input.language];
  const reasons = f.reasons.map((r) => phrases.reason(r, f, input.result)).join(phrases.comma);
  return phrases.keyLine({
    user: style.user(f.user),
    root: f.root,
    key: f.accessKeyId ? style.code(keyLabel(f, input.keyId)) : null,
    ageDays: f.ageDays,
    reasons: style.warning(reasons),
  });
}

/** The `<@userid>` line of robot markdown: counted in the budget, and kept before any list line is. */
function mentionLine(mentions: readonly string[] | undefined, style: Style): string[] {
  const ids = style === MARKDOWN ? robotMentions(mentions ?? []).inMarkdown : [];
  return ids.length > 0 ? [ids.map((id) => `<@${id}>`).join(' ')] : [];
}

/**
 * One robot `markdown` message for a run over many accounts: the totals, the accounts with stale
 * keys (most first) with their counts and tracking issues, the accounts that could not be scanned
 * or were scanned incompletely, the run, the mentions. Never an all-clear while an account could
 * not be fully scanned. Lists that do not fit end with "and N more accounts".
 */
export function robotDigest(input: DigestInput, maxBytes = ROBOT_MARKDOWN_MAX_BYTES): string {
  return renderDigest(input, MARKDOWN, maxBytes);
}

/** The digest as plain text, for the app message API. */
export function appDigest(input: DigestInput, maxBytes = TEXT_MAX_BYTES): string {
  return renderDigest(input, PLAIN, maxBytes);
}

/** The digest's sentence for the `text` message that carries `mentioned_list: ["@all"]`. */
export function digestMentionText(language: Language, runs: readonly DigestAccount[]): string {
  const words = PHRASES[language].digest;
  const t = digestTotals(runs);
  if (t.staleKeys > 0) return words.mention(t);
  if (t.failed + t.incomplete > 0) return `${words.missing(t)}${PHRASES[language].stop}`;
  return words.allClear(t);
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

function renderDigest(input: DigestInput, style: Style, maxBytes: number): string {
  const phrases = PHRASES[input.language];
  const words = phrases.digest;
  const t = digestTotals(input.runs);
  const missing = t.failed + t.incomplete > 0;

  const head: string[] = [];
  if (t.staleKeys > 0) {
    head.push(style.title(words.staleTitle(t), false));
    if (missing) head.push(style.warning(words.missing(t)));
  } else if (missing) {
    head.push(style.title(words.missing(t), false));
    if (t.scanned > 0) head.push(style.comment(words.noneAmongChecked(t)));
  } else {
    head.push(style.title(words.allClear(t), true));
  }

  const scanned = input.runs.filter((r): r is Scanned => r.result !== null);
  const stale = (r: Scanned) => r.result.judgement.stale.length;
  const due = (r: Scanned) => r.result.judgement.dueSoon.length;
  const withStale = scanned
    .filter((r) => stale(r) > 0)
    .sort((a, b) => stale(b) - stale(a) || due(b) - due(a) || a.account.id.localeCompare(b.account.id, 'en'));
  const staleLines = withStale.map((r) => {
    const parts = [style.warning(words.staleKeys(stale(r)))];
    if (due(r) > 0) parts.push(words.dueSoon(due(r)));
    if (isIncomplete(r.result)) parts.push(words.incomplete);
    return style.item(digestLine(r, parts, style, phrases));
  });

  // Those with stale keys are listed above, saying their scan was incomplete.
  const byId = (a: DigestAccount, b: DigestAccount) => a.account.id.localeCompare(b.account.id, 'en');
  const failed = input.runs.filter((r) => r.result === null).sort(byId);
  const incomplete = scanned.filter((r) => stale(r) === 0 && isIncomplete(r.result)).sort(byId);
  const problemLines = [
    ...failed.map((r) =>
      style.item(digestLine(r, [style.warning(words.failed(style.text(shortReason(r.error))))], style, phrases)),
    ),
    ...incomplete.map((r) => {
      const gaps = scanGaps(r.result).filter((g) => g.couldHideStale).length;
      return style.item(digestLine(r, [style.warning(words.gaps(gaps))], style, phrases));
    }),
  ];

  const tail: string[] = [];
  const policy = scanned[0]?.result.policy;
  if (t.dueSoon > 0 && policy) tail.push(style.comment(phrases.dueSoon(t.dueSoon, policy.warnDays, t.staleKeys > 0)));
  if (input.runUrl) tail.push(style.link(phrases.run, input.runUrl, phrases.colon));
  tail.push(...mentionLine(input.mentions, style));

  const budget = maxBytes - byteLength([...head, ...tail].join('\n'));
  const more = (n: number) => style.comment(words.more(n));
  const [staleShown, problemsShown] = fitTwoLists(staleLines, problemLines, budget, more);
  return withinBytes([...head, ...staleShown, ...problemsShown, ...tail], maxBytes);
}

/** `` `prod` (111111111111): what, what, [Tracking issue #12](…) `` */
function digestLine(run: DigestAccount, parts: string[], style: Style, phrases: Phrases): string {
  const name = run.result?.account.alias ?? run.account.name;
  const label = name ? `${style.name(name)} (${run.account.id})` : run.account.id;
  const { issue } = run;
  if (issue?.number && issue.url) parts.push(style.link(phrases.issue(issue.number), issue.url, phrases.colon));
  return `${label}${phrases.colon}${parts.join(phrases.comma)}`;
}

/** Why an account could not be scanned, in a few words: the error's first sentence, at most 100 characters. */
function shortReason(error: string | null): string {
  const text = (error ?? '').replace(/\s+/g, ' ').trim() || 'unknown error';
  const first = (text.split(/(?<=[.!?]) (?=\p{Lu})/u)[0] ?? text).replace(/[.!?]$/, '');
  const chars = [...first];
  return chars.length <= 100 ? first : `${chars.slice(0, 99).join('')}…`;
}

/**
 * Two lists in one budget, each ending with "and N more" when cut. When both cannot fit, each may
 * take half, and one that needs less than half leaves the rest to the other: a thousand accounts
 * with stale keys never hide every failure, nor the reverse.
 */
function fitTwoLists(
  first: readonly string[],
  second: readonly string[],
  budget: number,
  more: (omitted: number) => string,
): [string[], string[]] {
  const need = (lines: readonly string[]) => lines.reduce((n, l) => n + byteLength(l) + 1, 0);
  const [a, b] = [need(first), need(second)];
  if (a + b <= budget) return [[...first], [...second]];
  const half = Math.floor(budget / 2);
  const forFirst = b <= half ? budget - b : a <= half ? a : half;
  const shown = fitLines(first, forFirst, more);
  return [shown, fitLines(second, budget - need(shown), more)];
}

/**
 * Last resort for budgets too small for the head and tail: whole lines dropped from the end, and
 * only a first line that alone is too long cut, at a character boundary.
 */
function withinBytes(lines: readonly string[], maxBytes: number): string {
  const kept = [...lines];
  let text = kept.join('\n');
  while (byteLength(text) > maxBytes && kept.length > 1) {
    kept.pop();
    text = kept.join('\n');
  }
  return byteLength(text) <= maxBytes ? text : truncateUtf8(text, maxBytes);
}

/** The longest prefix of whole code points that fits in `maxBytes` UTF-8 bytes. */
function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    used += byteLength(ch);
    if (used > maxBytes) break;
    out += ch;
  }
  return out;
}
