/**
 * One run: inputs → credentials → inventory → judgement → reports → outcome. Each stage is its
 * own module; this file only wires them together and reports a failure once.
 */
import * as core from '@actions/core';
import { assumeRoleWithOidc, getCallerIdentity, type AwsCredentials } from './aws/credentials.js';
import { errorMessage, isAccessDenied } from './aws/errors.js';
import { createIam, type IamApi } from './aws/iam.js';
import { flaggedUsers, judge } from './core/judge.js';
import { count, plural } from './core/markdown.js';
import { fullKeyId, keyLabel, reasonText, redactKeyId, userLabel, type KeyIdStyle } from './core/present.js';
import { isIncomplete, scanGaps } from './core/coverage.js';
import { decideOutcome, type Outcome } from './core/outcome.js';
import { buildReport, staleKeysJson } from './core/report.js';
import { rotationSteps } from './core/rotation.js';
import type { ScanResult } from './core/scan.js';
import { renderFailedScan, renderSummary } from './core/summary.js';
import { runContext, type RunContext } from './github/context.js';
import { createIssuesApi } from './github/issues.js';
import { requestIdToken } from './github/oidc.js';
import { readConfig, type Config } from './inputs.js';
import { takeInventory } from './inventory.js';
import type { Account } from './model.js';
import { sleep as realSleep, type Sleep } from './retry.js';
import { writeReport } from './sinks/files.js';
import { isForbiddenIntegration, syncTrackingIssue, type TrackingOutcome } from './sinks/tracking-issue.js';
import { notifyWecom } from './sinks/wecom.js';

export interface Runtime {
  now: () => Date;
  sleep: Sleep;
  env: NodeJS.ProcessEnv;
}

const defaultRuntime: Runtime = { now: () => new Date(), sleep: realSleep, env: process.env };

export async function run(runtime: Runtime = defaultRuntime): Promise<void> {
  try {
    const read = (name: string) => core.getInput(name);
    maskSecretInputs(read);
    const config = readConfig(read);
    for (const warning of config.warnings) core.warning(warning);
    let result: ScanResult;
    try {
      result = await scan(config, runtime);
    } catch (err) {
      await writeSummary(runtime.env, renderFailedScan(errorMessage(err)));
      throw err;
    }
    const outcome = await publish(result, config, runtime);
    for (const warning of outcome.warnings) core.warning(warning);
    if (outcome.failure) core.setFailed(outcome.failure);
  } catch (err) {
    core.setFailed(err instanceof Error ? err.message : String(err));
  }
}

async function scan(config: Config, runtime: Runtime): Promise<ScanResult> {
  const credentials = await signIn(config, runtime);
  const identity = await getCallerIdentity(config.awsRegion, credentials);
  const iam = createIam(identity.partition, credentials);
  core.info(`Scanning account ${identity.accountId} as ${identity.arn}.`);

  const now = runtime.now();
  // The alias is for people only: look it up while the inventory runs.
  const [alias, inventory] = await Promise.all([
    accountAlias(iam),
    takeInventory(config.scanMethod, {
      iam,
      sleep: runtime.sleep,
      usersToConfirm: (keys) => flaggedUsers(judge(keys, config.policy, now)),
      lastUseMatters: config.policy.maxUnusedDays > 0,
      roleDurationSeconds: config.roleToAssume ? config.roleDurationSeconds : null,
      info: core.info,
      warning: core.warning,
    }),
  ]);
  const account: Account = { id: identity.accountId, alias, partition: identity.partition, callerArn: identity.arn };
  const judgement = judge(inventory.keys, config.policy, now);
  return { account, inventory, judgement, policy: config.policy, now };
}

async function signIn(config: Config, runtime: Runtime): Promise<AwsCredentials | undefined> {
  if (!config.roleToAssume) {
    core.info('No role-to-assume: using the AWS credentials already in the environment.');
    return undefined;
  }
  core.info(`Assuming ${config.roleToAssume} with the job's OIDC token (audience ${config.audience}).`);
  return assumeRoleWithOidc(
    { ...config, roleToAssume: config.roleToAssume },
    {
      getIdToken: (aud) =>
        requestIdToken(aud, { env: runtime.env, setSecret: core.setSecret, sleep: runtime.sleep, info: core.info }),
      setSecret: core.setSecret,
      sleep: runtime.sleep,
      info: core.info,
    },
  );
}

