/** Everything one bench run measured: what the targets are judged on and the report is written from. */
import type { StartupRun } from './bundle.js';
import type { OrganizationRow } from './organization.js';
import type { LookupRow } from './tracking-lookups.js';
import type { TagRow } from './user-tags.js';
import { median } from './format.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import type { ScanRow } from './scans.js';
import type { FetchOutcome, Measured, ParseOutcome } from './tasks.js';

/** One large report, parsed and fetched once in each of several fresh child processes. */
export interface LargeReport {
  userCount: number;
  keyCount: number;
  csvBytes: number;
  parse: Array<Measured<ParseOutcome>>;
  fetch: Array<Measured<FetchOutcome>>;
}

export interface BenchResults {
  options: BenchOptions;
  /** The command line that reproduces this run. */
  command: string;
  machine: Machine;
  node24: string;
  startedAt: Date;
  totalMs: number;
  /** By size, then method. */
  scans: ScanRow[];
  /** The API method under the throttle. */
  throttled: ScanRow | undefined;
  largeReport: LargeReport;
  /** Peak memory of a child process that does nothing. */
  idleRssBytes: number;
  bundleBytes: number;
  startup: StartupRun[];
  /** The organisation scenario, if it ran. */
  organization: OrganizationRow | undefined;
  /** GitHub requests to find and keep the tracking issues, by accounts in the repository. */
  trackingLookups: LookupRow[];
  /** Reading the flagged users' tags each way, by account; empty when skipped. */
  userTags: TagRow[];
}

export interface RunsSummary {
  medianMs: number;
  /** The highest peak memory of any run. */
  peakRssBytes: number;
  rssBeforeBytes: number;
}

export function summarize(runs: ReadonlyArray<Measured<ParseOutcome | FetchOutcome>>): RunsSummary {
  return {
    medianMs: median(runs.map((run) => run.ms)),
    peakRssBytes: Math.max(...runs.map((run) => run.peakRssBytes)),
    rssBeforeBytes: Math.max(...runs.map((run) => run.rssBeforeBytes)),
  };
}

/** The scan of `users` users by `method`, if it ran. */
export const scanOf = (r: BenchResults, users: number, method: ScanRow['method']): ScanRow | undefined =>
  r.scans.find((s) => s.truth.users === users && s.method === method);

/** How many times faster than the baseline on the same account, under the same conditions. */
export function speedup(r: BenchResults, row: ScanRow): number | undefined {
  if (!r.scans.includes(row)) return undefined; // The throttled run has no baseline to compare with.
  const baseline = scanOf(r, row.truth.users, 'baseline');
  return baseline ? baseline.wallMs / row.wallMs : undefined;
}

/** The credential report's bound on IAM requests: three for the report, one per flagged user. */
export const reportBound = (row: ScanRow): number => 3 + row.truth.flaggedUsers;
