/**
 * The IAM tags of the users with a stale key, for the owners and exemptions a later step reads from
 * them. Two ways to read them, and the one that makes fewer requests is taken:
 *
 * - `list-user-tags`: one `ListUserTags` a user (a user has at most 50 tags: one page), fanned out
 *   as the inventory fans out `ListAccessKeys`;
 * - `account-details`: `GetAccountAuthorizationDetails` with `Filter=User`, which gives every user of
 *   the account with its tags, 1,000 users a page, one page after another.
 *
 * So S flagged users in an account of N users cost S requests, or ⌈N / 1,000⌉. Ties go to
 * `ListUserTags`: its permission shows only tags, where `GetAccountAuthorizationDetails` shows every
 * policy of the account, and its requests run side by side.
 *
 * Never throws for what AWS answers: a denial, a call that keeps failing or an expired session
 * becomes a gap, which hides no stale key (the keys were judged without tags).
 */
import pLimit from 'p-limit';
import { awsErrorCode, isAccessDenied, isExpiredSession } from '../aws/errors.js';
import { IAM_MAX_PAGE_SIZE, type IamApi, type IamTag } from '../aws/iam.js';
import { ROOT_USER, type Gap } from '../model.js';
import { count, plural } from '../render/markdown.js';
import { DEFAULT_CONCURRENCY } from './inventory.js';

export type TagStrategy = 'list-user-tags' | 'account-details';

/** The requests each strategy makes, by the model above (full pages of `GetAccountAuthorizationDetails`). */
export interface TagRequestCosts {
  listUserTags: number;
  accountDetails: number;
}

/**
 * What reading the tags of `users` users costs in an account of `accountUsers` users, each way. The
 * account has at least the users asked about, whatever count it was given.
 */
export function tagRequestCosts(accountUsers: number, users: number): TagRequestCosts {
  if (users <= 0) return { listUserTags: 0, accountDetails: 0 };
  return {
    listUserTags: users,
    accountDetails: Math.max(1, Math.ceil(Math.max(accountUsers, users) / IAM_MAX_PAGE_SIZE)),
  };
}

/** Flagged users below which `ListUserTags` is always used. */
export const ACCOUNT_DETAILS_MIN_USERS = 100;

/**
 * `account-details` only where it saves a great deal: at least 100 flagged users, and ten times
 * fewer requests than `ListUserTags` user by user. `GetAccountAuthorizationDetails` needs a
 * permission that reads every policy in the account, and its pages come one after another while
 * `ListUserTags` runs several at a time (measured: 10,000 users with 50 flagged took 0.35 s user by
 * user against 0.86 s by pages); a role without it costs one denied request, then falls back.
 */
export function chooseTagStrategy(accountUsers: number, users: number): TagStrategy {
  const cost = tagRequestCosts(accountUsers, users);
  return users >= ACCOUNT_DETAILS_MIN_USERS && cost.accountDetails * 10 <= cost.listUserTags
    ? 'account-details'
    : 'list-user-tags';
}

export interface ReadUserTagsOptions {
  /** IAM users in the account, as the inventory counted them (`Inventory.userCount`). */
  accountUsers: number;
  /** Concurrent `ListUserTags` calls (default: the inventory's). */
  concurrency?: number;
  /** Read this way instead of the cheaper one (benchmarks, tests). A denial still falls back. */
  strategy?: TagStrategy;
  info?: (message: string) => void;
}

export interface UserTagsRead {
  /**
   * Tags by user name, each user's keys as IAM gives them (`{}` for a user without tags). A user
   * missing from the map no longer exists. Empty when `gap` is set: see {@link readUserTags}.
   */
  tags: Map<string, Record<string, string>>;
  gap: Gap | null;
}

