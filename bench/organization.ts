/**
 * The organisation mode at scale: the built dist/index.js run as a workflow runs it, against a fake
 * organisation of many accounts (each its own users, keys and a credential report that takes real
 * time to generate), with a latency on every AWS request. Measures the wall time, the child's peak
 * memory (sampled from /proc), and every AWS request by kind, and checks every account and every
 * stale key was accounted for.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { flaggedUsers, judge } from '../src/account/judge.js';
import { parseCredentialReport } from '../src/account/credential-report.js';
import { ROOT_USER } from '../src/model.js';
import { chooseTagStrategy, tagRequestCosts } from '../src/account/tags.js';
import { credentialReportCsv, seedOrganization, startFakeAws, type FakeAccount } from '../test/fakes/aws.js';
import { startFakeOidc } from '../test/fakes/oidc.js';
import { fakeEndpoints, runActionWith } from '../test/helpers/action-process.js';

export interface OrganizationBenchOptions {
  accounts: number;
  usersPerAccount: number;
  latencyMs: number;
  reportGenerationMs: number;
  concurrency: number;
  seed: number;
}

export interface OrganizationRow {
  options: OrganizationBenchOptions;
  wallMs: number;
  peakRssBytes: number;
  exitCode: number | null;
  /** Organizations list requests (every page, empty ones included). */
  listPages: number;
  assumeRole: number;
  /** Every IAM request, and the bound list pages + AssumeRole + Σ(3 + Sₐ) is checked against. */
  iam: number;
  /** Σ(3 + Sₐ): three report calls an account, and one ListAccessKeys per flagged user. */
  /** Σ(3 + Sₐ + Tₐ): the credential report, the flagged users' keys, and their tags. */
  iamBound: number;
  /** Σ Tₐ: requests for the tags of the flagged users. */
  tagRequests: number;
  /** STS requests other than AssumeRole (the hub's sign-in and identity). */
  otherSts: number;
  accountsScanned: number;
  staleFound: number;
  staleSeeded: number;
  /** How the result differs from the seed; empty when exact. */
  problems: string[];
}

const HUB_ROLE = 'arn:aws:iam::111111111111:role/iam-stale-keys-hub';

/** S of one account under the action's default policy: the users its report flags as stale. */
function flaggedByReport(account: FakeAccount, now: Date): number {
  const policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] };
  const flagged = flaggedUsers(judge(parseCredentialReport(credentialReportCsv(account)).keys, policy, now));
  flagged.delete(ROOT_USER);
  return flagged.size;
}

/** The peak resident set of a process so far (VmHWM), or 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function measureOrganization(node24: string, o: OrganizationBenchOptions): Promise<OrganizationRow> {
  const now = new Date();
  const org = seedOrganization({
    accounts: o.accounts,
    usersPerAccount: o.usersPerAccount,
    now,
    ous: [4, 2],
    staleRatio: 0.05,
    seed: o.seed,
  });
  for (const account of org.accounts) account.report = { generationMs: o.reportGenerationMs };
  const aws = await startFakeAws({
    accounts: org.accounts,
    organization: org.organization,
    memberRoleName: 'iam-stale-keys',
    latencyMs: o.latencyMs,
    pageSize: 1000,
  });
  const oidc = await startFakeOidc();
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const start = performance.now();
    const run = await runActionWith(node24, {
      inputs: {
        'role-to-assume': HUB_ROLE,
        accounts: 'organization',
        'account-concurrency': String(o.concurrency),
        issue: 'false',
      },
      env: { ...fakeEndpoints({ aws, oidc }), AWS_ENDPOINT_URL_ORGANIZATIONS: aws.url },
      timeoutMs: 900_000,
      onSpawn: (pid) => {
        timer = setInterval(() => (peak = Math.max(peak, peakRss(pid))), 100);
      },
    });
    const wallMs = performance.now() - start;
    clearInterval(timer);

    const requests = aws.requests;
    const byAction = (action: string) => requests.filter((r) => r.action === action).length;
    const iam = requests.filter((r) => r.service === 'iam');
    // S: the users each account's report flags, worked out from the report itself.
    const active = org.accounts.filter((a) => (a.state ?? 'ACTIVE') === 'ACTIVE');
    const flaggedEach = active.map((a) => ({ users: a.users.length, flagged: flaggedByReport(a, now) }));
    const flagged = flaggedEach.reduce((n, a) => n + a.flagged, 0);
    // The tags of each account's flagged users, the cheaper way the action chooses.
    const tagRequests = flaggedEach.reduce((n, a) => {
      const cost = tagRequestCosts(a.users, a.flagged);
      return (
        n + (chooseTagStrategy(a.users, a.flagged) === 'account-details' ? cost.accountDetails : cost.listUserTags)
      );
    }, 0);
    const listPages = requests.filter((r) => /^List(Accounts|Children|AccountsForParent|Roots)/.test(r.action)).length;
    const seeded = [...org.staleKeyIds.values()].flat();
    // The outputs are cut to GitHub's size limit: the report has every account and key.
    const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8')) as {
      accounts: Array<{ stale?: Array<{ accessKeyId: string | null }> }>;
    };
    const foundIds = new Set(report.accounts.flatMap((a) => (a.stale ?? []).map((k) => k.accessKeyId)));
    const problems: string[] = [];
    if (run.outputs['accounts-scanned'] !== String(active.length)) {
      problems.push(`${run.outputs['accounts-scanned']} of ${active.length} accounts scanned`);
    }
    if (run.outputs['accounts-failed'] !== '0') problems.push(`${run.outputs['accounts-failed']} accounts failed`);
    const missed = seeded.filter((id) => !foundIds.has(id)).length;
    if (missed > 0) problems.push(`${missed} stale keys missed`);
    if (Number(run.outputs['stale-count']) !== seeded.length) {
      problems.push(`stale-count ${run.outputs['stale-count']}, seeded ${seeded.length}`);
    }
    return {
      options: o,
      wallMs,
      peakRssBytes: peak,
      exitCode: run.exitCode,
      listPages,
      assumeRole: byAction('AssumeRole'),
      iam: iam.length,
      iamBound: 3 * active.length + flagged + tagRequests,
      tagRequests,
      otherSts: requests.filter((r) => r.service === 'sts' && r.action !== 'AssumeRole').length,
      accountsScanned: Number(run.outputs['accounts-scanned'] ?? 0),
      staleFound: Number(run.outputs['stale-count'] ?? 0),
      staleSeeded: seeded.length,
      problems,
    };
  } finally {
    clearInterval(timer);
    await aws.close();
    await oidc.close();
  }
}
