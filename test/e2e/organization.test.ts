/**
 * End-to-end: the organisation mode. One job signs in to a hub role, lists the organisation's
 * accounts, and scans each through its member role, against loopback fakes of STS, IAM,
 * Organizations, GitHub and the runner's OIDC endpoint; the built dist/index.js under Node 24.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { seedOrganization, startFakeAws, type FakeAwsOptions } from '../fakes/aws.js';
import { startFakeGithub } from '../fakes/github.js';
import { startFakeOidc } from '../fakes/oidc.js';
import { startFakeWecom } from '../fakes/wecom.js';
import { fakeEndpoints } from '../helpers/action-process.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';

const HUB_ROLE = 'arn:aws:iam::111111111111:role/iam-stale-keys-hub';
const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

/** Twelve accounts in three OUs (one nested), about 5% of their keys stale. */
function organization(now = new Date()) {
  const org = seedOrganization({ accounts: 12, usersPerAccount: 20, now, ous: [3, 1], staleRatio: 0.1, seed: 7 });
  return org;
}

async function fakes(options: Partial<FakeAwsOptions> = {}) {
  const org = organization();
  const aws = await startFakeAws({
    accounts: org.accounts,
    organization: { ...org.organization, pageSize: 5, emptyPages: [1] },
    memberRoleName: 'iam-stale-keys',
    ...options,
  });
  const oidc = await startFakeOidc();
  const github = await startFakeGithub({ private: true });
  stop.push(
    () => aws.close(),
    () => oidc.close(),
    () => github.close(),
  );
  const env = { ...fakeEndpoints({ aws, oidc, github }), AWS_ENDPOINT_URL_ORGANIZATIONS: aws.url };
  return { aws, oidc, github, env, org };
}

const inputs = { 'role-to-assume': HUB_ROLE, accounts: 'organization' };
const accountsOutput = (run: ActionRun) =>
  JSON.parse(run.outputs.accounts ?? '[]') as Array<{
    accountId: string;
    stale: number | null;
    error: string | null;
    issue: { number: number; action: string } | null;
  }>;

