/** Calendar arithmetic in UTC, so a runner's time zone never shifts an age by a day. */

const MS_PER_DAY = 86_400_000;

/** Whole UTC calendar days from `from` to `to`: 2026-08-23T23:59Z → 2026-11-21T00:01Z is 90. */
export function utcDaysBetween(from: Date, to: Date): number {
  return Math.floor(to.getTime() / MS_PER_DAY) - Math.floor(from.getTime() / MS_PER_DAY);
}

/** `YYYY-MM-DD` of an instant in UTC. */
export function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
