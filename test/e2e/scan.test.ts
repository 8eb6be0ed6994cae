/**
 * End-to-end: the committed dist/index.js under Node 24, against loopback fakes of STS, IAM and
 * the runner's OIDC endpoint, exactly as a workflow runs it.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws, seedAccount, type FakeAws, type FakeAwsOptions } from '../fakes/aws.js';
import { demoAccount, DEMO_STALE_KEY_IDS } from '../fakes/demo-account.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';
import { fakeEndpoints, JOB_TOKEN, visibleLog } from '../helpers/action-process.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';

const ROLE = 'arn:aws:iam::111111111111:role/iam-stale-keys';
const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

async function fakes(
  options: Partial<FakeAwsOptions> = {},
): Promise<{ aws: FakeAws; oidc: FakeOidc; github: FakeGithub; env: Record<string, string> }> {
  const aws = await startFakeAws({ account: demoAccount(), ...options });
  const oidc = await startFakeOidc();
  const github = await startFakeGithub({ private: true });
  stop.push(
    () => aws.close(),
    () => oidc.close(),
    () => github.close(),
  );
  return {
    aws,
    oidc,
    github,
    env: fakeEndpoints({ aws, oidc, github }),
  };
}

/** No credential, token or session key may reach anything a person or a later step reads. */
function expectNoSecrets(run: ActionRun, aws: FakeAws, oidc: FakeOidc): void {
  const seen = [visibleLog(run), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');
  const secrets = [
    JOB_TOKEN,
    oidc.requestToken,
    ...oidc.issuedTokens,
    ...aws.issuedCredentials.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
  ];
  expect(secrets.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(seen).not.toContain(secret);
}

const staleIds = (run: ActionRun) =>
  (JSON.parse(run.outputs['stale-keys'] ?? '[]') as Array<{ accessKeyId: string | null }>).map((k) => k.accessKeyId);

describe('scan with the credential report (default)', () => {
  it('finds the stale keys, fails the job once, and writes outputs, summary and report', async () => {
    const { aws, oidc, env } = await fakes({ expectedAudience: 'sts.amazonaws.com' });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });

    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);

    // Signed in with the OIDC token, then every IAM call signed with the role's credentials.
    expect(oidc.requests).toEqual([expect.objectContaining({ audience: 'sts.amazonaws.com', authorized: true })]);
    const assume = aws.requests.find((r) => r.action === 'AssumeRoleWithWebIdentity');
    expect(assume?.params).toMatchObject({ RoleArn: ROLE, RoleSessionName: 'iam-stale-keys', DurationSeconds: '900' });
    const iam = aws.requests.filter((r) => r.service === 'iam');
    expect(new Set(iam.map((r) => r.accessKeyId))).toEqual(new Set([aws.issuedCredentials[0]!.accessKeyId]));
    expect(new Set(iam.map((r) => r.signingRegion))).toEqual(new Set(['us-east-1']));
    // A few calls for the whole account, and ListAccessKeys only for flagged users.
    expect(aws.count('ListUsers')).toBe(0);
    expect(
      aws.requests
        .filter((r) => r.action === 'ListAccessKeys')
        .map((r) => r.params.UserName)
        .sort(),
    ).toEqual(['alice', 'deploy-bot', 'svc-payments']);

    expect(run.outputs).toMatchObject({
      'account-id': '111111111111',
      'scanned-users': '7',
      'scanned-keys': '8',
      'stale-count': '4',
      'due-soon-count': '1',
    });
    expect(staleIds(run)).toEqual([null, 'AKIAIOSFODNN7PAYOLD1', 'AKIAIOSFODNN7ALICE01', 'AKIAIOSFODNN7DEPLOY1']);
    const alice = JSON.parse(run.outputs['stale-keys']!).find((k: { user: string }) => k.user === 'alice');
    expect(alice).toMatchObject({
      status: 'Active',
      ageDays: 213,
      lastUsedService: 's3',
      lastUsedRegion: 'us-east-1',
      reasons: ['age'],
    });

    // Private repository (the helper's default): full IDs in the summary.
    expect(run.summary).toContain('## Stale AWS access keys: demo-prod (111111111111)');
    expect(run.summary).toContain('❌ **4 access keys are stale.**');
    expect(run.summary).toMatch(
      /\| `alice` \(owner: alice@example\.com\) \| `AKIAIOSFODNN7ALICE01` \| 213 \| \d{4}-\d\d-\d\d \(s3, us-east-1\) \| older than 90 days \|/,
    );
    expect(run.summary).toContain('| root user | `root user key` | 900 |');
    // Due soon, from the report alone: no ID, told apart by its creation date.
    expect(run.summary).toMatch(/\| `carol` \| created \d{4}-\d\d-\d\d \| 80 \| 10 \|/);
    expect(run.outputs['scan-complete']).toBe('true');
    expect(run.summary).not.toContain('⚠️');
    // What to do next, with the commands for each key rather than placeholders.
    expect(run.summary).toContain('### Rotate each key');
    expect(run.summary).toContain(
      'aws iam update-access-key --user-name alice --access-key-id AKIAIOSFODNN7ALICE01 --status Inactive',
    );
    expect(run.summary).toContain('confirmed live with ListAccessKeys');

    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8'));
    expect(run.outputs['report-path']).toBe(`${run.runnerTemp}/iam-stale-keys-111111111111.json`);
    expect(report).toMatchObject({
      schemaVersion: 1,
      account: { id: '111111111111', alias: 'demo-prod' },
      counts: { stale: 4, dueSoon: 1 },
    });
    expect(report.keys).toHaveLength(8);
    expectNoSecrets(run, aws, oidc);
  });

  it('passes with an all-clear line when nothing is stale', async () => {
    const account = demoAccount();
    account.users = account.users.filter((u) => ['bob', 'frank'].includes(u.name));
    account.rootKeys = [];
    const { env } = await fakes({ account });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });
    expect(run.exitCode).toBe(0);
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({
      'stale-count': '0',
      'due-soon-count': '0',
      'stale-keys': '[]',
      'scanned-users': '2',
      'scanned-keys': '1',
    });
    expect(run.summary).toContain('✅ No stale access keys. Scanned 2 users and 1 key.');
  });

  it('reports but passes with fail-on-stale: false', async () => {
    const { env } = await fakes();
    const run = await runAction({ inputs: { 'role-to-assume': ROLE, 'fail-on-stale': 'false' }, env });
    expect(run.exitCode).toBe(0);
    expect(run.errors).toEqual([]);
    expect(run.warnings).toContain(
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days (fail-on-stale is false).',
    );
    expect(run.outputs['stale-count']).toBe('4');
  });

  it('does not report a key rotated after the report was generated', async () => {
    const before = demoAccount();
    const account = demoAccount();
    // Since the report, alice rotated: new key, old one deleted.
    account.users[0]!.keys = [{ id: 'AKIAIOSFODNN7ALICE02', status: 'Active', created: new Date().toISOString() }];
    const { env, aws } = await fakes({ account, report: { snapshotUsers: before.users, inProgressPolls: 0 } });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });
    expect(staleIds(run)).not.toContain('AKIAIOSFODNN7ALICE01');
    expect(staleIds(run)).not.toContain('AKIAIOSFODNN7ALICE02');
    expect(run.outputs['stale-count']).toBe('3');
    // alice was confirmed live; her new key's last use came from IAM, not the report.
    expect(aws.requests.some((r) => r.action === 'ListAccessKeys' && r.params.UserName === 'alice')).toBe(true);
    expect(
      aws.requests.some((r) => r.action === 'GetAccessKeyLastUsed' && r.params.AccessKeyId === 'AKIAIOSFODNN7ALICE02'),
    ).toBe(true);
  });

  it('redacts key IDs in the summary and logs of a public repository, not in outputs', async () => {
    const { env } = await fakes();
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env, repository: { private: false } });
    expect(run.summary).toContain('`AKIA…CE01`');
    expect(run.summary).not.toContain('AKIAIOSFODNN7ALICE01');
    expect(run.stdout).not.toContain('AKIAIOSFODNN7ALICE01');
    expect(staleIds(run)).toContain('AKIAIOSFODNN7ALICE01');
  });

  it('rides out throttling of the confirmation calls', async () => {
    const { env, aws } = await fakes({ failures: { ListAccessKeys: ['Throttling', 'Throttling', 'Throttling'] } });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });
    expect(aws.throttled).toBe(3);
    expect(run.outputs['stale-count']).toBe('4');
    expect(staleIds(run).sort()).toEqual([...DEMO_STALE_KEY_IDS, null].sort());
  });
});

