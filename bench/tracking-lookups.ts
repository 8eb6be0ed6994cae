/**
 * What finding the tracking issues costs as accounts share one repository, counted by the fake
 * GitHub (no latency, no rate limits): a matrix job's lookup of its account's issue, and a run over
 * every account (organisation mode) where nothing changed. Each account has one open issue, up to
 * date, and `closedPerAccount` closed ones. For docs/benchmarks.md, via `npm run bench`.
 */
import { fullKeyId } from '../src/render/present.js';
import { accountIssueLabel, issueTitle, renderIssueBody } from '../src/tracking-issue/plan.js';
import { startFakeGithub, type FakeGithub } from '../test/fakes/github.js';
import { scanResult } from '../test/helpers/scan-fixtures.js';
import {
  accountId,
  forAccount,
  LABELS,
  matrixJob,
  organisationRun,
  staleScan,
  TRACKING,
} from '../test/helpers/tracking-scale.js';

export interface LookupRow {
  /** Accounts with issues in the repository. */
  accounts: number;
  openIssues: number;
  closedIssues: number;
  /** A matrix job whose account's open issue is up to date: its requests in all. */
  matrixJob: number;
  /** A matrix job for an account with no issue and no stale key. */
  matrixJobNoIssue: number;
  /** Before account labels (issue #8): every page of open issues with the labels, 10 at most, per job. */
  matrixJobBefore: number;
  /** A matrix over every account: its jobs' requests together (every job run), and before. */
  matrixRun: number;
  matrixRunBefore: number;
  /** One run over every account (organisation mode), nothing changed: its requests in all. */
  organisationRun: number;
  /** Writes of either, nothing having changed. */
  writes: number;
}

/** Seeds `accounts` accounts, each with an up-to-date open issue and `closed` closed ones. */
function seed(gh: FakeGithub, accounts: number, closed: number) {
  const scans = [];
  for (let n = 1; n <= accounts; n++) {
    const scan = staleScan(accountId(n), 1);
    const labels = [...LABELS, accountIssueLabel(scan.account.id)];
    const title = issueTitle(TRACKING.titleTemplate, scan);
    const marker = `<!-- iam-stale-keys:tracking {"v":1,"account":"${scan.account.id}","digest":"x","count":1,"keys":{}} -->`;
    for (let c = 0; c < closed; c++) gh.addIssue({ title, body: marker, labels, state: 'closed' });
    const body = renderIssueBody(scan, { keyId: fullKeyId, runUrl: TRACKING.runUrl, previous: null });
    gh.addIssue({ title, body, labels });
    scans.push(scan);
  }
  return scans;
}

export async function measureTrackingLookups(
  sizes: readonly number[] = [10, 100, 1_000],
  closedPerAccount = 10,
): Promise<LookupRow[]> {
  const rows: LookupRow[] = [];
  for (const accounts of sizes) {
    const gh = await startFakeGithub({ requestsPerHour: false, writesPerMinute: false, writesPerHour: false });
    try {
      const scans = seed(gh, accounts, closedPerAccount);
      const count = async (work: () => Promise<unknown>) => {
        const from = gh.requests.length;
        await work();
        return gh.requests.length - from;
      };
      const matrix = await count(() => matrixJob(gh, scans[0]!));
      const matrixRun = await count(async () => {
        for (const scan of scans) await matrixJob(gh, scan);
      });
      const noIssue = await count(() => matrixJob(gh, forAccount(scanResult([]), '999999999999')));
      const organisation = await count(() => organisationRun(gh, scans));
      const openIssues = gh.issues.filter((i) => i.state === 'open').length;
      const before = Math.min(10, Math.ceil(openIssues / 100));
      rows.push({
        accounts,
        openIssues,
        closedIssues: gh.issues.length - openIssues,
        matrixJob: matrix,
        matrixJobNoIssue: noIssue,
        matrixJobBefore: before,
        matrixRun,
        matrixRunBefore: before * accounts,
        organisationRun: organisation,
        writes: gh.writes().length,
      });
    } finally {
      await gh.close();
    }
  }
  return rows;
}