/** The account's alias, for people; optional, so a denial is not an error. */
async function accountAlias(iam: IamApi): Promise<string | null> {
  try {
    return (await iam.listAccountAliases())[0] ?? null;
  } catch (err) {
    if (isAccessDenied(err)) {
      core.info('iam:ListAccountAliases is not allowed; the account is shown by its ID.');
      return null;
    }
    throw err;
  }
}

/**
 * Writes every report and runs every sink; returns the outcome. The summary, the outputs and the
 * outcome are settled before GitHub or a chat is asked anything, so neither can hold them back.
 */
async function publish(result: ScanResult, config: Config, runtime: Runtime): Promise<Outcome> {
  const { judgement, account, inventory } = result;
  const run = runContext(runtime.env);
  const keyId = keyIdStyle(config, run);
  const outcome = decideOutcome(result, config);
  const summary = (issue?: TrackingOutcome) =>
    renderSummary(result, {
      keyId,
      issue,
      rotation: rotationSteps(judgement.stale, keyId),
    });

  const reportPath = await writeReport(buildReport(result), runtime.env);
  const staleKeys = staleKeysJson(judgement.stale);
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

  const issue = await trackInIssue(result, config, run, keyId);
  core.setOutput('issue-number', issue.number ?? '');
  core.setOutput('issue-url', issue.url ?? '');
  core.setOutput('issue-action', issue.action);

  const notified = await notifyWecom(
    config.wecom,
    result,
    {
      keyId,
      runUrl: run.runUrl,
      issue: issue.number && issue.url ? { number: issue.number, url: issue.url } : null,
      changed: issue.changed,
    },
    { sleep: runtime.sleep, setSecret: core.setSecret },
    { info: core.info, warning: core.warning },
  );
  core.setOutput('notified', notified);

  // Again, now with the tracking issue.
  if (issue.number || issue.problem) await writeSummary(runtime.env, summary(issue));
  return outcome;
}

/** This step's summary, replaced whole on each call (the file is this step's own). */
async function writeSummary(env: NodeJS.ProcessEnv, markdown: string): Promise<void> {
  if (!env.GITHUB_STEP_SUMMARY) {
    core.info('GITHUB_STEP_SUMMARY is not set: no job summary written.');
    return;
  }
  await core.summary.emptyBuffer().addRaw(markdown).write({ overwrite: true });
}

const NO_ISSUE: TrackingOutcome = { action: 'none', number: null, url: null, changed: null };

/** Every secret input is masked first, before a message about any input can be printed. */
function maskSecretInputs(read: (name: string) => string): void {
  for (const name of ['github-token', 'wecom-webhook-url', 'wecom-corp-secret']) {
    const value = read(name).trim();
    if (value) core.setSecret(value);
  }
  const key = /[?&]key=([^&#\s]+)/.exec(read('wecom-webhook-url'))?.[1];
  if (key) core.setSecret(decodeURIComponent(key));
}

/** The tracking issue. A failure here is reported once, as a warning, and never hides the scan. */
async function trackInIssue(
  result: ScanResult,
  config: Config,
  run: RunContext,
  keyId: KeyIdStyle,
): Promise<TrackingOutcome> {
  if (!config.issue.enabled) return NO_ISSUE;
  if (!run.owner || !run.repo) {
    core.warning('GITHUB_REPOSITORY is not set, so no tracking issue was opened or updated.');
    return NO_ISSUE;
  }
  const api = createIssuesApi({
    token: config.issue.token,
    owner: run.owner,
    repo: run.repo,
    baseUrl: run.apiUrl,
    info: core.info,
  });
  try {
    return await syncTrackingIssue(
      api,
      result,
      { ...config.issue, keyId, runUrl: run.runUrl },
      { info: core.info, warning: core.warning },
    );
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (isForbiddenIntegration(err)) {
      core.warning(
        `The token cannot write issues (${text}), so the tracking issue was not updated. Grant the job "permissions: issues: write", or set issue to false.`,
      );
    } else {
      core.warning(`Could not update the tracking issue: ${text}. The scan's results above are complete.`);
    }
    return NO_ISSUE;
  }
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

/** `redact-key-ids: auto` redacts unless the event says the repository is private. */
function keyIdStyle(config: Config, run: RunContext): KeyIdStyle {
  const redact = config.redactKeyIds === 'true' || (config.redactKeyIds === 'auto' && !run.repositoryIsPrivate);
  return redact ? redactKeyId : fullKeyId;
}