describe('scan through the API', () => {
  it('reads every page of 250 users and finds exactly the seeded stale keys', async () => {
    const { account, staleKeyIds } = seedAccount({ users: 250, now: new Date(), seed: 7 });
    const { env, aws } = await fakes({ account, shortPages: true });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE, 'scan-method': 'api', 'warn-days': '0' }, env });
    expect(run.outputs['scanned-users']).toBe('250');
    expect(aws.count('ListUsers')).toBeGreaterThan(1);
    expect(aws.count('GenerateCredentialReport')).toBe(0);
    expect(new Set(aws.requests.filter((r) => r.action === 'ListAccessKeys').map((r) => r.params.UserName)).size).toBe(
      250,
    );
    expect(staleIds(run).sort()).toEqual([...staleKeyIds].sort());
    expect(run.exitCode).toBe(staleKeyIds.length > 0 ? 1 : 0);
  });

  it('falls back from a denied report in auto and says so in the summary', async () => {
    const { env, aws } = await fakes({ deny: ['GetCredentialReport'] });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });
    expect(aws.count('ListUsers')).toBeGreaterThan(0);
    expect(run.warnings.some((w) => w.startsWith('The credential report was denied'))).toBe(true);
    expect(run.summary).toContain('IAM API, user by user');
    expect(run.summary).toContain('The credential report was denied');
    expect(staleIds(run).sort()).toEqual([...DEMO_STALE_KEY_IDS, null].sort());
  });

  it('fails as incomplete, naming the permissions, when scan-method insists on a denied report', async () => {
    const { env, aws } = await fakes({ deny: ['GenerateCredentialReport'] });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE, 'scan-method': 'credential-report' }, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^The scan of account demo-prod \(111111111111\) is incomplete, so stale keys may be missing: The credential report was denied \(.*\), so no keys were checked \(fix: grant iam:GenerateCredentialReport and iam:GetCredentialReport, or set scan-method to auto\)$/,
    );
    expect(run.summary).toContain('⚠️ **The scan is incomplete');
    expect(run.summary).not.toContain('✅');
    expect(run.outputs).toMatchObject({ 'scan-complete': 'false', 'stale-count': '0' });
    expect(aws.count('ListUsers')).toBe(0);
  });
});

