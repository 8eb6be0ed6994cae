/** The result of one scan, as every report and sink sees it. */
import type { Account, Inventory, Judgement } from '../model.js';
import type { Policy } from './judge.js';

export interface ScanResult {
  account: Account;
  inventory: Inventory;
  judgement: Judgement;
  policy: Policy;
  /** The instant the judgement was made against. */
  now: Date;
  /** Deactivation after notice, when `deactivate-after-days` is on and the tracking issue was read. */
  deactivation?: DeactivationReport;
}

/** What a run did, or in a dry run would do, about stale keys whose notice ran out. */
export interface DeactivationReport {
  dryRun: boolean;
  afterDays: number;
  /** Each key acted on, oldest first. */
  keys: Deactivation[];
  /** Keys due but over `max-deactivations`: the next run takes them. */
  deferred: number;
  /** Per key ID: the day a listed stale key will be deactivated, when not this run. */
  scheduled: ReadonlyMap<string, string>;
}

export interface Deactivation {
  user: string;
  accessKeyId: string;
  /** The day the tracking issue first listed it, `YYYY-MM-DD`. */
  firstListed: string;
  /**
   * `deactivated`: now Inactive. `would-deactivate`: a dry run. `changed`: left alone, as the live
   * look found it deleted or no longer active. `failed`: IAM refused (`error` says why).
   */
  outcome: 'deactivated' | 'would-deactivate' | 'changed' | 'failed';
  error?: string;
}

/** `2026-11-21 04:00 UTC` */
export function utcMinute(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
