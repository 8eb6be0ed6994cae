/**
 * The organisation mode: many accounts from one job. Scan them all (one account's failure is its
 * own row), then settle the outputs, the report, the summary and the outcome before GitHub or a
 * chat is asked anything; then each account's tracking issue, one digest to the team, and the
 * summary again with the issues.
 */
import * as core from '@actions/core';
import { ORGANISATION_FIRST_POLL_MS } from '../account/inventory.js';
import { getCallerIdentity } from '../aws/credentials.js';
import { errorMessage } from '../aws/errors.js';
import { renderFailedScan } from '../account/summary.js';
import { count, plural } from '../render/markdown.js';
import type { Outcome } from '../account/outcome.js';
import { runContext } from '../runner/context.js';
import type { Config } from '../inputs.js';
import { notifyConfig } from '../notifications/index.js';
import { notifyDigest } from '../notifications/notify.js';
import { scanOrganization, type OrganizationScan } from './organization.js';
import { renderOverview, type AccountRun } from './overview.js';
import { accountsJson, decideRunOutcome, RunReportWriter, runStaleKeysJson, runTotals } from './results.js';
import { keyIdStyle, setDeactivationOutputs, setNotifiedOutputs, writeSummary, type Runtime } from './runtime.js';
import { hubCredentials, idTokenGetter } from './sign-in.js';
import { scanSettings } from './single.js';
import { trackAccounts } from './tracking.js';
import { deactivateAfterNotice } from './deactivation.js';
import { createIam } from '../aws/iam.js';
import type { KeyIdStyle } from '../render/present.js';
import type { BeforeRender } from '../tracking-issue/sync.js';

export async function runOrganization(config: Config, runtime: Runtime): Promise<Outcome> {
  const now = runtime.now();
  let scanned: { scan: OrganizationScan; report: RunReportWriter };
  try {
    scanned = await scanAll(config, runtime, now);
  } catch (err) {
    // No account could be chosen (the hub's sign-in, or the organisation's listing, failed).
    await writeSummary(runtime.env, renderFailedScan(errorMessage(err)));
    throw err;
  }
  try {
    return await publish(scanned.scan, scanned.report, config, runtime, now);
  } finally {
    scanned.scan.sessions.close();
  }
}

async function scanAll(
  config: Config,
  runtime: Runtime,
  now: Date,
): Promise<{ scan: OrganizationScan; report: RunReportWriter }> {
  const accounts = config.accounts!;
  const hub = hubCredentials(config, runtime);
  const hubIdentity = await getCallerIdentity(config.awsRegion, hub);
  core.info(`Signed in to the hub account ${hubIdentity.accountId} as ${hubIdentity.arn}.`);
  const report = await RunReportWriter.open({ generatedAt: now, shard: accounts.shard }, runtime.env);
  const scan = await scanOrganization(
    {
      accounts,
      settings: { ...scanSettings(config), reportFirstPollMs: ORGANISATION_FIRST_POLL_MS },
      awsRegion: config.awsRegion,
      audience: config.audience,
      roleSessionName: config.roleSessionName,
      hubArn: config.roleToAssume,
    },
    {
      hub,
      hubIdentity,
      getIdToken: idTokenGetter(runtime),
      setSecret: core.setSecret,
      sleep: runtime.sleep,
      now: runtime.now,
      info: core.info,
      record: (run) => report.add(run),
    },
  );
  for (const id of scan.selection.unmatchedExclusions) {
    core.warning(`Input "exclude-accounts": ${id} is not among the accounts listed, so it excluded nothing.`);
  }
  return { scan, report };
}

async function publish(
  scan: OrganizationScan,
  report: RunReportWriter,
  config: Config,
  runtime: Runtime,
  now: Date,
): Promise<Outcome> {
  const run = runContext(runtime.env);
  const keyId = keyIdStyle(config, run);
  const { runs } = scan;
  const summary = () => renderOverview(runs, { keyId, source: scan.source, excluded: scan.selection.excluded, now });

  await report.finish(scan.source);
  setOutputs(runs, report.path);
  logRun(runs);
  const outcome = decideRunOutcome(runs, config);
  await writeSummary(runtime.env, summary());

  await trackAccounts(runs, config, run, keyId, deactivator(scan, config, keyId));
  if (config.deactivation.afterDays > 0) setDeactivationOutputs(runs.flatMap((r) => (r.result ? [r.result] : [])));
  else setDeactivationOutputs([]);
  core.setOutput('accounts', accountsJson(runs).json);
  const notified = await notifyDigest(
    notifyConfig(config.notify),
    runs,
    { runUrl: run.runUrl },
    { sleep: runtime.sleep, setSecret: core.setSecret, env: runtime.env },
    { info: core.info, warning: core.warning },
  );
  setNotifiedOutputs(notified);

  await writeSummary(runtime.env, summary());
  return outcome;
}

/**
 * Deactivation after notice in each account, once its issue is read: through the account's member
 * session, which the scan left open.
 */
function deactivator(scan: OrganizationScan, config: Config, keyId: KeyIdStyle): BeforeRender | undefined {
  if (config.deactivation.afterDays <= 0) return undefined;
  return async (result, previous) => {
    const id = result.account.id;
    const iam = createIam(result.account.partition, scan.sessions.credentials(id));
    try {
      return await deactivateAfterNotice(result, previous, config.deactivation, {
        iam,
        keyId,
        info: (message) => core.info(`[${id}] ${message}`),
      });
    } finally {
      iam.close();
    }
  };
}

function setOutputs(runs: readonly AccountRun[], reportPath: string): void {
  const totals = runTotals(runs);
  const staleKeys = runStaleKeysJson(runs);
  if (staleKeys.included < staleKeys.total) {
    core.warning(
      `The stale-keys output lists ${count(staleKeys.included)} of ${count(staleKeys.total)} stale keys to stay within GitHub's output size limit; the report file (report-path) has them all.`,
    );
  }
  const accounts = accountsJson(runs);
  if (accounts.included < accounts.total) {
    core.warning(
      `The accounts output lists ${count(accounts.included)} of ${count(accounts.total)} accounts, worst first, to stay within GitHub's output size limit; the report file (report-path) has them all.`,
    );
  }
  // One account's outputs say nothing of an organisation.
  for (const name of ['account-id', 'issue-number', 'issue-url', 'issue-action']) core.setOutput(name, '');
  core.setOutput('scanned-users', totals.users);
  core.setOutput('scanned-keys', totals.keys);
  core.setOutput('stale-count', totals.stale);
  core.setOutput('due-soon-count', totals.dueSoon);
  core.setOutput('stale-keys', staleKeys.json);
  core.setOutput('accounts', accounts.json);
  core.setOutput('accounts-scanned', totals.scanned);
  core.setOutput('accounts-failed', totals.failed);
  core.setOutput('scan-complete', totals.complete);
  core.setOutput('report-path', reportPath);
}

function logRun(runs: readonly AccountRun[]): void {
  const totals = runTotals(runs);
  core.info(
    `${plural(runs.length, 'account', 'accounts')}: ${count(totals.scanned)} scanned, ${count(totals.failed)} could not be; ${plural(totals.users, 'user', 'users')} and ${plural(totals.keys, 'key', 'keys')}: ${count(totals.stale)} stale, ${count(totals.dueSoon)} due soon.`,
  );
}
