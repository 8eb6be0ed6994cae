/**
 * The single-account mode: the signed-in account, scanned, reported, tracked in its issue and told to
 * the team. The summary, the outputs and the outcome are settled before GitHub or a chat is asked
 * anything, so neither can hold them back.
 */
import * as core from '@actions/core';
import { scanAccount, type ScanSettings } from '../account/scan.js';
import { getCallerIdentity } from '../aws/credentials.js';
import { errorMessage } from '../aws/errors.js';
import { createIam } from '../aws/iam.js';
import { isIncomplete, scanGaps } from '../account/coverage.js';
import { count, plural } from '../render/markdown.js';
import { decideOutcome, type Outcome } from '../account/outcome.js';
import { keyLabel, reasonText, userLabel, type KeyIdStyle } from '../render/present.js';
import { buildReport, staleKeysJson } from '../account/report.js';
import { rotationSteps } from '../tracking-issue/rotation.js';
import type { ScanResult } from '../account/result.js';
import { renderFailedScan, renderSummary } from '../account/summary.js';
import { runContext } from '../runner/context.js';
import type { Config } from '../inputs.js';
import { writeReport } from '../account/report-file.js';
import type { TrackingOutcome } from '../tracking-issue/sync.js';
import { notifyConfig } from '../notifications/index.js';
import { notifyAccount } from '../notifications/notify.js';
import { keyIdStyle, setDeactivationOutputs, setNotifiedOutputs, writeSummary, type Runtime } from './runtime.js';
import { signIn } from './sign-in.js';
import { trackAccount } from './tracking.js';
import { deactivateAfterNotice } from './deactivation.js';
import type { IamApi } from '../aws/iam.js';

export async function runSingleAccount(config: Config, runtime: Runtime): Promise<Outcome> {
  let scanned: { result: ScanResult; iam: IamApi };
  try {
    scanned = await scan(config, runtime);
  } catch (err) {
    await writeSummary(runtime.env, renderFailedScan(errorMessage(err)));
    throw err;
  }
  try {
    return await publish(scanned.result, config, runtime, scanned.iam);
  } finally {
    scanned.iam.close();
  }
}

async function scan(config: Config, runtime: Runtime): Promise<{ result: ScanResult; iam: IamApi }> {
  const credentials = await signIn(config, runtime);
  const identity = await getCallerIdentity(config.awsRegion, credentials);
  core.info(`Scanning account ${identity.accountId} as ${identity.arn}.`);
  // Kept open after the scan: deactivation after notice looks at keys live, once the issue is read.
  const iam = createIam(identity.partition, credentials);
  const result = await scanAccount(identity, scanSettings(config), {
    iam,
    sleep: runtime.sleep,
    now: runtime.now(),
    info: core.info,
    warning: core.warning,
  });
  return { result, iam };
}

export function scanSettings(config: Config): ScanSettings {
  return {
    scanMethod: config.scanMethod,
    policy: config.policy,
    roleDurationSeconds: config.roleToAssume ? config.roleDurationSeconds : null,
    owners: config.owners,
  };
}

/**
 * Writes every report and runs every sink; returns the outcome. The summary, the outputs and the
 * outcome are settled before GitHub or a chat is asked anything, so neither can hold them back.
 */
async function publish(result: ScanResult, config: Config, runtime: Runtime, iam: IamApi): Promise<Outcome> {
  const { judgement, account, inventory } = result;
  const run = runContext(runtime.env);
  const keyId = keyIdStyle(config, run);
  const outcome = decideOutcome(result, config);
  // The result once the tracking issue, which is the notice, has been read: with what was deactivated.
  let acted = result;
  const summary = (issue?: TrackingOutcome) =>
    renderSummary(acted, {
      keyId,
      issue,
      rotation: rotationSteps(judgement.stale, keyId),
    });

  const reportPath = await writeReport(buildReport(result), runtime.env);
  const staleKeys = staleKeysJson(judgement);
  if (staleKeys.included < judgement.stale.length) {
    core.warning(
      `The stale-keys output lists ${count(staleKeys.included)} of ${count(judgement.stale.length)} stale keys to stay within GitHub's output size limit; the report file (report-path) has them all.`,
    );
  }
  core.setOutput('account-id', account.id);
  core.setOutput('scanned-users', inventory.userCount);
  core.setOutput('scanned-keys', judgement.scannedKeys);
  core.setOutput('stale-count', judgement.stale.length);
  core.setOutput('due-soon-count', judgement.dueSoon.length);
  core.setOutput('stale-keys', staleKeys.json);
  core.setOutput('report-path', reportPath);
  core.setOutput('scan-complete', !isIncomplete(result));
  logFindings(result, keyId);
  if (judgement.unmatchedExclusions.length > 0) {
    core.warning(
      `Input "exclude-users": ${judgement.unmatchedExclusions.map((p) => `"${p}"`).join(', ')} matched no IAM user with an access key. Check the spelling (names and globs such as svc-*, matched without regard to case).`,
    );
  }
  await writeSummary(runtime.env, summary());

  const deactivate = config.deactivation.afterDays > 0;
  const issue = await trackAccount(
    result,
    config,
    run,
    keyId,
    deactivate
      ? async (r, previous) =>
          (acted = await deactivateAfterNotice(r, previous, config.deactivation, { iam, keyId, info: core.info }))
      : undefined,
  );
  if (deactivate && !acted.deactivation) {
    core.warning(
      'No key was deactivated: the tracking issue, which is the notice and records when each key was first listed, could not be read.',
    );
  }
  setDeactivationOutputs(acted);
  core.setOutput('issue-number', issue.number ?? '');
  core.setOutput('issue-url', issue.url ?? '');
  core.setOutput('issue-action', issue.action);

  const notified = await notifyAccount(
    notifyConfig(config.notify),
    acted,
    {
      keyId,
      runUrl: run.runUrl,
      issue: issue.number && issue.url ? { number: issue.number, url: issue.url } : null,
      changed: issue.changed,
    },
    { sleep: runtime.sleep, setSecret: core.setSecret, env: runtime.env },
    { info: core.info, warning: core.warning },
  );
  setNotifiedOutputs(notified);

  // Again, now with the tracking issue and what was deactivated.
  if (issue.number || issue.problem || acted.deactivation) await writeSummary(runtime.env, summary(issue));
  return outcome;
}

function logFindings(result: ScanResult, keyId: KeyIdStyle): void {
  const { judgement, inventory, policy } = result;
  core.info(
    `${plural(inventory.userCount, 'user', 'users')}, ${plural(judgement.scannedKeys, 'key', 'keys')} scanned: ${count(judgement.stale.length)} stale, ${count(judgement.dueSoon.length)} due soon, ${count(judgement.excludedKeys)} excluded.`,
  );
  const shown = 50;
  for (const f of judgement.stale.slice(0, shown)) {
    const age = f.ageDays === null ? 'age unknown' : `${plural(f.ageDays, 'day', 'days')} old`;
    const reasons = f.reasons.map((r) => reasonText(r, policy)).join(', ');
    const status = f.status === 'Inactive' ? ' (inactive)' : '';
    core.info(`  stale: ${userLabel(f)} ${keyLabel(f, keyId)}${status}, ${age}: ${reasons}`);
  }
  if (judgement.stale.length > shown) core.info(`  …and ${count(judgement.stale.length - shown)} more in the summary.`);
  for (const gap of scanGaps(result)) {
    const log = gap.couldHideStale ? core.warning : core.info;
    log(`${gap.couldHideStale ? 'Not checked' : 'Note'}: ${gap.what}. Fix: ${gap.fix}.`);
  }
}
