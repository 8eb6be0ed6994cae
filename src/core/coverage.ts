/**
 * What a scan could not check, and whether that leaves it incomplete. Pure. A gap in which a stale
 * key could hide makes the scan incomplete: its summary never says ✅, its tracking issue is never
 * closed, and no key it could not see is called resolved.
 */
import type { AccessKey, Gap } from '../model.js';
import { plural } from './markdown.js';
import type { ScanResult } from './scan.js';

/** Every gap of a scan: what the inventory could not see, then the verdicts the judgement could not make. */
export function scanGaps(result: ScanResult): Gap[] {
  const gaps = [...result.inventory.coverage.gaps];
  const undetermined = result.judgement.undetermined.length;
  if (undetermined > 0) {
    gaps.push({
      what: `The last use of ${plural(undetermined, 'active key', 'active keys')} is unknown, so max-unused-days (${result.policy.maxUnusedDays}) could not be checked for ${undetermined === 1 ? 'it' : 'them'}`,
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
