/**
 * The tracking issue from the run: the single account's, or each account's in the organisation mode,
 * exactly as a matrix job keeps it (same marker, title and labels), so a team can move between the
 * modes without a second issue. In the organisation mode: one client, one listing of the open
 * issues, one write budget for the whole run.
 */
import * as core from '@actions/core';
import type { ScanResult } from '../account/result.js';
import type { KeyIdStyle } from '../render/present.js';
import type { RunContext } from '../runner/context.js';
import type { Config } from '../inputs.js';
import { ORGANISATION_DEADLINE_MS } from '../tracking-issue/github-client.js';
import { createIssuesApi, type IssuesApi } from '../tracking-issue/issues-api.js';
import {
  isForbiddenIntegration,
  syncTrackingIssue,
  syncTrackingIssues,
  type BeforeRender,
  type TrackingOutcome,
} from '../tracking-issue/sync.js';
import type { AccountRun } from './overview.js';

const NO_ISSUE: TrackingOutcome = { action: 'none', number: null, url: null, changed: null };

/** The issues API for this repository, or `null` (said once) when the issue is off or the repository unknown. */
function openIssuesApi(config: Config, run: RunContext, deadlineMs?: number): IssuesApi | null {
  if (!config.issue.enabled) return null;
  if (!run.owner || !run.repo) {
    core.warning('GITHUB_REPOSITORY is not set, so no tracking issue was opened or updated.');
    return null;
  }
  return createIssuesApi({
    token: config.issue.token,
    owner: run.owner,
    repo: run.repo,
    baseUrl: run.apiUrl,
    info: core.info,
    ...(deadlineMs !== undefined && { deadlineMs }),
  });
}

/** The single account's tracking issue. The sync says its own failures; this never hides the scan. */
export async function trackAccount(
  result: ScanResult,
  config: Config,
  run: RunContext,
  keyId: KeyIdStyle,
  beforeRender?: BeforeRender,
): Promise<TrackingOutcome> {
  const api = openIssuesApi(config, run);
  if (!api) return NO_ISSUE;
  try {
    return await syncTrackingIssue(
      api,
      result,
      { ...config.issue, keyId, runUrl: run.runUrl },
      { info: core.info, warning: core.warning },
      beforeRender ? { beforeRender } : {},
    );
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    core.warning(
      isForbiddenIntegration(err)
        ? `The token cannot write issues (${text}), so the tracking issue was not updated. Grant the job "permissions: issues: write", or set issue to false.`
        : `Could not update the tracking issue: ${text}. The scan's results above are complete.`,
    );
    return NO_ISSUE;
  }
}

/** Brings every scanned account's issue up to date and fills in each run's `issue`; an unscanned account's is left alone. */
export async function trackAccounts(
  runs: AccountRun[],
  config: Config,
  run: RunContext,
  keyId: KeyIdStyle,
  beforeRender?: BeforeRender,
): Promise<void> {
  const api = openIssuesApi(config, run, ORGANISATION_DEADLINE_MS);
  if (!api) return;
  const scanned = runs.filter((r): r is AccountRun & { result: ScanResult } => r.result !== null);
  // What the hook made of each account's result (its deactivations), to report.
  const acted = new Map<string, ScanResult>();
  const hook: BeforeRender | undefined =
    beforeRender &&
    (async (result, previous) => {
      const after = await beforeRender(result, previous);
      acted.set(result.account.id, after);
      return after;
    });
  const outcomes = await syncTrackingIssues(
    api,
    scanned.map((r) => r.result),
    { ...config.issue, keyId, runUrl: run.runUrl },
    { info: core.info, warning: core.warning },
    hook ? { beforeRender: hook } : {},
  );
  scanned.forEach((r, i) => {
    r.issue = outcomes[i] ?? null;
    r.result = acted.get(r.account.id) ?? r.result;
  });
}
