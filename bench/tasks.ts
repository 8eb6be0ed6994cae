/**
 * What the parent asks a child process to do, and what the child answers. Each measurement runs in
 * its own child so its peak memory is its own; the fake AWS stays in the parent.
 */
import { readFileSync } from 'node:fs';
import type { Policy } from '../src/account/judge.js';

/** The action's two inventories, and the naive per-user scan they are compared with. */
export type ScanMethod = 'credential-report' | 'api' | 'baseline';

export type Task =
  | { kind: 'scan'; method: ScanMethod; now: string; policy: Policy }
  | { kind: 'parse'; csvPath: string }
  /** Fetch the report from the fake at `AWS_ENDPOINT_URL_IAM`. */
  | { kind: 'fetch-report' }
  /** Loads nothing: the floor of a child's memory (Node and the bundle's entry). */
  | { kind: 'idle' };

export interface ScanOutcome {
  /** From creating the IAM client to the judgement, in ms. */
  wallMs: number;
  userCount: number;
  keyCount: number;
  /** IDs of the keys judged stale, sorted. */
  staleKeyIds: string[];
  /** Stale keys without an ID (the report has none; each must have been confirmed live). */
  staleWithoutId: number;
  /** Key IDs seen more than once in the inventory. */
  duplicateKeyIds: number;
}

export interface ParseOutcome {
  /** The one parse, in ms. */
  ms: number;
  userCount: number;
  keyCount: number;
  /** Peak RSS with the CSV read, before parsing. */
  rssBeforeBytes: number;
}

export interface FetchOutcome {
  /** The `GetCredentialReport` call, in ms. */
  ms: number;
  csvBytes: number;
  /** Peak RSS with the SDK loaded and the report generated, before fetching it. */
  rssBeforeBytes: number;
}

/** Every answer carries the child's peak resident memory. */
export type Measured<T> = T & { peakRssBytes: number };

export type Outcome<T extends Task> = T extends { kind: 'scan' }
  ? ScanOutcome
  : T extends { kind: 'parse' }
    ? ParseOutcome
    : T extends { kind: 'fetch-report' }
      ? FetchOutcome
      : Record<string, never>;

/**
 * This process's peak resident memory so far: `VmHWM` of /proc/self/status on Linux. Not
 * `process.resourceUsage().maxRSS`: Linux carries the high-water mark of the memory a child had
 * between fork and exec (a copy of its parent's) into it, so every child of a large parent would
 * report at least the parent's size. Elsewhere, `maxRSS` it is.
 */
export function peakRssBytes(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // No procfs: not Linux.
  }
  return process.resourceUsage().maxRSS * 1024;
}
