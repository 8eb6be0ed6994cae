/** What a run depends on from outside: the clock, the pause, the environment. Tests pass their own. */
import * as core from '@actions/core';
import { fullKeyId, redactKeyId, type KeyIdStyle } from '../render/present.js';
import type { RunContext } from '../runner/context.js';
import type { Config } from '../inputs.js';
import type { ScanResult } from '../account/result.js';
import { sleep as realSleep, type Sleep } from '../retry.js';

export interface Runtime {
  now: () => Date;
  sleep: Sleep;
  env: NodeJS.ProcessEnv;
}

export const defaultRuntime: Runtime = { now: () => new Date(), sleep: realSleep, env: process.env };

/** This step's summary, replaced whole on each call (the file is this step's own). */
export async function writeSummary(env: NodeJS.ProcessEnv, markdown: string): Promise<void> {
  if (!env.GITHUB_STEP_SUMMARY) {
    core.info('GITHUB_STEP_SUMMARY is not set: no job summary written.');
    return;
  }
  await core.summary.emptyBuffer().addRaw(markdown).write({ overwrite: true });
}

/** `redact-key-ids: auto` redacts unless the event says the repository is private. */
export function keyIdStyle(config: Config, run: RunContext): KeyIdStyle {
  const redact = config.redactKeyIds === 'true' || (config.redactKeyIds === 'auto' && !run.repositoryIsPrivate);
  return redact ? redactKeyId : fullKeyId;
}

/** `notified`: whether any chat took the message; `notified-channels`: which, as `wecom,slack`. */
export function setNotifiedOutputs(channels: readonly string[]): void {
  core.setOutput('notified', channels.length > 0);
  core.setOutput('notified-channels', channels.join(','));
}

/**
 * `deactivated-keys`: each key the run deactivated, would have in a dry run, left alone because it
 * changed, or could not; `[]` when none was due or deactivation is off.
 */
export function setDeactivationOutputs(result: ScanResult | readonly ScanResult[]): void {
  const results: readonly ScanResult[] = Array.isArray(result) ? result : [result];
  const keys = results.flatMap((r) =>
    (r.deactivation?.keys ?? []).map((k) => ({ accountId: r.account.id, ...k, dryRun: r.deactivation!.dryRun })),
  );
  core.setOutput('deactivated-keys', JSON.stringify(keys));
}
