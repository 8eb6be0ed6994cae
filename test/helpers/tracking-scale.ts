/**
 * Many accounts' tracking issues against the fake GitHub: scans for made-up accounts, a repository
 * seeded with other accounts' open and closed issues, and a run of the tracking-issue stage in
 * either mode, with what it logged. Shared by test/integration/tracking-scale.test.ts and the
 * benchmark of lookups (bench/tracking-lookups.ts).
 */
import { fullKeyId } from '../../src/render/present.js';
import type { ScanResult } from '../../src/account/result.js';
import { accountIssueLabel } from '../../src/tracking-issue/plan.js';
import { createIssuesApi, type IssuesApi, type IssuesApiOptions } from '../../src/tracking-issue/issues-api.js';
import {
  syncTrackingIssue,
  syncTrackingIssues,
  type TrackingOptions,
  type TrackingOutcome,
} from '../../src/tracking-issue/sync.js';
import type { FakeGithub } from '../fakes/github.js';
import { key, scanResult } from './scan-fixtures.js';

export const LABELS = ['security', 'stale-access-keys'];
export const TOKEN = 'ghs_trackingScaleToken000000000000000';

export const TRACKING: TrackingOptions = {
  titleTemplate: 'Stale AWS access keys in {account}',
  labels: LABELS,
  assignees: [],
  closeResolved: true,
  keyId: fullKeyId,
  runUrl: 'https://github.com/octo-org/security/actions/runs/1',
};

/** The n-th made-up account's ID: 200000000001, 200000000002, … */
export function accountId(n: number): string {
  return String(200_000_000_000 + n);
}

/** `result` as the scan of another account. */
export function forAccount(result: ScanResult, id: string, alias: string | null = `acct-${id.slice(-4)}`): ScanResult {
  return {
    ...result,
    account: { ...result.account, id, alias, callerArn: result.account.callerArn.replace(/\d{12}/, id) },
  };
}

/** A scan of account `id` with `stale` stale keys. */
export function staleScan(id: string, stale: number): ScanResult {
  const keys = Array.from({ length: stale }, (_, i) => key(`user${i}`, 100 + i));
  return forAccount(scanResult(keys), id);
}

function markerBody(id: string): string {
  return `<!-- iam-stale-keys:tracking {"v":1,"account":"${id}","digest":"x","count":1,"keys":{}} -->\n\nSeeded.`;
}

/**
 * Seeds other accounts' tracking issues, as this version opens them (with their account label) or
 * as earlier versions did (`legacy`: the issue labels only): each account one open issue and
 * `closed` closed ones. Seeding records no request.
 */
export function seedAccounts(
  gh: FakeGithub,
  accounts: number,
  options: { closed?: number; legacy?: boolean; from?: number } = {},
): void {
  for (let n = options.from ?? 1; n < (options.from ?? 1) + accounts; n++) {
    const id = accountId(n);
    const labels = options.legacy ? LABELS : [...LABELS, accountIssueLabel(id)];
    const title = `Stale AWS access keys in acct-${id.slice(-4)} (${id})`;
    for (let c = 0; c < (options.closed ?? 0); c++) {
      gh.addIssue({ title, body: markerBody(id), labels, state: 'closed' });
    }
    gh.addIssue({ title, body: markerBody(id), labels });
  }
}

export interface StageRun {
  outcomes: TrackingOutcome[];
  info: string[];
  warnings: string[];
  api: IssuesApi;
  ms: number;
}

/** A client on the fake, its time unit small unless told. */
export function issuesApi(gh: FakeGithub, client: Partial<IssuesApiOptions> = {}, info: string[] = []): IssuesApi {
  return createIssuesApi({
    token: TOKEN,
    owner: gh.owner,
    repo: gh.repo,
    baseUrl: gh.url,
    requestTimeoutMs: 2_000,
    retryUnitMs: 5,
    deadlineMs: 20_000,
    throttle: false,
    info: (m) => info.push(m),
    ...client,
  });
}

/** One matrix job: one account, its own client. */
export async function matrixJob(
  gh: FakeGithub,
  result: ScanResult,
  client: Partial<IssuesApiOptions> = {},
): Promise<StageRun> {
  const info: string[] = [];
  const warnings: string[] = [];
  const api = issuesApi(gh, client, info);
  const started = Date.now();
  const outcome = await syncTrackingIssue(api, result, TRACKING, {
    info: (m) => info.push(m),
    warning: (m) => warnings.push(m),
  });
  return { outcomes: [outcome], info, warnings, api, ms: Date.now() - started };
}

/** One run over many accounts (organisation mode): one client, the index, every account. */
export async function organisationRun(
  gh: FakeGithub,
  results: readonly ScanResult[],
  client: Partial<IssuesApiOptions> = {},
): Promise<StageRun> {
  const info: string[] = [];
  const warnings: string[] = [];
  const api = issuesApi(gh, client, info);
  const started = Date.now();
  const outcomes = await syncTrackingIssues(api, results, TRACKING, {
    info: (m) => info.push(m),
    warning: (m) => warnings.push(m),
  });
  return { outcomes, info, warnings, api, ms: Date.now() - started };
}