/**
 * Reads the tags of `users` (the users with a stale key; the root user has none and is skipped).
 *
 * All or nothing: when a call is denied or keeps failing, every tag read so far is dropped and the
 * gap says why, so a later step never applies owners or exemptions to some users and not to the
 * others from one failed read. No new `ListUserTags` starts after the first failure.
 *
 * `GetAccountAuthorizationDetails` denied falls back to `ListUserTags` user by user: its permission
 * is the broader one, and many roles will not have it. The denied request is the only one wasted.
 */
export async function readUserTags(
  iam: IamApi,
  users: readonly string[],
  opts: ReadUserTagsOptions,
): Promise<UserTagsRead> {
  const wanted = [...new Set(users)].filter((user) => user !== ROOT_USER);
  if (wanted.length === 0) return { tags: new Map(), gap: null };
  const strategy = opts.strategy ?? chooseTagStrategy(opts.accountUsers, wanted.length);
  const who = plural(wanted.length, 'user', 'users');

  if (strategy === 'account-details') {
    opts.info?.(
      `Reading the tags of ${who} from GetAccountAuthorizationDetails (${count(opts.accountUsers)} users in the account).`,
    );
    try {
      return { tags: await byAccountDetails(iam, wanted), gap: null };
    } catch (err) {
      if (!isAccessDenied(err)) return { tags: new Map(), gap: tagGap('iam:GetAccountAuthorizationDetails', err) };
      opts.info?.('iam:GetAccountAuthorizationDetails is not allowed; reading the tags user by user instead.');
    }
  } else {
    opts.info?.(`Reading the tags of ${who} with ListUserTags.`);
  }

  try {
    return { tags: await byListUserTags(iam, wanted, opts.concurrency ?? DEFAULT_CONCURRENCY), gap: null };
  } catch (err) {
    return { tags: new Map(), gap: tagGap('iam:ListUserTags', err) };
  }
}

async function byListUserTags(
  iam: IamApi,
  users: readonly string[],
  concurrency: number,
): Promise<Map<string, Record<string, string>>> {
  const limit = pLimit(concurrency);
  let failure: { err: unknown } | undefined;
  const read = await Promise.all(
    users.map((user) =>
      limit(async () => {
        if (failure) return undefined;
        try {
          return tagRecord(await iam.listUserTags(user));
        } catch (err) {
          if (awsErrorCode(err) === 'NoSuchEntity') return undefined; // Deleted since the inventory.
          failure ??= { err };
          return undefined;
        }
      }),
    ),
  );
  if (failure) throw failure.err;
  const tags = new Map<string, Record<string, string>>();
  users.forEach((user, i) => {
    const record = read[i];
    if (record) tags.set(user, record);
  });
  return tags;
}

async function byAccountDetails(iam: IamApi, users: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const wanted = new Set(users);
  const found = new Map<string, Record<string, string>>();
  for await (const detail of iam.userDetailsWithTags()) {
    if (wanted.has(detail.user)) found.set(detail.user, tagRecord(detail.tags));
  }
  // In the order asked, as ListUserTags gives them.
  const tags = new Map<string, Record<string, string>>();
  for (const user of users) {
    const record = found.get(user);
    if (record) tags.set(user, record);
  }
  return tags;
}

function tagRecord(tags: readonly IamTag[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { key, value } of tags) record[key] = value;
  return record;
}

function tagGap(permission: string, err: unknown): Gap {
  const what = 'Owners and exemptions were not read';
  if (isExpiredSession(err)) {
    return {
      what: `${what} (the AWS session expired before they were)`,
      fix: 'Raise role-duration-seconds, or run again',
      couldHideStale: false,
    };
  }
  if (isAccessDenied(err)) {
    return {
      what: `${what} (${permission} was denied)`,
      fix:
        permission === 'iam:ListUserTags'
          ? 'Grant iam:ListUserTags (or iam:GetAccountAuthorizationDetails, which reads a large account in fewer requests)'
          : `Grant ${permission}`,
      couldHideStale: false,
    };
  }
  return {
    what: `${what} (${permission} failed: ${awsErrorCode(err)})`,
    fix: 'Run again: IAM kept failing after retries',
    couldHideStale: false,
  };
}
