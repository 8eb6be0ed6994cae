/**
 * Member sign-in and sessions that outlive nothing: src/aws/sessions.ts with the real STS, IAM and
 * Organizations clients against the loopback fakes (AWS and the runner's OIDC token endpoint).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getCallerIdentity, type SignInOptions } from '../../src/aws/credentials.js';
import { isExpiredSession } from '../../src/aws/errors.js';
import { createIam } from '../../src/aws/iam.js';
import { listOrganizationAccounts } from '../../src/aws/organizations.js';
import {
  assumeMemberRole,
  memberRoleArn,
  memberSessions,
  MemberSignInError,
  webIdentityCredentials,
  type MemberSessionsConfig,
  type MemberSessionsDeps,
} from '../../src/aws/sessions.js';
import { requestIdToken } from '../../src/runner/oidc.js';
import { seedOrganization, startFakeAws, type FakeAwsOptions } from '../fakes/aws.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';

const HUB = '111111111111';
const HUB_ROLE = `arn:aws:iam::${HUB}:role/gha/iam-stale-keys-hub`;
const HUB_SESSION = `arn:aws:sts::${HUB}:assumed-role/iam-stale-keys-hub/iam-stale-keys`;
const MEMBER_ROLE = 'iam-stale-keys-member';
const fast = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000, idleTimeoutMs: 1_000 };

const closers: Array<() => Promise<void>> = [];
beforeEach(() => {
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  // Never fall back to credentials of this machine.
  vi.stubEnv('AWS_ACCESS_KEY_ID', '');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Twelve accounts in nested OUs (two SUSPENDED), one member role in each; the fakes in the environment. */
async function world(options: Partial<FakeAwsOptions> = {}) {
  const org = seedOrganization({
    accounts: 12,
    usersPerAccount: 3,
    now: new Date('2026-11-21T00:00:00Z'),
    ous: [3, 1],
    suspended: 2,
  });
  const aws = await startFakeAws({
    accounts: org.accounts,
    organization: org.organization,
    memberRoleName: MEMBER_ROLE,
    expectedAudience: 'sts.amazonaws.com',
    ...options,
  });
  const oidc = await startFakeOidc();
  closers.push(
    () => aws.close(),
    () => oidc.close(),
  );
  for (const service of ['IAM', 'STS', 'ORGANIZATIONS']) vi.stubEnv(`AWS_ENDPOINT_URL_${service}`, aws.url);
  return { aws, oidc, accounts: org.accounts };
}

/** What the action injects, recorded: what was masked, the pauses, the log. */
function deps(oidc: FakeOidc) {
  const secrets: string[] = [];
  const slept: number[] = [];
  const said: string[] = [];
  const tokenDeps = {
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken },
    setSecret: (s: string) => secrets.push(s),
    sleep: async (ms: number) => {
      slept.push(ms);
    },
    random: () => 0.5,
  };
  return {
    secrets,
    slept,
    said,
    signIn: {
      getIdToken: (audience: string) => requestIdToken(audience, tokenDeps),
      setSecret: tokenDeps.setSecret,
      sleep: tokenDeps.sleep,
      random: tokenDeps.random,
      info: (m: string) => said.push(m),
      timeouts: fast,
    },
  };
}

const hubOptions: SignInOptions = {
  roleToAssume: HUB_ROLE,
  awsRegion: 'us-east-1',
  partition: 'aws',
  audience: 'sts.amazonaws.com',
  roleSessionName: 'iam-stale-keys',
  roleDurationSeconds: 3600,
};

const config: MemberSessionsConfig = {
  auth: 'assume-role',
  partition: 'aws',
  awsRegion: 'us-east-1',
  roleName: MEMBER_ROLE,
  roleSessionName: 'iam-stale-keys',
  audience: 'sts.amazonaws.com',
};

async function rejection(promise: Promise<unknown>): Promise<MemberSignInError> {
  const err = await promise.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MemberSignInError);
  return err as MemberSignInError;
}

