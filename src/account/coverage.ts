/**
 * What a scan could not check, and whether that leaves it incomplete. Pure. A gap in which a stale
 * key could hide makes the scan incomplete: its summary never says ✅, its tracking issue is never
 * closed, and no key it could not see is called resolved.
 */
import type { AccessKey, Gap } from '../model.js';
import { daysSince } from './judge.js';
import { plural } from '../render/markdown.js';
import type { ScanResult } from './result.js';

/** Every gap of a scan: what the inventory could not see, then the verdicts the judgement could not make. */
export function scanGaps(result: ScanResult): Gap[] {
  const gaps = [...result.inventory.coverage.gaps];
  const { undetermined } = result.judgement;
  const ageUnknown = undetermined.filter((k) => daysSince(k.createDate, result.now) === null).length;
  const useUnknown = undetermined.length - ageUnknown;
  if (ageUnknown > 0) {
    gaps.push({
      what: `${plural(ageUnknown, 'key has', 'keys have')} no creation date or one in the future, so max-age-days (${result.policy.maxAgeDays}) could not be checked for ${ageUnknown === 1 ? 'it' : 'them'}`,
      fix: "Check the runner's clock, and the dates in the credential report",
      couldHideStale: true,
    });
  }
  if (useUnknown > 0) {
    gaps.push({
      what: `The last use of ${plural(useUnknown, 'active key', 'active keys')} is unknown, so max-unused-days (${result.policy.maxUnusedDays}) could not be checked for ${useUnknown === 1 ? 'it' : 'them'}`,
      fix: 'Grant iam:GetAccessKeyLastUsed',
      couldHideStale: true,
    });
  }
  return gaps;
}

/** Whether a stale key could have gone unseen. */
export function isIncomplete(result: ScanResult): boolean {
  return scanGaps(result).some((g) => g.couldHideStale);
}

/**
 * Whether the scan saw `key`'s user and judged it fully, so that a key listed before and not
 * stale now has really been resolved. Keys are named by user (the tracking issue records them so).
 */
export function sawUser(result: ScanResult, user: string, root: boolean): boolean {
  const { coverage } = result.inventory;
  if (root) return coverage.rootChecked;
  if (coverage.unseenUsers === 'all' || coverage.unseenUsers.has(user)) return false;
  return !result.judgement.undetermined.some((k: AccessKey) => k.user === user);
}
