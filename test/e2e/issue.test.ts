/**
 * End-to-end: the tracking issue, across runs of the built dist/index.js against one fake GitHub
 * repository and fake AWS accounts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { seedAccount, startFakeAws, type FakeAccount, type FakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from '../fakes/github.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';
import { startFakeWecom } from '../fakes/wecom.js';
import { fakeEndpoints, JOB_TOKEN, visibleLog } from '../helpers/action-process.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';

const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY - 3_600_000).toISOString();

async function account(acct: FakeAccount): Promise<FakeAws> {
  const aws = await startFakeAws({ account: acct, report: { inProgressPolls: 0 } });
  stop.push(() => aws.close());
  return aws;
}

async function repo(options: FakeGithubOptions = {}): Promise<{ github: FakeGithub; oidc: FakeOidc }> {
  const github = await startFakeGithub({ private: true, ...options });
  const oidc = await startFakeOidc();
  stop.push(
    () => github.close(),
    () => oidc.close(),
  );
  return { github, oidc };
}

function scan(
  aws: FakeAws,
  github: FakeGithub,
  oidc: FakeOidc,
  inputs: Record<string, string> = {},
  timeoutMs?: number,
): Promise<ActionRun> {
  return runAction({
    inputs: { 'role-to-assume': `arn:aws:iam::${aws.account.accountId}:role/iam-stale-keys`, ...inputs },
    env: fakeEndpoints({ aws, oidc, github }),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

const openIssues = (github: FakeGithub) => github.issues.filter((i) => i.state === 'open' && !i.isPullRequest);
const comments = (github: FakeGithub, n: number) => (github.comments.get(n) ?? []).map((c) => c.body);

describe('the tracking issue', () => {
  it('is created, left alone, updated with one comment, closed, and opened again linking the last', async () => {
    const acct = demoAccount();
    const aws = await account(acct);
    const { github, oidc } = await repo();

    // 1. Stale keys, no issue: created, with its labels and the account's.
    let run = await scan(aws, github, oidc);
    expect(run.exitCode).toBe(1);
    expect(run.outputs['issue-action']).toBe('created');
    expect(run.outputs['issue-number']).toBe('1');
    expect(run.outputs['issue-url']).toBe(`https://github.com/${github.owner}/${github.repo}/issues/1`);
    const issue = github.issues[0]!;
    expect(issue.title).toBe('Stale AWS access keys in demo-prod (111111111111)');
    expect(issue.labels).toEqual(['security', 'stale-access-keys', 'aws-account:111111111111']);
    expect([...github.labels.keys()].sort()).toEqual(['aws-account:111111111111', 'security', 'stale-access-keys']);
    expect(github.labels.get('aws-account:111111111111')!.description).toBe(
      'Tracking issue of AWS account 111111111111, kept by iam-stale-keys',
    );
    expect(issue.body).toMatch(/^<!-- iam-stale-keys:tracking \{.*"account":"111111111111".*\} -->/);
    expect(issue.body).toContain(
      '**4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days.**',
    );
    expect(issue.body).toContain(
      `by [this workflow run](https://github.com/${github.owner}/${github.repo}/actions/runs/4242)`,
    );
    // The demo account tags alice with an owner, shown beside her key.
    expect(issue.body).toMatch(/- \[ \] `AKIAIOSFODNN7ALICE01` \(`alice`, 213 days; owner: `alice@example.com`\)/);
    expect(issue.body).toContain('3. Deactivate the old key');
    expect(issue.body).toContain(
      'aws iam update-access-key --user-name alice --access-key-id AKIAIOSFODNN7ALICE01 --status Inactive',
    );
    expect(run.summary).toContain(
      `Tracking issue: [#1](https://github.com/${github.owner}/${github.repo}/issues/1) (created).`,
    );

    // 2. Same keys again: no write at all, and one request to find the issue.
    let writes = github.writes().length;
    const requests = github.requests.length;
    run = await scan(aws, github, oidc);
    expect(run.outputs['issue-action']).toBe('unchanged');
    expect(github.writes()).toHaveLength(writes);
    expect(github.requests.slice(requests).map((r) => `${r.method} ${r.query.labels}`)).toEqual([
      'GET security,stale-access-keys,aws-account:111111111111',
    ]);

    // 3. A day later: alice rotated, bob's key turned stale. Body replaced, one comment naming both.
    acct.users.find((u) => u.name === 'alice')!.keys = [
      { id: 'AKIAIOSFODNN7ALICE02', status: 'Active', created: ago(0) },
    ];
    acct.users.find((u) => u.name === 'bob')!.keys[0]!.created = ago(95);
    aws.resetReport();
    writes = github.writes().length;
    run = await scan(aws, github, oidc);
    expect(run.outputs['issue-action']).toBe('updated');
    expect(github.writes()).toHaveLength(writes + 2);
    expect(comments(github, 1)).toHaveLength(1);
    const change = comments(github, 1)[0]!;
    expect(change).toMatch(/\*\*Newly stale \(1\):\*\*\n- `AKIAIOSFODNN7BOB0001` \(`bob`, 95 days\)/);
    expect(change).toMatch(/\*\*Resolved \(1\):\*\*\n- `AKIAIOSFODNN7ALICE01` \(`alice`\)/);
    expect(github.issues[0]!.body).not.toContain('ALICE01');

    // 4. Everything rotated: closed as completed with the body saying so, then commented on.
    acct.users = acct.users.map((u) => ({
      ...u,
      keys: u.keys.filter((k) => Date.parse(k.created) > Date.now() - 60 * DAY),
    }));
    acct.rootKeys = [];
    aws.resetReport();
    run = await scan(aws, github, oidc);
    expect(run.exitCode).toBe(0);
    expect(run.outputs['issue-action']).toBe('closed');
    expect(github.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(comments(github, 1).at(-1)).toMatch(
      /^✅ No stale access keys remain in account demo-prod \(111111111111\).*Closing this issue\.\n\n<!-- iam-stale-keys:announce \{.*\} -->$/,
    );
    expect(github.issues[0]!.body).toContain('✅ **No stale access keys remain in account demo-prod (111111111111).**');
    expect(github.issues[0]!.body).not.toMatch(/are stale|AKIAIOSFODNN7/);

    // 5. Stale again: a new issue that links the closed one.
    acct.users.push({ name: 'zed', keys: [{ id: 'AKIAIOSFODNN7ZED0001', status: 'Active', created: ago(100) }] });
    aws.resetReport();
    run = await scan(aws, github, oidc);
    expect(run.outputs['issue-action']).toBe('created');
    expect(run.outputs['issue-number']).toBe('2');
    expect(github.issues[1]!.body).toContain('Previously tracked in #1.');
    expect(openIssues(github)).toHaveLength(1);
    expect(github.tooLong).toBe(0);
  });

  it('keeps one issue per account in a matrix of accounts', async () => {
    const { github, oidc } = await repo();
    const first = await account(demoAccount());
    const second = await account({ ...demoAccount(), accountId: '222222222222', alias: 'demo-staging' });
    await scan(first, github, oidc);
    await scan(second, github, oidc);
    const again = await scan(first, github, oidc);
    expect(again.outputs['issue-action']).toBe('unchanged');
    expect(openIssues(github).map((i) => i.title)).toEqual([
      'Stale AWS access keys in demo-prod (111111111111)',
      'Stale AWS access keys in demo-staging (222222222222)',
    ]);
  });

  it('converges to one open issue when two runs for an account overlap', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo();
    // Overlap for sure: both find no issue before either opens one.
    github.holdNext('GET /repos/{owner}/{repo}/issues', 2);
    const runs = await Promise.all([scan(aws, github, oidc), scan(aws, github, oidc)]);
    expect(runs.map((r) => r.exitCode)).toEqual([1, 1]);
    expect(openIssues(github)).toHaveLength(1);
    const kept = openIssues(github)[0]!;
    expect(runs.map((r) => r.outputs['issue-number'])).toEqual([String(kept.number), String(kept.number)]);
    // The runs did overlap: both opened an issue, and the later one was closed as a duplicate.
    const closed = github.issues.filter((i) => i.state === 'closed');
    expect(closed).toHaveLength(1);
    for (const dup of closed) {
      expect(dup.state_reason).toBe('duplicate');
      expect(comments(github, dup.number)).toEqual([
        `Closing as a duplicate of #${kept.number}, which tracks the same account.`,
      ]);
    }
    await scan(aws, github, oidc);
    expect(openIssues(github)).toHaveLength(1);
  });

  it('keeps the body and comments of 2,000 stale keys under GitHub limits', async () => {
    const { account: big } = seedAccount({ users: 1_800, now: new Date(), staleRatio: 1, seed: 3 });
    const aws = await account(big);
    const { github, oidc } = await repo();
    const run = await scan(aws, github, oidc, { 'warn-days': '0' });
    expect(Number(run.outputs['stale-count'])).toBeGreaterThanOrEqual(2_000);
    expect(run.outputs['issue-action']).toBe('created');
    const body = github.issues[0]!.body!;
    expect(body.length).toBeLessThan(65_536);
    expect(body).toMatch(/_…and [\d,]+ more: see the summary of the run linked above, and its report artifact\._/);
    expect(github.tooLong).toBe(0);
  });

  it('redacts key IDs in the issue of a public repository', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo({ private: false });
    const run = await runAction({
      inputs: { 'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys' },
      repository: { private: false, full_name: `${github.owner}/${github.repo}` },
      env: fakeEndpoints({ aws, oidc, github }),
    });
    expect(run.outputs['issue-action']).toBe('created');
    expect(github.issues[0]!.body).toContain('`AKIA…CE01` (`alice`, 213 days; owner: `alice@example.com`)');
    expect(github.issues[0]!.body).not.toMatch(/AKIAIOSFODNN7/);
  });

  it('rides out a 502 and a secondary rate limit', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo({
      failures: {
        'GET /repos/{owner}/{repo}/issues': [{ status: 502 }],
        'POST /repos/{owner}/{repo}/issues': [
          {
            status: 403,
            body: { message: 'You have exceeded a secondary rate limit.' },
            headers: { 'retry-after': '1' },
          },
        ],
      },
    });
    const run = await scan(aws, github, oidc);
    expect(run.outputs['issue-action']).toBe('created');
    expect(openIssues(github)).toHaveLength(1);
    expect(run.warnings).toEqual([]);
    const statuses = (route: string) => github.requests.filter((r) => r.route === route).map((r) => r.status);
    expect(statuses('GET /repos/{owner}/{repo}/issues')[0]).toBe(502);
    expect(statuses('POST /repos/{owner}/{repo}/issues')).toEqual([403, 201]);
  });

  it('opens the issue without labels it cannot create, warns once, and finds it again by its marker', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo({ noLabelPermission: true });
    const first = await scan(aws, github, oidc);
    expect(first.outputs['issue-action']).toBe('created');
    expect(github.issues[0]!.labels).toEqual([]);
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]).toMatch(/^Opened tracking issue #1 without its labels security, stale-access-keys/);
    const second = await scan(aws, github, oidc);
    expect(second.outputs).toMatchObject({ 'issue-action': 'unchanged', 'issue-number': '1' });
    expect(openIssues(github)).toHaveLength(1);
  });

  it('warns to grant issues: write when the token cannot write, and the scan still decides the job', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo({ readOnly: true });
    const run = await scan(aws, github, oidc);
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(/Grant the job "permissions: issues: write"/);
    expect(run.outputs).toMatchObject({ 'issue-action': 'failed', 'issue-number': '', 'stale-count': '4' });
    expect(run.summary).toContain('❌ **4 access keys are stale.**');
    expect(visibleLog(run)).not.toContain(JOB_TOKEN);
  });

  it('touches no issue with issue: false', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo();
    const run = await scan(aws, github, oidc, { issue: 'false' });
    expect(run.outputs['issue-action']).toBe('none');
    expect(github.requests).toEqual([]);
  });
});

describe('what people and overlapping runs do to the tracking issue', () => {
  it('finds its issue again when a person removed the marker, restores it, and keeps one open', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo();
    await scan(aws, github, oidc);
    const issue = github.issues[0]!;
    issue.body = `Notes from the team.\n\n${issue.body!.split('\n').slice(1).join('\n')}`;
    const run = await scan(aws, github, oidc);
    expect(run.outputs).toMatchObject({ 'issue-action': 'updated', 'issue-number': '1' });
    expect(github.issues).toHaveLength(1);
    expect(issue.body).toMatch(/^<!-- iam-stale-keys:tracking \{.*"account":"111111111111"/);
    expect(comments(github, 1)).toEqual([]);
    expect(run.warnings).toEqual([]);
  });

  it('on a locked issue, keeps the body current and closes it, posting no comment it cannot', async () => {
    const acct = demoAccount();
    const aws = await account(acct);
    const { github, oidc } = await repo();
    await scan(aws, github, oidc);
    github.issues[0]!.locked = true;

    acct.users = acct.users.filter((u) => u.name !== 'alice');
    aws.resetReport();
    let run = await scan(aws, github, oidc);
    expect(run.outputs).toMatchObject({ 'issue-action': 'updated', 'issue-number': '1' });
    expect(github.issues[0]!.body).not.toContain('ALICE01');

    acct.users = acct.users.map((u) => ({
      ...u,
      keys: u.keys.filter((k) => Date.parse(k.created) > Date.now() - 60 * DAY),
    }));
    acct.rootKeys = [];
    aws.resetReport();
    run = await scan(aws, github, oidc);
    expect(run.outputs).toMatchObject({ 'issue-action': 'closed', 'issue-number': '1' });
    expect(github.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(github.issues[0]!.body).toContain('✅ **No stale access keys remain');
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/comments'))).toEqual([]);
    expect(run.warnings).toEqual([]);
  });

  it('of five overlapping runs whose keys changed, one comments and one notifies', async () => {
    const acct = demoAccount();
    const aws = await account(acct);
    const { github, oidc } = await repo();
    const wecom = await startFakeWecom();
    stop.push(() => wecom.close());
    const inputs = { 'wecom-webhook-url': wecom.webhookUrl, 'notify-when': 'changed' };
    await scan(aws, github, oidc, inputs);
    expect(wecom.messages).toHaveLength(1);

    acct.users = acct.users.filter((u) => u.name !== 'alice');
    aws.resetReport();
    // Overlap for sure: all five read the issue, then its comments, before any of them writes.
    github.holdNext('GET /repos/{owner}/{repo}/issues', 5);
    github.holdNext('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', 5);
    const runs = await Promise.all(Array.from({ length: 5 }, () => scan(aws, github, oidc, inputs)));
    expect(runs.map((r) => r.outputs['issue-action'])).toEqual(Array(5).fill('updated'));
    // All five posted the change; four took theirs back.
    const route = (r: string) => github.requests.filter((q) => q.route === r);
    expect(route('POST /repos/{owner}/{repo}/issues/{issue_number}/comments')).toHaveLength(5);
    expect(route('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}')).toHaveLength(4);
    expect(comments(github, 1)).toHaveLength(1);
    expect(comments(github, 1)[0]).toMatch(/\*\*Resolved \(1\):\*\*\n- `AKIAIOSFODNN7ALICE01` \(`alice`\)/);
    expect(runs.filter((r) => r.outputs.notified === 'true')).toHaveLength(1);
    expect(wecom.messages).toHaveLength(2);
    expect(openIssues(github)).toHaveLength(1);
    expect(runs.flatMap((r) => r.warnings)).toEqual([]);
  });

  it('reports created, and opens no second issue, when GitHub created it but its answer was lost', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo({
      failures: { 'POST /repos/{owner}/{repo}/issues': [{ status: 502, afterHandling: true }] },
    });
    const run = await scan(aws, github, oidc);
    expect(run.outputs).toMatchObject({ 'issue-action': 'created', 'issue-number': '1' });
    expect(github.issues).toHaveLength(1);
    expect(run.warnings).toEqual([]);
  });
});

describe('a GitHub that accepts connections and never answers', () => {
  // The real defaults: 30 s per request, 120 s for the whole tracking-issue stage.
  it(
    'costs the job at most the deadline: exit code by the scan, summary written, a warning naming the silence',
    { timeout: 170_000 },
    async () => {
      const aws = await account(demoAccount());
      const { github, oidc } = await repo({ neverAnswer: true });
      const started = Date.now();
      const run = await scan(aws, github, oidc, {}, 165_000);
      const seconds = (Date.now() - started) / 1000;
      console.log(`GitHub never answering: the run took ${seconds.toFixed(1)} s`);
      expect(seconds).toBeLessThan(120 + 15);
      expect(run.exitCode).toBe(1);
      expect(run.errors).toEqual([
        '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
      ]);
      expect(run.summary).toContain('❌ **4 access keys are stale.**');
      expect(run.warnings).toHaveLength(1);
      expect(run.warnings[0]).toMatch(
        /^The tracking issue was not updated: GitHub gave no answer in 30 s to GET \/repos\/octo-org\/security\/issues\. The next run will update it/,
      );
      expect(run.outputs).toMatchObject({ 'issue-action': 'failed', 'issue-number': '', 'stale-count': '4' });
      expect(run.summary).toContain('⚠️ The tracking issue may be behind this scan: GitHub gave no answer in 30 s');
      expect(visibleLog(run)).not.toMatch(/answered 500|ghs_/);
      expect(github.requests.length).toBeLessThanOrEqual(3);
    },
  );

  it('has written the summary and the outputs before GitHub is asked anything, so a job killed by timeout-minutes keeps them', async () => {
    const aws = await account(demoAccount());
    const { github, oidc } = await repo({ neverAnswer: true });
    // Killed 15 s in, while the first GitHub request still waits for its answer.
    const run = await scan(aws, github, oidc, {}, 15_000);
    expect(run.exitCode).toBeNull();
    expect(github.requests.length).toBeLessThanOrEqual(1);
    expect(run.summary).toContain('❌ **4 access keys are stale.**');
    expect(run.outputs).toMatchObject({ 'stale-count': '4', 'scan-complete': 'true' });
  });
});