describe('member sign-in with AssumeRole', () => {
  it('lists the organisation and signs in to every ACTIVE member, masking every credential', async () => {
    const { aws, oidc } = await world();
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn);
    const members = memberSessions(config, { ...d.signIn, hub, hubArn: HUB_ROLE });
    closers.push(async () => members.close());

    const listed = await listOrganizationAccounts(hub, 'aws', { timeouts: fast });
    expect(listed).toHaveLength(10);
    for (const account of listed) {
      const credentials = members.credentials(account.id);
      const identity = await getCallerIdentity('us-east-1', credentials, fast);
      expect(identity).toEqual({
        accountId: account.id,
        arn: `arn:aws:sts::${account.id}:assumed-role/${MEMBER_ROLE}/iam-stale-keys`,
        partition: 'aws',
      });
      const iam = createIam('aws', credentials, { timeouts: fast });
      expect(await iam.listAccountAliases()).toEqual([aws.accounts.find((a) => a.accountId === account.id)!.alias]);
    }

    const assumed = aws.sessions.filter((s) => s.action === 'AssumeRole');
    expect(assumed.map((s) => s.account)).toEqual(listed.map((a) => a.id));
    expect(assumed.every((s) => s.roleArn === memberRoleArn('aws', s.account, MEMBER_ROLE))).toBe(true);
    // One hub sign-in for the whole run; every AssumeRole signed by the hub's session.
    expect(aws.count('AssumeRoleWithWebIdentity')).toBe(1);
    expect(aws.requests.filter((r) => r.action === 'AssumeRole').every((r) => r.account === HUB)).toBe(true);
    for (const issued of aws.issuedCredentials) {
      expect(d.secrets).toEqual(
        expect.arrayContaining([issued.accessKeyId, issued.secretAccessKey, issued.sessionToken]),
      );
    }
  });

  it('names the member role, the principal refused and the trust policy to fix', async () => {
    const { aws, oidc, accounts } = await world();
    const refusing = accounts[3]!;
    refusing.refuseAssumeRole = true;
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn);
    const members = memberSessions(config, { ...d.signIn, hub, hubArn: HUB_ROLE });
    closers.push(async () => members.close());

    const err = await rejection(members.credentials(refusing.accountId)());

    const role = `arn:aws:iam::${refusing.accountId}:role/${MEMBER_ROLE}`;
    expect(err).toMatchObject({ accountId: refusing.accountId, roleArn: role, denied: true });
    expect(err.message).toBe(
      `Could not assume role ${role} in account ${refusing.accountId}: ` +
        `User: ${HUB_SESSION} is not authorized to perform: sts:AssumeRole on resource: ${role}. ` +
        `The member role's trust policy must allow ${HUB_ROLE} (AWS refused ${HUB_SESSION}) to call sts:AssumeRole, ` +
        `and the hub role's permission policy must allow sts:AssumeRole on ${role}. ` +
        `AWS answers the same when account ${refusing.accountId} has no role by that name: deploy it there ` +
        '(a CloudFormation StackSet reaches every member account, but not the management account).',
    );
    expect(aws.count('AssumeRole')).toBe(1); // a denial is not tried again
  });

  it('says so when the role name is wrong, naming the refused session without the hub ARN', async () => {
    const { oidc } = await world();
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn);
    const roleArn = memberRoleArn('aws', '111111111112', 'OrganizationAccountAccessRole');
    const err = await rejection(
      assumeMemberRole({ roleArn, roleSessionName: 'iam-stale-keys', awsRegion: 'us-east-1' }, { ...d.signIn, hub }),
    );
    expect(err.message).toContain(
      `The member role's trust policy must allow arn:aws:iam::${HUB}:role/iam-stale-keys-hub (AWS refused ${HUB_SESSION}) to call sts:AssumeRole`,
    );
  });

  it('points at the hub role’s permission policy when that is what refuses', async () => {
    const { oidc } = await world({ deny: ['AssumeRole'] });
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn);
    const members = memberSessions(config, { ...d.signIn, hub });
    closers.push(async () => members.close());
    const err = await rejection(members.credentials('111111111112')());
    expect(err.message).toMatch(
      /because no identity-based policy allows the sts:AssumeRole action\. The hub role's permission policy must allow sts:AssumeRole on arn:aws:iam::111111111112:role\/iam-stale-keys-member \(on arn:aws:iam::\*:role\/iam-stale-keys-member for every member account\)\.$/,
    );
  });

  it('tries throttling and server failures again, a bounded number of times', async () => {
    const { aws, oidc } = await world({ failures: { AssumeRole: ['Throttling', 'ServiceUnavailable'] } });
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn);
    const member = {
      roleArn: memberRoleArn('aws', '111111111112', MEMBER_ROLE),
      roleSessionName: 's1',
      awsRegion: 'us-east-1',
    };

    const credentials = await assumeMemberRole(member, { ...d.signIn, hub });
    expect(credentials.expiration!.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    expect(aws.requests.filter((r) => r.action === 'AssumeRole').map((r) => r.status)).toEqual([400, 503, 200]);
    expect(d.said).toEqual([
      'AssumeRole into account 111111111112 failed (Throttling); try 2 in 750 ms.',
      'AssumeRole into account 111111111112 failed (ServiceUnavailable); try 3 in 1500 ms.',
    ]);

    aws.failures.AssumeRole = Array(9).fill('InternalFailure');
    const err = await rejection(assumeMemberRole(member, { ...d.signIn, hub }));
    expect(err.denied).toBe(false);
    expect(aws.failures.AssumeRole).toHaveLength(5); // four tries
    expect(err.message).toBe(
      'Could not assume role arn:aws:iam::111111111112:role/iam-stale-keys-member in account 111111111112: We encountered an internal error. Please try again.',
    );
  });

  it('refuses a member session longer than role chaining allows, before asking AWS', async () => {
    const { aws, oidc } = await world();
    const d = deps(oidc);
    const member = {
      roleArn: memberRoleArn('aws', '111111111112', MEMBER_ROLE),
      roleSessionName: 's1',
      awsRegion: 'us-east-1',
    };
    await expect(
      assumeMemberRole(
        { ...member, durationSeconds: 7200 },
        { ...d.signIn, hub: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) },
      ),
    ).rejects.toThrow('A member session lasts from 900 to 3600 seconds');
    expect(aws.count('AssumeRole')).toBe(0);
  });
});

