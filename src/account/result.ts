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
}

/** `2026-11-21 04:00 UTC` */
export function utcMinute(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