describe('signing in', () => {
  it('uses credentials already in the environment when no role is given', async () => {
    const { env, aws, oidc } = await fakes();
    const run = await runAction({
      env: { ...env, AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001', AWS_SECRET_ACCESS_KEY: 'env-secret-0001' },
    });
    expect(run.outputs['stale-count']).toBe('4');
    expect(aws.count('AssumeRoleWithWebIdentity')).toBe(0);
    expect(oidc.requests).toEqual([]);
    expect(new Set(aws.requests.map((r) => r.accessKeyId))).toEqual(new Set(['AKIAENVIRONMENT00001']));
  });

  it('retries a transient InvalidIdentityToken', async () => {
    const { env, aws } = await fakes({ failures: { AssumeRoleWithWebIdentity: ['InvalidIdentityToken'] } });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });
    expect(aws.count('AssumeRoleWithWebIdentity')).toBe(2);
    expect(run.outputs['stale-count']).toBe('4');
  });

  it('explains a trust policy that does not match, with both subject forms', async () => {
    const { env, aws, oidc } = await fakes({ deny: ['AssumeRoleWithWebIdentity'] });
    const run = await runAction({ inputs: { 'role-to-assume': ROLE }, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`Could not assume role ${ROLE}`);
    expect(run.errors[0]).toContain('repo:ORG/REPO:ref:refs/heads/main');
    expect(run.errors[0]).toContain('repo:OWNER@OWNER_ID/REPO@REPO_ID');
    expect(run.errors[0]).toContain(`This job's token has sub "repo:octo-org/octo-repo:ref:refs/heads/main"`);
    expect(aws.count('AssumeRoleWithWebIdentity')).toBe(1);
    expect(aws.requests.filter((r) => r.service === 'iam')).toEqual([]);
    expectNoSecrets(run, aws, oidc);
  });

  it('says to grant id-token: write when the job has no OIDC token', async () => {
    const { env, aws } = await fakes();
    const run = await runAction({
      inputs: { 'role-to-assume': ROLE },
      env: { ...env, ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/Give the job "permissions: id-token: write"/);
    expect(aws.requests).toEqual([]);
  });

  it('signs in to the China partition with the China audience and IAM endpoint region', async () => {
    const account = { ...demoAccount(), partition: 'aws-cn' as const, rootKeys: [] };
    const { env, aws, oidc } = await fakes({ account, expectedAudience: 'sts.amazonaws.com.cn' });
    const run = await runAction({
      inputs: { 'role-to-assume': 'arn:aws-cn:iam::111111111111:role/iam-stale-keys', 'aws-region': 'cn-northwest-1' },
      env,
    });
    expect(oidc.requests[0]?.audience).toBe('sts.amazonaws.com.cn');
    expect(new Set(aws.requests.filter((r) => r.service === 'iam').map((r) => r.signingRegion))).toEqual(
      new Set(['cn-north-1']),
    );
    expect(aws.requests.find((r) => r.action === 'GetCallerIdentity')?.signingRegion).toBe('cn-northwest-1');
    expect(run.outputs['stale-count']).toBe('3');
  });

  it('explains a wrong audience in China', async () => {
    const account = { ...demoAccount(), partition: 'aws-cn' as const };
    const { env } = await fakes({ account, expectedAudience: 'sts.amazonaws.com.cn' });
    const run = await runAction({
      inputs: {
        'role-to-assume': 'arn:aws-cn:iam::111111111111:role/iam-stale-keys',
        'aws-region': 'cn-north-1',
        audience: 'sts.amazonaws.com',
      },
      env,
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain('In the China partition the audience is sts.amazonaws.com.cn');
  });
});

describe('bad inputs', () => {
  it.each([
    [{ 'max-age-days': 'ninety' }, 'Input "max-age-days" must be a whole number of days from 1 to 3650, got "ninety".'],
    [{ 'scan-method': 'fast' }, 'Input "scan-method" must be one of auto, credential-report, api, got "fast".'],
    [{ 'role-to-assume': 'my-role' }, 'Input "role-to-assume" must be an IAM role ARN'],
    [{ 'role-session-name': 'has spaces' }, 'Input "role-session-name" must be 2 to 64 characters'],
    [{ 'fail-on-stale': 'yes' }, 'Input "fail-on-stale" must be true or false, got "yes".'],
    [
      { 'aws-region': 'cn-north-1' },
      'Input "role-to-assume" is in partition aws but "aws-region" cn-north-1 is in aws-cn',
    ],
  ])('%j fails fast with a clear message and makes no request', async (inputs, message) => {
    const { env, aws, oidc, github } = await fakes();
    const run = await runAction({ inputs: { 'role-to-assume': ROLE, ...inputs }, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(message);
    expect(aws.requests).toEqual([]);
    expect(oidc.requests).toEqual([]);
    expect(github.requests).toEqual([]);
    expect(run.outputs).toEqual({});
    expect(run.summary).toBe('');
  });
});
