/** How keys, accounts and reasons read to a person. Shared by every renderer. Pure. */
import type { Account, AccessKey, Reason } from '../model.js';
import type { Policy } from '../account/judge.js';
import { plural } from './markdown.js';

/** `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`: enough to recognise a key, not to use it. */
export function redactKeyId(id: string): string {
  return id.length <= 8 ? id : `${id.slice(0, 4)}…${id.slice(-4)}`;
}

export type KeyIdStyle = (id: string) => string;
export const fullKeyId: KeyIdStyle = (id) => id;

export function keyLabel(key: Pick<AccessKey, 'accessKeyId' | 'root'>, style: KeyIdStyle): string {
  if (key.accessKeyId) return style(key.accessKeyId);
  return key.root ? 'root user key' : 'ID unknown';
}

/** The root user is "root user" to people everywhere; IAM's `<root_account>` stays in machine output. */
export const ROOT_LABEL = 'root user';

/** A key's user as plain text: the IAM user name, or "root user". */
export function userLabel(key: Pick<AccessKey, 'user' | 'root'>): string {
  return key.root ? ROOT_LABEL : key.user;
}

/**
 * A key's user in GitHub Markdown: the name in a code span, so that `first.last@example.com` never
 * becomes a mail link, `@name` never mentions anyone and `_` never turns to italics. IAM names have
 * no backticks or pipes, so a code span needs no escaping, even in a table cell.
 */
export function userMarkdown(key: Pick<AccessKey, 'user' | 'root'>): string {
  return key.root ? ROOT_LABEL : `\`${key.user}\``;
}

/** `prod (111111111111)`, or the ID alone when the account has no alias. */
export function accountLabel(account: Pick<Account, 'id' | 'alias'>): string {
  return account.alias ? `${account.alias} (${account.id})` : account.id;
}

export function reasonText(reason: Reason, policy: Policy): string {
  switch (reason) {
    case 'age':
      return `older than ${plural(policy.maxAgeDays, 'day', 'days')}`;
    case 'unused':
      return `unused for ${plural(policy.maxUnusedDays, 'day', 'days')} or more`;
    case 'root-key':
      return 'root user key (should not exist)';
  }
}
