/** The judgement: which keys are stale, which are due soon. Pure: keys, policy and `now` in, verdicts out. */
import type { AccessKey, DueSoon, Finding, Judgement, Reason } from '../model.js';
import { utcDaysBetween } from './days.js';

export interface Policy {
  /** An active key this many whole UTC days old or older is stale. */
  maxAgeDays: number;
  /** 0 = off. Otherwise an active key idle this many days (or never used and this old) is stale. */
  maxUnusedDays: number;
  /** Active keys within this many days of `maxAgeDays` are due soon. 0 = off. */
  warnDays: number;
  /** Report inactive keys past `maxAgeDays` too. */
  includeInactive: boolean;
  /** User names or globs (`*`, `?`), matched case-insensitively as IAM names are. Never applies to the root user. */
  excludeUsers: readonly string[];
}

/** A matcher for `exclude-users`: IAM user names are unique regardless of case, so matching ignores case. */
export function userMatcher(patterns: readonly string[]): (user: string) => boolean {
  if (patterns.length === 0) return () => false;
  const source = patterns
    .map((p) =>
      p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.'),
    )
    .join('|');
  const re = new RegExp(`^(?:${source})$`, 'i');
  return (user) => re.test(user);
}

/** Clock skew allowed between IAM and the runner: a date less than this after `now` is today's. */
const FUTURE_GRACE_MS = 86_400_000;

/**
 * Whole UTC days from `date` to `now`; `null` when there is no date, or when it lies more than a
 * day after `now` (a hand-edited report, or a runner's clock far behind): no age is ever negative,
 * and an impossible one is unknown rather than young.
 */
export function daysSince(date: Date | null, now: Date): number | null {
  if (date === null || date.getTime() - now.getTime() > FUTURE_GRACE_MS) return null;
  return Math.max(0, utcDaysBetween(date, now));
}

export function judge(keys: readonly AccessKey[], policy: Policy, now: Date): Judgement {
  const excluded = userMatcher(policy.excludeUsers);
  const stale: Finding[] = [];
  const dueSoon: DueSoon[] = [];
  const undetermined: AccessKey[] = [];
  const excludedUsers = new Set<string>();
  let excludedKeys = 0;
  let scannedKeys = 0;

  for (const key of keys) {
    if (!key.root && excluded(key.user)) {
      excludedUsers.add(key.user);
      excludedKeys++;
      continue;
    }
    scannedKeys++;
    const active = key.status === 'Active';
    const ageDays = daysSince(key.createDate, now);
    // Unknown last use says nothing: a key younger than max-unused-days cannot be idle that long,
    // but an older one may be.
    const idleDays = key.lastUsedDate ? daysSince(key.lastUsedDate, now) : key.lastUseKnown ? ageDays : null;
    const unusedUnknown =
      policy.maxUnusedDays > 0 && active && idleDays === null && (ageDays === null || ageDays >= policy.maxUnusedDays);
    // A key judged by age whose age is unknown (no date, or one in the future) may be stale.
    const ageUnknown = ageDays === null && (active || policy.includeInactive);

    const reasons: Reason[] = [];
    if (key.root) reasons.push('root-key');
    if (ageDays !== null && ageDays >= policy.maxAgeDays && (active || policy.includeInactive)) {
      reasons.push('age');
    }
    if (policy.maxUnusedDays > 0 && active && idleDays !== null && idleDays >= policy.maxUnusedDays) {
      reasons.push('unused');
    }

    if (reasons.length > 0) {
      stale.push({ ...key, ageDays, idleDays, reasons });
      continue;
    }
    if (unusedUnknown || ageUnknown) undetermined.push(key);
    if (active && ageDays !== null && policy.warnDays > 0 && ageDays >= policy.maxAgeDays - policy.warnDays) {
      dueSoon.push({ ...key, ageDays, daysLeft: policy.maxAgeDays - ageDays });
    }
  }

  stale.sort(byRootThenOldest);
  dueSoon.sort((a, b) => a.daysLeft - b.daysLeft || byName(a, b));
  undetermined.sort(byName);
  const unmatchedExclusions = policy.excludeUsers.filter((p) => {
    const matches = userMatcher([p]);
    return ![...excludedUsers].some(matches);
  });
  return {
    stale,
    dueSoon,
    scannedKeys,
    excludedUsers: [...excludedUsers].sort(),
    excludedKeys,
    unmatchedExclusions,
    undetermined,
    exempted: [],
    owners: new Map(),
    refusedExemptions: new Map(),
    tagNotes: [],
  };
}

/** Users with a stale key: the ones worth a live look (key IDs, current state, last use). */
export function flaggedUsers(judgement: Judgement): Set<string> {
  return new Set(judgement.stale.map((k) => k.user));
}

function byRootThenOldest(a: Finding, b: Finding): number {
  if (a.root !== b.root) return a.root ? -1 : 1;
  return (b.ageDays ?? -1) - (a.ageDays ?? -1) || byName(a, b);
}

function byName(a: AccessKey, b: AccessKey): number {
  return a.user.localeCompare(b.user, 'en') || (a.accessKeyId ?? '').localeCompare(b.accessKeyId ?? '', 'en');
}
