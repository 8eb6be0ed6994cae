/**
 * Each account's tracking issue in the organisation mode, exactly as a matrix job keeps it (same
 * marker, title and labels), so a team can move between the modes without a second issue.
 */
import * as core from '@actions/core';
import type { KeyIdStyle } from '../render/present.js';
import type { RunContext } from '../runner/context.js';
import { createIssuesApi } from '../tracking-issue/issues-api.js';
import type { Config } from '../inputs.js';
import { syncTrackingIssue } from '../tracking-issue/sync.js';
import { worstFirst, type AccountRun } from './overview.js';

/** Brings every scanned account's issue up to date, worst account first; fills in each run's `issue`. */
export async function trackAccounts(
  runs: AccountRun[],
  config: Config,
  run: RunContext,
  keyId: KeyIdStyle,
): Promise<void> {
  if (!config.issue.enabled) return;
  if (!run.owner || !run.repo) {
    core.warning('GITHUB_REPOSITORY is not set, so no tracking issue was opened or updated.');
    return;
  }
  const api = createIssuesApi({
    token: config.issue.token,
    owner: run.owner,
    repo: run.repo,
    baseUrl: run.apiUrl,
    info: core.info,
  });
  for (const account of worstFirst(runs)) {
    if (!account.result) continue;
    const log = (message: string) => core.info(`[${account.account.id}] ${message}`);
    account.issue = await syncTrackingIssue(
      api,
      account.result,
      { ...config.issue, keyId, runUrl: run.runUrl },
      { info: log, warning: log },
    );
  }
}