describe('member sign-in with web identity', () => {
  it('exchanges a fresh OIDC token for each member role, and says where a refusal comes from', async () => {
    const { aws, oidc, accounts } = await world();
    accounts[3]!.refuseAssumeRole = true;
    const d = deps(oidc);
    const members = memberSessions({ ...config, auth: 'web-identity' }, { ...d.signIn });

    for (const id of ['111111111112', '111111111113']) {
      expect(await getCallerIdentity('us-east-1', members.credentials(id), fast)).toMatchObject({ accountId: id });
    }
    expect(aws.sessions.map((s) => [s.action, s.account])).toEqual([
      ['AssumeRoleWithWebIdentity', '111111111112'],
      ['AssumeRoleWithWebIdentity', '111111111113'],
    ]);
    expect(oidc.issuedTokens).toHaveLength(2);
    const tokens = aws.requests
      .filter((r) => r.action === 'AssumeRoleWithWebIdentity')
      .map((r) => r.params.WebIdentityToken);
    expect(tokens).toEqual(oidc.issuedTokens);
    expect(d.secrets).toEqual(expect.arrayContaining(oidc.issuedTokens));

    const refused = accounts[3]!.accountId;
    const err = await rejection(members.credentials(refused)());
    expect(err).toMatchObject({ accountId: refused, denied: true });
    expect(err.message).toMatch(
      new RegExp(
        `^Could not assume role arn:aws:iam::${refused}:role/${MEMBER_ROLE}: Not authorized to perform sts:AssumeRoleWithWebIdentity\\. ` +
          `Check the role's trust policy: principal arn:aws:iam::${refused}:oidc-provider/token\\.actions\\.githubusercontent\\.com, action sts:AssumeRoleWithWebIdentity`,
      ),
    );
  });
});

describe('sessions that outlive nothing', () => {
  /** Sessions of 2 s, renewed with half a second left; a scan that runs for about 6 s. */
  const SESSION_MS = 2_000;
  const renew = { renewBeforeMs: 500 };

  it('keeps a long scan working across the expiry of the hub’s and the member’s sessions', async () => {
    const { aws, oidc } = await world({ sessionLifetimeMs: SESSION_MS });
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn, renew);
    const members = memberSessions(config, { ...d.signIn, hub, hubArn: HUB_ROLE, ...renew });
    closers.push(async () => members.close());
    const member = members.credentials('111111111112');
    const iam = createIam('aws', member, { timeouts: fast, maxAttempts: 1 });

    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 3 * SESSION_MS) {
      expect(await iam.listUserNames()).toHaveLength(3);
      // The hub's own session is used directly too (Organizations), and renewed with a fresh OIDC token.
      expect(await listOrganizationAccounts(hub, 'aws', { timeouts: fast, maxAttempts: 1 })).toHaveLength(10);
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    expect(calls).toBeGreaterThan(10);
    expect(
      aws.requests.filter((r) => r.errorCode === 'ExpiredToken' || r.errorCode === 'ExpiredTokenException'),
    ).toEqual([]);
    expect(aws.requests.filter((r) => r.action === 'ListUsers').every((r) => r.account === '111111111112')).toBe(true);
    const hubSessions = aws.sessions.filter((s) => s.action === 'AssumeRoleWithWebIdentity');
    const memberSessionsIssued = aws.sessions.filter((s) => s.action === 'AssumeRole');
    expect(hubSessions.length).toBeGreaterThanOrEqual(3);
    expect(memberSessionsIssued.length).toBeGreaterThanOrEqual(3);
    // Each hub renewal asked the runner for a fresh OIDC token.
    expect(oidc.issuedTokens).toHaveLength(hubSessions.length);
    // Every session's credentials were masked.
    for (const issued of aws.issuedCredentials) expect(d.secrets).toContain(issued.sessionToken);
  }, 20_000);

  it('fails with ExpiredToken where fixed credentials are given instead', async () => {
    const { oidc } = await world({ sessionLifetimeMs: 1_000 });
    const d = deps(oidc);
    const hub = webIdentityCredentials(hubOptions, d.signIn);
    const member = {
      roleArn: memberRoleArn('aws', '111111111112', MEMBER_ROLE),
      roleSessionName: 's1',
      awsRegion: 'us-east-1',
    };
    const fixed = await assumeMemberRole(member, { ...d.signIn, hub });
    const iam = createIam('aws', fixed, { timeouts: fast, maxAttempts: 1 });
    expect(await iam.listUserNames()).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const err = await iam.listUserNames().then(
      () => expect.fail('expected ExpiredToken'),
      (e: unknown) => e,
    );
    expect(isExpiredSession(err)).toBe(true);
  });
});

// Keep the deps type honest: what memberSessions takes is what the action can give.
const _typed: MemberSessionsDeps = {
  setSecret: () => {},
  sleep: async () => {},
  info: () => {},
};
void _typed;
