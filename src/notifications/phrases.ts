/**
 * What a notification says, in English or natural Chinese, as `Text` that each chat marks up its
 * own way. Pure.
 */
import type { Finding, Reason } from '../model.js';
import type { Policy } from '../account/judge.js';
import { count, plural } from '../render/markdown.js';
import { accountLabel, ROOT_LABEL } from '../render/present.js';
import type { ScanResult } from '../account/result.js';
import { line, type Span, type Text } from './text.js';

export type Language = 'en' | 'zh';

/** The root user, to people, in each language. */
export const ROOT_LABELS: Record<Language, string> = { en: ROOT_LABEL, zh: '根用户' };

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

/** One stale key as a sentence sees it; `user` and `key` already styled. */
export interface KeyFacts {
  user: Span;
  root: boolean;
  /** `null` when IAM gave no ID. */
  key: Span | null;
  ageDays: number | null;
  /** The reasons, joined. */
  reasons: Span;
  /** The owner from the user's tags, or `null`. */
  owner: Span | null;
}

/** Everything that reads differently in English and Chinese. */
export interface Phrases {
  staleTitle(result: ScanResult): string;
  allClear(result: ScanResult): string;
  /** The title of an incomplete scan that found no stale key. */
  incompleteTitle(result: ScanResult): string;
  /** Said under the title of an incomplete scan: `gaps` things it could not check. */
  incompleteNote(result: ScanResult, gaps: number): string;
  reason(reason: Reason, finding: Finding, result: ScanResult): string;
  keyLine(facts: KeyFacts): Text;
  /** `others`: said after a list of stale keys, so "other keys" / "另有". */
  dueSoon(keys: number, warnDays: number, others: boolean): string;
  more(omitted: number): string;
  /** Said after the lists: stale keys exempted by their users' tags. */
  exempted(keys: number): string;
  deactivated(keys: number, afterDays: number): string;
  wouldDeactivate(keys: number, afterDays: number): string;
  deactivationFailed(keys: number): string;
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
export interface DigestPhrases {
  staleTitle(t: DigestTotals): string;
  allClear(t: DigestTotals): string;
  /** What could not be scanned, leading with what it means. */
  missing(t: DigestTotals): string;
  noneAmongChecked(t: DigestTotals): string;
  staleKeys(n: number): string;
  dueSoon(n: number): string;
  incomplete: string;
  gaps(n: number): string;
  failed(reason: Span): Text;
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
  keyLine: ({ user, root, key, ageDays, reasons, owner }) =>
    line`${root ? ROOT_LABELS.en : user} ${key ?? '(ID unknown)'}: ${ageDays === null ? 'age unknown' : `${plural(ageDays, 'day', 'days')} old`}, ${reasons}${owner ? line` (owner: ${owner})` : []}`,
  dueSoon: (n, days, others) =>
    `${plural(n, others ? 'other key turns' : 'key turns', others ? 'other keys turn' : 'keys turn')} stale within ${plural(days, 'day', 'days')}`,
  more: (n) => `…and ${count(n)} more`,
  exempted: (n) => `${plural(n, 'stale key is', 'stale keys are')} exempted until a date by their user's tags`,
  deactivated: (n, days) =>
    `${plural(n, 'key was', 'keys were')} deactivated after ${plural(days, 'day', 'days')} of notice in the tracking issue`,
  wouldDeactivate: (n, days) =>
    `Dry run: ${plural(n, 'key would be', 'keys would be')} deactivated after ${plural(days, 'day', 'days')} of notice`,
  deactivationFailed: (n) => `${plural(n, 'key', 'keys')} could not be deactivated: see the run's summary`,
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
    failed: (reason) => line`could not be scanned: ${reason}`,
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
  keyLine: ({ user, root, key, ageDays, reasons, owner }) => {
    const whose = root ? line`${ROOT_LABELS.zh}的密钥` : line`${user} 的密钥`;
    const id = key === null ? line`（ID 未知）` : line` ${key} `;
    const age = ageDays === null ? '创建时间未知' : `已创建 ${count(ageDays)} 天`;
    return line`${whose}${id}${age}，${reasons}${owner ? line`（负责人：${owner}）` : []}`;
  },
  dueSoon: (n, days, others) => `${others ? '另有' : '有'} ${count(n)} 个密钥将在 ${count(days)} 天内到期`,
  more: (n) => `……另有 ${count(n)} 个`,
  exempted: (n) => `另有 ${count(n)} 个过期密钥按用户标签豁免至指定日期`,
  deactivated: (n, days) => `${count(n)} 个密钥在跟踪 Issue 中公示满 ${count(days)} 天，已被停用`,
  wouldDeactivate: (n, days) => `演练模式：${count(n)} 个密钥公示满 ${count(days)} 天，将被停用`,
  deactivationFailed: (n) => `${count(n)} 个密钥未能停用，详见运行记录的摘要`,
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
    failed: (reason) => line`未能扫描：${reason}`,
    more: (n) => `……另有 ${count(n)} 个账号`,
    mention: (t) => `请尽快轮换 ${count(t.withStale)} 个账号中过期的访问密钥。`,
  },
};

export const PHRASES: Record<Language, Phrases> = { en: EN, zh: ZH };

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
