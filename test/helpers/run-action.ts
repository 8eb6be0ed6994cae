/** `runActionWith` (./action-process.ts) under the Node 24 binary found by the e2e global setup. */
import { inject } from 'vitest';
import { runActionWith, type ActionRun, type RunOptions } from './action-process.js';

export type { ActionRun, RunOptions };

export function runAction(options: RunOptions = {}): Promise<ActionRun> {
  return runActionWith(inject('node24'), options);
}
