/**
 * Each account's tracking issue in the organisation mode, exactly as a matrix job keeps it (same
 * marker, title and labels), so a team can move between the modes without a second issue. One
 * client, one listing of the open issues, one write budget for the whole run.
 */
import * as core from '@actions/core';
import type { ScanResult } from '../account/result.js';
import type { KeyIdStyle } from '../render/present.js';
import type { RunContext } from '../runner/context.js';
import type { Config } from '../inputs.js';
import { ORGANISATION_DEADLINE_MS } from '../tracking-issue/github-client.js';
import { createIssuesApi } from '../tracking-issue/issues-api.js';
import { syncTrackingIssues } from '../tracking-issue/sync.js';
import type { AccountRun } from './overview.js';

/** Brings every scanned account's issue up to date and fills in each run's `issue`; an unscanned account's is left alone. */
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
    deadlineMs: ORGANISATION_DEADLINE_MS,
  });
  const scanned = runs.filter((r): r is AccountRun & { result: ScanResult } => r.result !== null);
  const outcomes = await syncTrackingIssues(
    api,
    scanned.map((r) => r.result),
    { ...config.issue, keyId, runUrl: run.runUrl },
    { info: core.info, warning: core.warning },
  );
  scanned.forEach((r, i) => (r.issue = outcomes[i] ?? null));
}