describe('the organisation mode', () => {
  it('scans every account through its member role, keeps one issue each, and fails for the refused one', async () => {
    const { aws, github, env, org } = await fakes();
    const refused = org.accounts[5]!;
    refused.refuseAssumeRole = true;
    // One member account has a root access key: it must be found through the member role.
    const rooted = org.accounts[7]!;
    rooted.rootKeys = [{ active: true, created: new Date(Date.now() - 400 * 86_400_000).toISOString() }];
    const run = await runAction({ inputs, env, timeoutMs: 120_000 });

    expect(run.exitCode).toBe(1);
    const stale = [...org.staleKeyIds.entries()].filter(([id]) => id !== refused.accountId);
    const staleCount = stale.reduce((n, [, ids]) => n + ids.length, 0) + 1; // and the root key
    expect(staleCount).toBeGreaterThan(0);
    expect(run.outputs).toMatchObject({
      'account-id': '',
      'accounts-scanned': '11',
      'accounts-failed': '1',
      'stale-count': String(staleCount),
      'scan-complete': 'false',
    });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`1 account could not be scanned (${refused.accountId}:`);
    expect(run.errors[0]).toMatch(/access keys? (is|are) stale in \d+ of 12 accounts/);

    const accounts = accountsOutput(run);
    expect(accounts).toHaveLength(12);
    expect(accounts[0]).toMatchObject({ accountId: refused.accountId, stale: null });
    expect(accounts[0]!.error).toMatch(/trust policy/i);
    // Every stale key, with its account.
    const keys = JSON.parse(run.outputs['stale-keys']!) as Array<{
      accountId: string;
      accessKeyId: string | null;
      user: string;
    }>;
    expect(new Set(keys.map((k) => `${k.accountId}/${k.accessKeyId ?? k.user}`))).toEqual(
      new Set([
        ...stale.flatMap(([id, ids]) => ids.map((key) => `${id}/${key}`)),
        `${rooted.accountId}/<root_account>`,
      ]),
    );

    // One issue per account with stale keys, none for the refused one.
    const issues = github.issues.filter((i) => !i.isPullRequest);
    const withStale = stale.filter(([id, ids]) => ids.length > 0 || id === rooted.accountId).length;
    expect(issues).toHaveLength(withStale);
    expect(issues.some((i) => i.title.includes(refused.accountId))).toBe(false);

    // The summary: the verdict, the overview worst first, and the refused account's error.
    expect(run.summary).toContain('## Stale AWS access keys: 12 accounts');
    expect(run.summary).toContain('⚠️ **Stale keys may be missing: 1 account could not be scanned');
    expect(run.summary).toMatch(new RegExp(`\\| ❌ .*${refused.accountId}.* \\| could not be scanned: `));
    expect(run.summary).not.toContain('✅ No stale');

    // The report holds every account.
    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8'));
    expect(report.accounts).toHaveLength(12);
    // Every member was signed in to through AssumeRole, with the hub's session.
    expect(aws.count('AssumeRole')).toBeGreaterThanOrEqual(12);
  });

  it('scans only the OUs asked for, skips the excluded; a second run makes no GitHub write and no WeCom post', async () => {
    const { github, env, org } = await fakes();
    const wecom = await startFakeWecom();
    stop.push(() => wecom.close());
    const unit = org.organization.units![0]!;
    const under = org.accounts.filter((a) => a.parent === unit.id || a.parent === unit.units?.[0]?.id);
    const excluded = under[0]!.accountId;
    const orgInputs = {
      ...inputs,
      'organizational-units': unit.id,
      'exclude-accounts': excluded,
      'wecom-webhook-url': wecom.webhookUrl,
      'notify-when': 'changed',
    };
    const first = await runAction({ inputs: orgInputs, env, timeoutMs: 120_000 });
    const scanned = accountsOutput(first).map((a) => a.accountId);
    expect(new Set(scanned)).toEqual(new Set(under.map((a) => a.accountId).filter((id) => id !== excluded)));
    // One digest for the run, never a message per account.
    expect(first.outputs.notified).toBe('true');
    expect(wecom.messages).toHaveLength(1);

    const writes = () => github.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    const second = await runAction({ inputs: orgInputs, env, timeoutMs: 120_000 });
    expect(second.outputs['stale-count']).toBe(first.outputs['stale-count']);
    expect(writes()).toBe(before);
    expect(second.outputs.notified).toBe('false');
    expect(wecom.messages).toHaveLength(1);
  });

  it('keeps the issue a matrix job opened when the account moves to the organisation mode', async () => {
    const { github, env, org } = await fakes();
    const account = org.accounts.find(
      (a) => (org.staleKeyIds.get(a.accountId) ?? []).length > 0 && a.accountId !== org.accounts[0]!.accountId,
    )!;
    // The matrix job: the member role's account scanned alone (its own role, as a matrix job signs in).
    const matrix = await runAction({
      inputs: { 'role-to-assume': `arn:aws:iam::${account.accountId}:role/iam-stale-keys` },
      env,
      timeoutMs: 120_000,
    });
    expect(matrix.outputs['account-id']).toBe(account.accountId);
    expect(matrix.outputs['issue-action']).toBe('created');
    const number = Number(matrix.outputs['issue-number']);

    const run = await runAction({ inputs: { ...inputs, accounts: account.accountId }, env, timeoutMs: 120_000 });
    const entry = accountsOutput(run).find((a) => a.accountId === account.accountId)!;
    expect(entry.issue?.number).toBe(number);
    expect(github.issues.filter((i) => !i.isPullRequest && i.state === 'open')).toHaveLength(1);
  });

  it('fails with the permissions to grant, and a summary, when the hub may not list the organisation', async () => {
    const { env, aws } = await fakes({ deny: ['ListAccounts'] });
    const run = await runAction({ inputs, env, timeoutMs: 120_000 });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('organizations:ListAccounts');
    expect(run.summary).toContain('❌ **The scan failed, so nothing was checked.**');
    expect(aws.count('AssumeRole')).toBe(0);
  });

  it('covers every account exactly once with shards 1/3, 2/3 and 3/3', async () => {
    const { env } = await fakes();
    const seen: string[] = [];
    for (const shard of ['1/3', '2/3', '3/3']) {
      const run = await runAction({ inputs: { ...inputs, shard, issue: 'false' }, env, timeoutMs: 120_000 });
      seen.push(...accountsOutput(run).map((a) => a.accountId));
    }
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
  });

  it('signs in to each member role with the job token in web-identity mode', async () => {
    const { aws, env } = await fakes();
    const run = await runAction({
      inputs: { ...inputs, 'member-role-auth': 'web-identity', issue: 'false', 'fail-on-stale': 'false' },
      env,
      timeoutMs: 120_000,
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs['accounts-scanned']).toBe('12');
    expect(aws.count('AssumeRole')).toBe(0);
    expect(aws.count('AssumeRoleWithWebIdentity')).toBeGreaterThanOrEqual(13);
  });
});

describe('deactivation after notice in the organisation mode', () => {
  it('deactivates in each account through its member role, once its issue has listed the key long enough', async () => {
    const { aws, github, env, org } = await fakes();
    const orgInputs = { ...inputs, 'deactivate-after-days': '7', 'dry-run': 'false', 'max-deactivations': '1' };
    const first = await runAction({ inputs: orgInputs, env, timeoutMs: 120_000 });
    expect(JSON.parse(first.outputs['deactivated-keys']!)).toEqual([]);
    expect(aws.keyUpdates).toEqual([]);

    // Eight days pass for every account's notice.
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString().slice(0, 10);
    for (const issue of github.issues) {
      issue.body = issue.body!.replace(/("since":\{)"\d{4}-\d{2}-\d{2}"/, `$1"${eightDaysAgo}"`);
    }
    const run = await runAction({ inputs: orgInputs, env, timeoutMs: 120_000 });
    const done = JSON.parse(run.outputs['deactivated-keys']!) as Array<{
      accountId: string;
      accessKeyId: string;
      outcome: string;
    }>;
    // One key per account with an active stale key (max-deactivations is per account), each the oldest.
    const withStale = [...org.staleKeyIds.entries()].filter(([, ids]) => ids.length > 0).map(([id]) => id);
    expect(done.map((d) => d.accountId).sort()).toEqual(withStale.sort());
    expect(done.every((d) => d.outcome === 'deactivated')).toBe(true);
    expect(aws.keyUpdates.map((u) => `${u.account}/${u.accessKeyId}`).sort()).toEqual(
      done.map((d) => `${d.accountId}/${d.accessKeyId}`).sort(),
    );
    // Each account's issue says so.
    for (const d of done) {
      const issue = github.issues.find((i) => i.title.includes(d.accountId))!;
      expect((github.comments.get(issue.number) ?? []).map((c) => c.body).join('\n')).toContain(d.accessKeyId);
    }
  }, 240_000);
});
