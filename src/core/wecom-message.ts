/**
 * WeCom (企业微信) messages from a scan result: robot markdown (with its `<@userid>` mentions),
 * plain app text, and the short text that carries `@all`, in English or Chinese. Pure. Budgets
 * are UTF-8 bytes, as WeCom counts them.
 *
 * WeCom's robot markdown has no escape syntax: a backslash shows as a backslash. So nothing is
 * escaped; names from outside go in inline code, stripped of anything an IAM name cannot hold.
 */
import type { Finding, Reason } from '../model.js';
import type { Policy } from './judge.js';
import { byteLength, count, fitLines, plural } from './markdown.js';
import { accountLabel, keyLabel, ROOT_LABEL, type KeyIdStyle } from './present.js';
import type { ScanResult } from './scan.js';

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
  return result.judgement.stale.length > 0 ? phrases.mention(accountLabel(result.account)) : phrases.allClear(result);
}

/** How the message is marked up: WeCom robot markdown or plain text. */
interface Style {
  /** A user name from IAM, made inert. */
  user(s: string): string;
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
}

const EN: Phrases = {
  staleTitle: enStaleTitle,
  allClear: (r) =>
    `No stale access keys in account ${accountLabel(r.account)}: checked ${plural(r.inventory.userCount, 'user', 'users')} and ${plural(r.judgement.scannedKeys, 'key', 'keys')}`,
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
  const allClear = stale.length === 0;

  const head = [style.title(allClear ? phrases.allClear(result) : phrases.staleTitle(result), allClear)];
  const tail: string[] = [];
  if (dueSoon.length > 0) {
    tail.push(style.comment(phrases.dueSoon(dueSoon.length, result.policy.warnDays, !allClear)));
  }
  if (input.runUrl) tail.push(style.link(phrases.run, input.runUrl, phrases.colon));
  if (input.issue) tail.push(style.link(phrases.issue(input.issue.number), input.issue.url, phrases.colon));
  const mentions = style === MARKDOWN ? robotMentions(input.mentions ?? []).inMarkdown : [];
  // Counted in the budget like any other line; kept before the key lines are.
  if (mentions.length > 0) tail.push(mentions.map((id) => `<@${id}>`).join(' '));

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
