/**
 * Deactivation after notice, the pure part: which stale keys the tracking issue has listed long
 * enough to be deactivated now, and when each other one will be. Key by key, never by user: a
 * user's fresh key is never touched because its old one is stale. Never a root key, never an
 * exempted key (those are not stale), never a key the issue did not list, never more than the cap,
 * oldest first. The clock is passed in.
 */
import type { Finding } from '../model.js';
import { utcDate, utcDaysBetween } from './days.js';

export interface DeactivationSettings {
  /** Days a key must have been listed in the tracking issue before it is deactivated; 0 turns it off. */
  afterDays: number;
  /** Report what would be deactivated, and change nothing. */
  dryRun: boolean;
  /** Keys deactivated at most per account and run. */
  max: number;
}

/** A stale key whose notice has run out. */
export interface DueDeactivation {
  finding: Finding & { accessKeyId: string };
  /** The day the tracking issue first listed the key, `YYYY-MM-DD`. */
  firstListed: string;
}

export interface DeactivationPlan {
  /** Deactivate these now, oldest first, at most `max`. */
  due: DueDeactivation[];
  /** Due but over `max`: left for the next run. */
  deferred: number;
  /** Per key ID: the day a listed active key will be deactivated, when not today. */
  scheduled: ReadonlyMap<string, string>;
}

/** The day `afterDays` after `day`, `YYYY-MM-DD`. */
export function addDays(day: string, days: number): string {
  return utcDate(new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000));
}

/**
 * Plans the deactivations of one account. `firstListed(finding)` is the day the tracking issue
 * first listed the key, or `null` when it never did (a key is deactivated only after a notice).
 */
export function planDeactivations(
  stale: readonly Finding[],
  firstListed: (finding: Finding) => string | null,
  settings: DeactivationSettings,
  now: Date,
): DeactivationPlan {
  const due: DueDeactivation[] = [];
  const scheduled = new Map<string, string>();
  if (settings.afterDays <= 0) return { due, deferred: 0, scheduled };
  for (const finding of stale) {
    if (finding.root || !finding.accessKeyId || finding.status !== 'Active') continue;
    const listed = firstListed(finding);
    if (!listed) continue;
    const on = addDays(listed, settings.afterDays);
    if (utcDaysBetween(now, new Date(`${on}T00:00:00Z`)) <= 0) {
      due.push({ finding: finding as Finding & { accessKeyId: string }, firstListed: listed });
    } else {
      scheduled.set(finding.accessKeyId, on);
    }
  }
  // Oldest first: the key that has been stale longest goes first when the cap bites.
  const created = (d: DueDeactivation) => d.finding.createDate?.getTime() ?? 0;
  due.sort((a, b) => created(a) - created(b) || a.finding.accessKeyId.localeCompare(b.finding.accessKeyId, 'en'));
  const kept = due.slice(0, Math.max(0, settings.max));
  return { due: kept, deferred: due.length - kept.length, scheduled };
}
