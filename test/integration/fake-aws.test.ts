/**
 * Drives the loopback AWS/OIDC fakes with the real AWS SDK v3 clients, proving
 * the SDK parses everything the fakes serve (pagination, errors, retries,
 * credential report, STS web identity) and that the fakes record what they saw.
 */
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  IAMClient,
  type IAMClientConfig,
  IAMServiceException,
  ListAccessKeysCommand,
  ListAccountAliasesCommand,
  ListUsersCommand,
  NoSuchEntityException,
  CredentialReportExpiredException,
  CredentialReportNotPresentException,
  CredentialReportNotReadyException,
  ServiceFailureException,
  paginateListAccessKeys,
  paginateListUsers,
  type User,
} from '@aws-sdk/client-iam';
import {
  AccessDeniedException,
  AWSOrganizationsNotInUseException,
  DescribeOrganizationCommand,
  InvalidInputException,
  ListAccountsCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
  ParentNotFoundException,
  TooManyRequestsException,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListChildren,
  type Account,
} from '@aws-sdk/client-organizations';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  GetCallerIdentityCommand,
  IDPCommunicationErrorException,
  InvalidIdentityTokenException,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { parse } from 'csv-parse/sync';
import { createIam } from '../../src/aws/iam.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CREDENTIAL_REPORT_COLUMNS,
  credentialReportCsv,
  seedAccount,
  seedOrganization,
  startFakeAws,
  type FakeAccount,
  type FakeAws,
  type FakeAwsOptions,
  type FakeOrganization,
  type FakeUser,
} from '../fakes/aws.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';

// The SDK warns once per process about Node < 22; irrelevant here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ACCOUNT_ID = '111111111111';
const STATIC_CREDENTIALS = { accessKeyId: 'AKIDFAKESTATIC000001', secretAccessKey: 'fake-secret' };
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/gha/iam-stale-keys-audit`;

/** A small account covering 0, 1 and 2 keys, inactive and never-used keys. */
function smallAccount(): FakeAccount {
  return {
    accountId: ACCOUNT_ID,
    alias: 'octo-prod',
    users: [
      {
        name: 'alice',
        created: '2023-06-01T08:00:00Z',
        keys: [
          // Listed out of creation order on purpose: slot 1 must be the older key.
          {
            id: 'AKIAEXAMPLEALICE0002',
            status: 'Inactive',
            created: '2024-09-01T00:00:00Z',
          },
          {
            id: 'AKIAEXAMPLEALICE0001',
            status: 'Active',
            created: '2024-01-15T10:20:30Z',
            lastUsed: { date: '2024-11-20T12:00:00Z', service: 's3', region: 'us-east-1' },
          },
        ],
      },
      { name: 'bob', path: '/engineering/', keys: [] },
      {
        name: 'carol',
        keys: [{ id: 'AKIAEXAMPLECAROL0001', status: 'Active', created: '2024-03-03T03:03:03Z' }],
      },
    ],
    rootKeys: [{ active: true, created: '2019-05-05T05:05:05Z' }],
  };
}

/** Users named user-000 … user-(n-1). */
function manyUsers(n: number): FakeUser[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `user-${String(i).padStart(3, '0')}`,
    keys: [{ id: `AKIAUSER${String(i).padStart(12, '0')}`, status: 'Active', created: '2024-01-01T00:00:00Z' }],
  }));
}

const fakes: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fakeAws(options: Partial<FakeAwsOptions> = {}): Promise<FakeAws> {
  const fake = await startFakeAws({ account: smallAccount(), ...options });
  fakes.push(fake);
  return fake;
}

async function fakeOidc(opts?: Parameters<typeof startFakeOidc>[0]): Promise<FakeOidc> {
  const fake = await startFakeOidc(opts);
  fakes.push(fake);
  return fake;
}

function iamClient(fake: FakeAws, config: Partial<IAMClientConfig> = {}): IAMClient {
  return new IAMClient({ region: 'us-east-1', endpoint: fake.url, credentials: STATIC_CREDENTIALS, ...config });
}

function stsClient(fake: FakeAws, config: { maxAttempts?: number; credentials?: typeof STATIC_CREDENTIALS } = {}) {
  return new STSClient({ region: 'us-east-1', endpoint: fake.url, credentials: STATIC_CREDENTIALS, ...config });
}

/** Runs `fn`, expecting it to reject; returns the error. */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function fetchIdToken(oidc: FakeOidc, audience: string, bearer = oidc.requestToken): Promise<Response> {
  return fetch(`${oidc.url}&audience=${encodeURIComponent(audience)}`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('IAM listing', () => {
  it('paginates ListUsers with short pages while IsTruncated is true', async () => {
    const fake = await fakeAws({
      account: { accountId: ACCOUNT_ID, users: manyUsers(35) },
      pageSize: 10,
      shortPages: true,
    });
    const pages: User[][] = [];
    for await (const page of paginateListUsers({ client: iamClient(fake) }, {})) pages.push(page.Users ?? []);

    expect(pages.map((p) => p.length)).toEqual([9, 9, 9, 8]);
    const names = pages.flat().map((u) => u.UserName);
    expect(names).toEqual(manyUsers(35).map((u) => u.name));
    expect(new Set(names).size).toBe(35);

    const listUsers = fake.requests.filter((r) => r.action === 'ListUsers');
    expect(listUsers).toHaveLength(4);
    expect(listUsers[0]?.params.Marker).toBeUndefined();
    expect(listUsers.slice(1).every((r) => typeof r.params.Marker === 'string')).toBe(true);
    expect(listUsers[0]).toMatchObject({
      service: 'iam',
      status: 200,
      accessKeyId: STATIC_CREDENTIALS.accessKeyId,
      signingRegion: 'us-east-1',
      signingService: 'iam',
    });
  });

  it('honours MaxItems below the page size and serves full user fields', async () => {
    const fake = await fakeAws();
    const pages: User[][] = [];
    for await (const page of paginateListUsers({ client: iamClient(fake), pageSize: 2 }, {}))
      pages.push(page.Users ?? []);

    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(fake.requests.every((r) => r.params.MaxItems === '2')).toBe(true);
    const bob = pages.flat().find((u) => u.UserName === 'bob');
    expect(bob).toMatchObject({
      Path: '/engineering/',
      Arn: `arn:aws:iam::${ACCOUNT_ID}:user/engineering/bob`,
      CreateDate: new Date('2020-01-01T00:00:00Z'),
    });
    expect(bob?.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    const alice = pages.flat().find((u) => u.UserName === 'alice');
    expect(alice?.CreateDate).toEqual(new Date('2023-06-01T08:00:00Z'));
  });

  it('uses the partition in ARNs and XML-escapes names', async () => {
    const fake = await fakeAws({
      account: { accountId: ACCOUNT_ID, partition: 'aws-us-gov', users: [{ name: 'a&b<c>,d', keys: [] }] },
    });
    const out = await iamClient(fake).send(new ListUsersCommand({}));
    expect(out.Users?.[0]).toMatchObject({
      UserName: 'a&b<c>,d',
      Arn: `arn:aws-us-gov:iam::${ACCOUNT_ID}:user/a&b<c>,d`,
    });
    expect(out.IsTruncated).toBe(false);
    expect(out.Marker).toBeUndefined();
  });

  it('paginates ListAccessKeys in creation order', async () => {
    const fake = await fakeAws({ pageSize: 1 });
    const keys = [];
    for await (const page of paginateListAccessKeys({ client: iamClient(fake) }, { UserName: 'alice' })) {
      expect(page.AccessKeyMetadata).toHaveLength(1);
      keys.push(...(page.AccessKeyMetadata ?? []));
    }
    expect(keys).toEqual([
      {
        UserName: 'alice',
        AccessKeyId: 'AKIAEXAMPLEALICE0001',
        Status: 'Active',
        CreateDate: new Date('2024-01-15T10:20:30Z'),
      },
      {
        UserName: 'alice',
        AccessKeyId: 'AKIAEXAMPLEALICE0002',
        Status: 'Inactive',
        CreateDate: new Date('2024-09-01T00:00:00Z'),
      },
    ]);
    expect(fake.count('ListAccessKeys')).toBe(2);
    const empty = await iamClient(fake).send(new ListAccessKeysCommand({ UserName: 'bob' }));
    expect(empty.AccessKeyMetadata).toEqual([]);
  });

  it('answers NoSuchEntity for an unknown user', async () => {
    const fake = await fakeAws();
    const err = await rejection(() => iamClient(fake).send(new ListAccessKeysCommand({ UserName: 'mallory' })));
    expect(err).toBeInstanceOf(NoSuchEntityException);
    expect(err).toMatchObject({
      name: 'NoSuchEntityException',
      Code: 'NoSuchEntity',
      message: 'The user with name mallory cannot be found.',
      $metadata: { httpStatusCode: 404 },
    });
    expect(fake.requests.at(-1)).toMatchObject({ status: 404, errorCode: 'NoSuchEntity' });
  });

  it('sees live account changes between runs', async () => {
    const fake = await fakeAws();
    const client = iamClient(fake);
    fake.account.users.push({
      name: 'dave',
      keys: [{ id: 'AKIAEXAMPLEDAVE00001', status: 'Active', created: '2024-05-05T00:00:00Z' }],
    });
    const users = await client.send(new ListUsersCommand({}));
    expect(users.Users?.map((u) => u.UserName)).toEqual(['alice', 'bob', 'carol', 'dave']);
    const carol = fake.account.users.find((u) => u.name === 'carol');
    carol?.keys.push({ id: 'AKIAEXAMPLECAROL0002', status: 'Active', created: '2024-12-01T00:00:00Z' });
    const lastUsed = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAEXAMPLECAROL0002' }));
    expect(lastUsed.UserName).toBe('carol');
  });
});

describe('IAM key details and account', () => {
  it('serves GetAccessKeyLastUsed for used and never-used keys', async () => {
    const fake = await fakeAws();
    const client = iamClient(fake);
    const used = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAEXAMPLEALICE0001' }));
    expect(used.UserName).toBe('alice');
    expect(used.AccessKeyLastUsed).toEqual({
      LastUsedDate: new Date('2024-11-20T12:00:00Z'),
      ServiceName: 's3',
      Region: 'us-east-1',
    });
    const never = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAEXAMPLECAROL0001' }));
    expect(never.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });

    const err = await rejection(() => client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIANOPE' })));
    expect(err).toBeInstanceOf(NoSuchEntityException);
  });

  it('serves ListAccountAliases and GetAccountSummary', async () => {
    const fake = await fakeAws();
    const client = iamClient(fake);
    expect((await client.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual(['octo-prod']);
    const summary = (await client.send(new GetAccountSummaryCommand({}))).SummaryMap;
    expect(summary).toMatchObject({ AccountAccessKeysPresent: 1, Users: 3, AccessKeysPerUserQuota: 2 });

    fake.account.alias = undefined;
    fake.account.rootKeys = [];
    expect((await client.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([]);
    expect((await client.send(new GetAccountSummaryCommand({}))).SummaryMap?.AccountAccessKeysPresent).toBe(0);
  });
});

describe('credential report', () => {
  it('walks STARTED → INPROGRESS → COMPLETE and serves the CSV', async () => {
    const fake = await fakeAws({ report: { inProgressPolls: 3 } });
    const client = iamClient(fake);

    const absent = await rejection(() => client.send(new GetCredentialReportCommand({})));
    expect(absent).toBeInstanceOf(CredentialReportNotPresentException);
    expect(absent).toMatchObject({ Code: 'ReportNotPresent', $metadata: { httpStatusCode: 410 } });

    const states: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) states.push((await client.send(new GenerateCredentialReportCommand({}))).State);
    expect(states).toEqual(['STARTED', 'INPROGRESS', 'INPROGRESS', 'COMPLETE', 'COMPLETE']);

    const before = Date.now();
    const report = await client.send(new GetCredentialReportCommand({}));
    expect(report.ReportFormat).toBe('text/csv');
    expect(report.GeneratedTime).toBeInstanceOf(Date);
    expect(report.GeneratedTime!.getTime()).toBeLessThanOrEqual(before);
    expect(Buffer.from(report.Content!).toString('utf8')).toBe(credentialReportCsv(fake.account));
  });

  it('answers ReportInProgress while polls remain, then completes on GetCredentialReport', async () => {
    const fake = await fakeAws({ report: { inProgressPolls: 2 } });
    const client = iamClient(fake);
    expect((await client.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
    const notReady = await rejection(() => client.send(new GetCredentialReportCommand({})));
    expect(notReady).toBeInstanceOf(CredentialReportNotReadyException);
    expect(notReady).toMatchObject({ Code: 'ReportInProgress', $metadata: { httpStatusCode: 404 } });
    const report = await client.send(new GetCredentialReportCommand({}));
    expect(report.Content?.byteLength).toBeGreaterThan(0);
  });

  it('completes at once with inProgressPolls 0 and simulates report lag', async () => {
    const snapshot = smallAccount().users.filter((u) => u.name !== 'carol');
    const fake = await fakeAws({
      report: { inProgressPolls: 0, snapshotUsers: snapshot, generatedAt: '2024-11-21T06:00:00Z' },
    });
    const client = iamClient(fake);
    expect((await client.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
    const report = await client.send(new GetCredentialReportCommand({}));
    expect(report.GeneratedTime).toEqual(new Date('2024-11-21T06:00:00Z'));
    const csv = Buffer.from(report.Content!).toString('utf8');
    expect(csv).toBe(credentialReportCsv(fake.account, snapshot));
    expect(csv).not.toContain('carol');
  });

  it('serves raw CSV, scripted ReportExpired, and regenerates after resetReport()', async () => {
    const fake = await fakeAws({
      report: { inProgressPolls: 0, csv: 'user,arn\nweird,row\n' },
      failures: { GetCredentialReport: ['ReportExpired'] },
    });
    const client = iamClient(fake);
    await client.send(new GenerateCredentialReportCommand({}));
    const expired = await rejection(() => client.send(new GetCredentialReportCommand({})));
    expect(expired).toBeInstanceOf(CredentialReportExpiredException);
    expect(expired).toMatchObject({ $metadata: { httpStatusCode: 410 } });
    const raw = await client.send(new GetCredentialReportCommand({}));
    expect(Buffer.from(raw.Content!).toString('utf8')).toBe('user,arn\nweird,row\n');

    fake.resetReport({ inProgressPolls: 1 });
    await expect(client.send(new GetCredentialReportCommand({}))).rejects.toBeInstanceOf(
      CredentialReportNotPresentException,
    );
    expect((await client.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
    expect((await client.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
    const fresh = await client.send(new GetCredentialReportCommand({}));
    expect(Buffer.from(fresh.Content!).toString('utf8')).toBe(credentialReportCsv(fake.account));
  });
});

describe('credentialReportCsv', () => {
  const csv = credentialReportCsv({
    ...smallAccount(),
    users: [...smallAccount().users, { name: 'comma,"quoted"', created: '2024-02-02T02:02:02Z', keys: [] }],
  });
  const lines = csv.split('\n');
  const rows = parse(csv, { columns: true }) as Record<string, string>[];

  it('has the IAM header, one line per row, and ends with a newline', () => {
    expect(lines[0]).toBe(CREDENTIAL_REPORT_COLUMNS.join(','));
    expect(lines[0]).toBe(
      'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,' +
        'mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,' +
        'access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,' +
        'access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,' +
        'cert_1_last_rotated,cert_2_active,cert_2_last_rotated',
    );
    expect(csv.endsWith('\n')).toBe(true);
    expect(csv).not.toContain('\r');
    expect(lines).toHaveLength(1 + 1 + 4 + 1); // header, root, 4 users, trailing ''
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => Object.keys(r).length === 22)).toBe(true);
  });

  it('starts with the root account row', () => {
    expect(rows[0]).toMatchObject({
      user: '<root_account>',
      arn: `arn:aws:iam::${ACCOUNT_ID}:root`,
      password_enabled: 'not_supported',
      password_last_changed: 'not_supported',
      password_next_rotation: 'not_supported',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2019-05-05T05:05:05+00:00',
      access_key_1_last_used_date: 'N/A',
      access_key_2_active: 'false',
      access_key_2_last_rotated: 'N/A',
    });
  });

  it('fills key slots in creation order with IAM date format and N/A', () => {
    expect(rows[1]).toEqual({
      user: 'alice',
      arn: `arn:aws:iam::${ACCOUNT_ID}:user/alice`,
      user_creation_time: '2023-06-01T08:00:00+00:00',
      password_enabled: 'false',
      password_last_used: 'N/A',
      password_last_changed: 'N/A',
      password_next_rotation: 'N/A',
      mfa_active: 'false',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2024-01-15T10:20:30+00:00',
      access_key_1_last_used_date: '2024-11-20T12:00:00+00:00',
      access_key_1_last_used_region: 'us-east-1',
      access_key_1_last_used_service: 's3',
      access_key_2_active: 'false',
      access_key_2_last_rotated: '2024-09-01T00:00:00+00:00',
      access_key_2_last_used_date: 'N/A',
      access_key_2_last_used_region: 'N/A',
      access_key_2_last_used_service: 'N/A',
      cert_1_active: 'false',
      cert_1_last_rotated: 'N/A',
      cert_2_active: 'false',
      cert_2_last_rotated: 'N/A',
    });
    expect(rows[2]).toMatchObject({
      user: 'bob',
      arn: `arn:aws:iam::${ACCOUNT_ID}:user/engineering/bob`,
      access_key_1_active: 'false',
      access_key_1_last_rotated: 'N/A',
      access_key_2_active: 'false',
    });
  });

  it('quotes only fields that need it', () => {
    expect(lines[5]).toMatch(/^"comma,""quoted""","arn:aws:iam::111111111111:user\/comma,""quoted""",/);
    expect(lines[5]).toContain(',2024-02-02T02:02:02+00:00,false,N/A,');
    expect(rows[4]?.user).toBe('comma,"quoted"');
    expect(lines[1]?.includes('"')).toBe(false);
  });
});

describe('errors and retries', () => {
  it('retries scripted Throttling and counts it', async () => {
    const fake = await fakeAws({ failures: { ListAccessKeys: ['Throttling', 'Throttling'] } });
    const out = await iamClient(fake).send(new ListAccessKeysCommand({ UserName: 'carol' }));
    expect(out.AccessKeyMetadata).toHaveLength(1);
    expect(out.$metadata.attempts).toBe(3);
    expect(fake.throttled).toBe(2);
    expect(fake.count('ListAccessKeys')).toBe(3);
    expect(fake.requests.map((r) => r.status)).toEqual([400, 400, 200]);
    expect(fake.failures.ListAccessKeys).toEqual([]);
  });

  it('surfaces Throttling by name when retries are exhausted', async () => {
    const fake = await fakeAws({ failures: { ListUsers: ['Throttling'] } });
    const err = await rejection(() => iamClient(fake, { maxAttempts: 1 }).send(new ListUsersCommand({})));
    expect(err).toBeInstanceOf(IAMServiceException);
    expect(err).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
  });

  it('throttles past the token bucket', async () => {
    const fake = await fakeAws({ throttle: { rate: 0.1, burst: 3 } });
    const client = iamClient(fake, { maxAttempts: 1 });
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(
        await client.send(new ListUsersCommand({})).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    expect(results).toEqual(['ok', 'ok', 'ok', 'Throttling', 'Throttling']);
    expect(fake.throttled).toBe(2);
  });

  it('lets the SDK retry through the token bucket', async () => {
    const fake = await fakeAws({ throttle: { rate: 20, burst: 1 } });
    const client = iamClient(fake, { maxAttempts: 10 });
    await Promise.all([0, 1, 2].map(() => client.send(new ListUsersCommand({}))));
    expect(fake.throttled).toBeGreaterThan(0);
    expect(fake.count('ListUsers')).toBe(3 + fake.throttled);
  });

  it('retries ServiceFailure (500) and maps it when exhausted', async () => {
    const fake = await fakeAws({ failures: { ListUsers: ['ServiceFailure', 'InternalFailure'] } });
    const out = await iamClient(fake).send(new ListUsersCommand({}));
    expect(out.$metadata.attempts).toBe(3);

    fake.failures.ListUsers = ['ServiceFailure'];
    const err = await rejection(() => iamClient(fake, { maxAttempts: 1 }).send(new ListUsersCommand({})));
    expect(err).toBeInstanceOf(ServiceFailureException);
    expect(err).toMatchObject({ $fault: 'server', $metadata: { httpStatusCode: 500 } });
  });

  it('answers AccessDenied for denied actions', async () => {
    const fake = await fakeAws({ deny: ['ListUsers', 'GetCredentialReport'] });
    const client = iamClient(fake);
    const err = await rejection(() => client.send(new ListUsersCommand({})));
    // AccessDenied is not modelled by IAM: the SDK throws its base exception named after the code.
    expect(err).toBeInstanceOf(IAMServiceException);
    expect(err).toMatchObject({ name: 'AccessDenied', Code: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((err as Error).message).toMatch(
      /^User: arn:aws:iam::111111111111:user\/fake-caller is not authorized to perform: iam:ListUsers on resource: /,
    );
    expect(fake.count('ListUsers')).toBe(1); // not retried

    fake.deny.clear();
    await expect(client.send(new ListUsersCommand({}))).resolves.toBeDefined();
  });

  it('answers a scripted LimitExceeded and names the signed-in caller in AccessDenied', async () => {
    const fake = await fakeAws({ failures: { ListAccountAliases: ['LimitExceeded', 'AccessDenied'] } });
    const client = iamClient(fake, {
      credentials: { accessKeyId: 'AKIAEXAMPLEALICE0001', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    await expect(client.send(new ListAccountAliasesCommand({}))).rejects.toMatchObject({
      name: 'LimitExceededException',
      $metadata: { httpStatusCode: 409 },
    });
    await expect(client.send(new ListAccountAliasesCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining(`User: arn:aws:iam::${ACCOUNT_ID}:user/alice is not authorized`),
    });
  });

  it('adds latency to IAM answers', async () => {
    const fake = await fakeAws({ latencyMs: 60 });
    const started = Date.now();
    await iamClient(fake).send(new ListUsersCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('speaks the raw Query protocol: XML envelope, request id, unknown actions, unsigned calls', async () => {
    const fake = await fakeAws();
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(fake.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const signed = {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDRAW/20261121/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00',
    };

    const ok = await post('Action=ListAccountAliases&Version=2010-05-08', signed);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/xml');
    const requestId = ok.headers.get('x-amzn-requestid');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const xml = await ok.text();
    expect(xml).toContain('<ListAccountAliasesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(xml).toContain('<ListAccountAliasesResult><AccountAliases><member>octo-prod</member></AccountAliases>');
    expect(xml).toContain(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`);

    const unknown = await post('Action=DeleteUser&Version=2010-05-08&UserName=alice', signed);
    expect(unknown.status).toBe(400);
    const err = await unknown.text();
    expect(err).toContain('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(err).toContain('<Error><Type>Sender</Type><Code>InvalidAction</Code>');

    const unsigned = await post('Action=ListUsers&Version=2010-05-08');
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(fake.requests.at(-1)).toMatchObject({ status: 403, errorCode: 'MissingAuthenticationToken' });
    expect(fake.requests.at(-1)?.accessKeyId).toBeUndefined();
  });
});

describe('tags and key status', () => {
  const post = (fake: FakeAws, body: string, key = 'AKIDRAW') =>
    fetch(fake.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${key}/20261121/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: `Version=2010-05-08&${body}`,
    });

  it("answers ListUserTags, GetAccountAuthorizationDetails and UpdateAccessKey in IAM's XML", async () => {
    const account = smallAccount();
    account.users[0]!.tags = [{ key: 'Owner', value: 'a&b@example.com' }];
    const fake = await fakeAws({ account });

    const tags = await (await post(fake, 'Action=ListUserTags&UserName=alice')).text();
    expect(tags).toContain(
      '<ListUserTagsResult><Tags><member><Key>Owner</Key><Value>a&amp;b@example.com</Value></member></Tags><IsTruncated>false</IsTruncated></ListUserTagsResult>',
    );

    const details = await (
      await post(fake, 'Action=GetAccountAuthorizationDetails&Filter.member.1=User&MaxItems=2')
    ).text();
    expect(details).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<GetAccountAuthorizationDetailsResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><GetAccountAuthorizationDetailsResult><UserDetailList><member><Path>\/<\/Path><UserName>alice<\/UserName><UserId>AIDA\w{17}<\/UserId><Arn>arn:aws:iam::111111111111:user\/alice<\/Arn><CreateDate>2023-06-01T08:00:00Z<\/CreateDate><GroupList><\/GroupList><AttachedManagedPolicies><\/AttachedManagedPolicies><Tags><member><Key>Owner<\/Key><Value>a&amp;b@example.com<\/Value><\/member><\/Tags><\/member><member><Path>\/engineering\/<\/Path><UserName>bob<\/UserName>.*?<AttachedManagedPolicies><\/AttachedManagedPolicies><\/member><\/UserDetailList><GroupDetailList><\/GroupDetailList><RoleDetailList><\/RoleDetailList><Policies><\/Policies><IsTruncated>true<\/IsTruncated><Marker>[^<]+<\/Marker><\/GetAccountAuthorizationDetailsResult>/,
    );
    const roles = await (await post(fake, 'Action=GetAccountAuthorizationDetails&Filter.member.1=Role')).text();
    expect(roles).toContain('<UserDetailList></UserDetailList>');

    const update = await post(
      fake,
      'Action=UpdateAccessKey&UserName=carol&AccessKeyId=AKIAEXAMPLECAROL0001&Status=Inactive',
    );
    expect(update.status).toBe(200);
    expect(await update.text()).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<UpdateAccessKeyResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/UpdateAccessKeyResponse>\n$/,
    );
    expect(fake.account.users[2]!.keys[0]!.status).toBe('Inactive');
  });

  it('refuses what IAM refuses: unknown users and keys, a bad status or filter, no user for a role', async () => {
    const fake = await fakeAws();
    const refused = async (body: string, key?: string) => {
      const answer = await post(fake, body, key);
      const xml = await answer.text();
      const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1]?.replace(/&apos;/g, "'");
      return [answer.status, /<Code>(\w+)<\/Code>/.exec(xml)?.[1], message];
    };
    expect(await refused('Action=ListUserTags&UserName=nobody')).toEqual([
      404,
      'NoSuchEntity',
      'The user with name nobody cannot be found.',
    ]);
    expect(
      await refused('Action=UpdateAccessKey&UserName=bob&AccessKeyId=AKIAEXAMPLECAROL0001&Status=Inactive'),
    ).toEqual([404, 'NoSuchEntity', 'The Access Key with id AKIAEXAMPLECAROL0001 cannot be found.']);
    expect(await refused('Action=UpdateAccessKey&UserName=carol&AccessKeyId=AKIAEXAMPLECAROL0001&Status=Off')).toEqual([
      400,
      'ValidationError',
      "1 validation error detected: Value 'Off' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
    ]);
    expect(await refused('Action=UpdateAccessKey&AccessKeyId=AKIAEXAMPLECAROL0001&Status=Inactive')).toEqual([
      400,
      'ValidationError',
      'Must specify userName when calling with non-User credentials',
    ]);
    expect((await refused('Action=GetAccountAuthorizationDetails&Filter.member.1=Users'))[1]).toBe('ValidationError');
    // Signed with carol's own key, UpdateAccessKey without a user name is about carol.
    expect(
      (
        await post(
          fake,
          'Action=UpdateAccessKey&AccessKeyId=AKIAEXAMPLECAROL0001&Status=Inactive',
          'AKIAEXAMPLECAROL0001',
        )
      ).status,
    ).toBe(200);
    expect(fake.keyUpdates.map((u) => [u.user, u.was, u.status])).toEqual([['carol', 'Active', 'Inactive']]);
  });
});

describe('STS and OIDC', () => {
  it('issues runner-like OIDC tokens only to the right bearer', async () => {
    const oidc = await fakeOidc();
    expect(oidc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token\?api-version=2\.0$/);
    const res = await fetchIdToken(oidc, 'sts.amazonaws.com');
    expect(res.status).toBe(200);
    const { value } = (await res.json()) as { value: string };
    expect(value.split('.')).toHaveLength(3);
    const payload = jwtPayload(value);
    expect(payload).toMatchObject({
      aud: 'sts.amazonaws.com',
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      iss: 'https://token.actions.githubusercontent.com',
    });
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
    expect(payload.iat).toBeLessThanOrEqual(Date.now() / 1000);

    const second = ((await (await fetchIdToken(oidc, 'sts.amazonaws.com')).json()) as { value: string }).value;
    expect(second).not.toBe(value);
    expect(oidc.issuedTokens).toEqual([value, second]);

    expect((await fetchIdToken(oidc, 'sts.amazonaws.com', 'wrong')).status).toBe(401);
    expect(oidc.requests).toEqual([
      { audience: 'sts.amazonaws.com', authorized: true },
      { audience: 'sts.amazonaws.com', authorized: true },
      { audience: 'sts.amazonaws.com', authorized: false },
    ]);
  });

  it('works with @actions/core getIDToken and can fail on demand', async () => {
    const oidc = await fakeOidc({ subject: 'repo:octo-org/octo-repo:environment:prod', status: 500 });
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', oidc.url);
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', oidc.requestToken);
    const core = await import('@actions/core');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // swallow ::add-mask::
    try {
      await expect(core.getIDToken('sts.amazonaws.com')).rejects.toThrow(/500/);
      oidc.status = 200;
      const token = await core.getIDToken('sts.amazonaws.com');
      expect(oidc.issuedTokens).toEqual([token]);
      expect(jwtPayload(token).sub).toBe('repo:octo-org/octo-repo:environment:prod');
    } finally {
      write.mockRestore();
    }
  });

  it('assumes a role with the web identity token and answers GetCallerIdentity', async () => {
    const oidc = await fakeOidc();
    const fake = await fakeAws({ expectedAudience: 'sts.amazonaws.com' });
    const token = ((await (await fetchIdToken(oidc, 'sts.amazonaws.com')).json()) as { value: string }).value;

    const assumed = await stsClient(fake).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: 'iam-stale-keys-1234',
        WebIdentityToken: token,
        DurationSeconds: 900,
      }),
    );
    const creds = assumed.Credentials!;
    expect(creds.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.SecretAccessKey).toBeTruthy();
    expect(creds.SessionToken).toBeTruthy();
    expect(creds.Expiration).toBeInstanceOf(Date);
    expect(creds.Expiration!.getTime() - Date.now()).toBeGreaterThan(880_000);
    expect(assumed.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${ACCOUNT_ID}:assumed-role/iam-stale-keys-audit/iam-stale-keys-1234`,
    );
    expect(assumed.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:iam-stale-keys-1234$/);
    expect(assumed).toMatchObject({
      SubjectFromWebIdentityToken: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      Audience: 'sts.amazonaws.com',
      Provider: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com`,
    });
    expect(fake.issuedCredentials).toEqual([
      { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken },
    ]);

    const assumeRequest = fake.requests.at(-1);
    expect(assumeRequest).toMatchObject({ service: 'sts', action: 'AssumeRoleWithWebIdentity', status: 200 });
    expect(assumeRequest?.accessKeyId).toBeUndefined(); // the SDK sends it unsigned
    expect(assumeRequest?.params.WebIdentityToken).toBe(token);

    const sessionCredentials = {
      accessKeyId: creds.AccessKeyId!,
      secretAccessKey: creds.SecretAccessKey!,
      sessionToken: creds.SessionToken!,
    };
    const identity = await stsClient(fake, { credentials: sessionCredentials }).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: ACCOUNT_ID, Arn: assumed.AssumedRoleUser?.Arn });
    expect(identity.UserId).toBe(assumed.AssumedRoleUser?.AssumedRoleId);
    expect(fake.requests.at(-1)).toMatchObject({
      accessKeyId: creds.AccessKeyId,
      signingService: 'sts',
      signingRegion: 'us-east-1',
    });

    // The IAM client works with the session credentials too.
    const users = await iamClient(fake, { credentials: sessionCredentials }).send(new ListUsersCommand({}));
    expect(users.Users).toHaveLength(3);
  });

  it('rejects a token with the wrong audience', async () => {
    const oidc = await fakeOidc();
    const fake = await fakeAws({ expectedAudience: 'sts.amazonaws.com' });
    const token = ((await (await fetchIdToken(oidc, 'https://github.com/octo-org')).json()) as { value: string }).value;
    const err = await rejection(() =>
      stsClient(fake).send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 's1', WebIdentityToken: token }),
      ),
    );
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err).toMatchObject({
      name: 'InvalidIdentityTokenException',
      Code: 'InvalidIdentityToken',
      message: 'Incorrect token audience',
      $metadata: { httpStatusCode: 400 },
    });
    expect(fake.issuedCredentials).toEqual([]);
  });

  it('rejects expired tokens, a wrong expectedToken, and invalid session names', async () => {
    const fake = await fakeAws({ expectedToken: 'the-one-token' });
    const sts = stsClient(fake);
    const assume = (WebIdentityToken: string, RoleSessionName = 'session') =>
      sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName, WebIdentityToken }));
    await expect(assume('another-token')).rejects.toBeInstanceOf(InvalidIdentityTokenException);
    await expect(assume('the-one-token', 'bad session!')).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(assume('the-one-token')).resolves.toBeDefined();

    const expired = await fakeAws();
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const old = `${b64({ alg: 'RS256' })}.${b64({ aud: 'sts.amazonaws.com', exp: 1_000_000 })}.${b64({})}`;
    await expect(
      stsClient(expired).send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 's1', WebIdentityToken: old }),
      ),
    ).rejects.toBeInstanceOf(ExpiredTokenException);
  });

  it('serves scripted STS failures and AccessDenied', async () => {
    const fake = await fakeAws({
      failures: { AssumeRoleWithWebIdentity: ['InvalidIdentityToken', 'IDPCommunicationError'] },
      deny: ['GetCallerIdentity'],
    });
    const sts = stsClient(fake, { maxAttempts: 1 });
    const input = { RoleArn: ROLE_ARN, RoleSessionName: 's1', WebIdentityToken: 'opaque-token' };
    const first = await rejection(() => sts.send(new AssumeRoleWithWebIdentityCommand(input)));
    expect(first).toBeInstanceOf(InvalidIdentityTokenException);
    expect((first as Error).message).toContain('No OpenIDConnect provider found');
    await expect(sts.send(new AssumeRoleWithWebIdentityCommand(input))).rejects.toBeInstanceOf(
      IDPCommunicationErrorException,
    );
    await expect(sts.send(new AssumeRoleWithWebIdentityCommand(input))).resolves.toMatchObject({
      SubjectFromWebIdentityToken: 'unknown',
    });

    const denied = await rejection(() => sts.send(new GetCallerIdentityCommand({})));
    expect(denied).toBeInstanceOf(STSServiceException);
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toContain('sts:GetCallerIdentity');
  });

  it('serves IAM and STS from one URL via AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_STS', async () => {
    const fake = await fakeAws();
    vi.stubEnv('AWS_ENDPOINT_URL_IAM', fake.url);
    vi.stubEnv('AWS_ENDPOINT_URL_STS', fake.url);
    const iam = new IAMClient({ region: 'us-east-1', credentials: STATIC_CREDENTIALS });
    const sts = new STSClient({ region: 'us-east-1', credentials: STATIC_CREDENTIALS });
    expect((await iam.send(new ListUsersCommand({}))).Users).toHaveLength(3);
    expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: ACCOUNT_ID,
      Arn: `arn:aws:iam::${ACCOUNT_ID}:user/fake-caller`,
    });
    expect(fake.requests.map((r) => r.service)).toEqual(['iam', 'sts']);
  });
});

describe('seedAccount and scale', () => {
  const now = new Date('2026-11-21T12:00:00Z');

  it('is deterministic and its truth set matches the key ages', () => {
    const a = seedAccount({ users: 2000, now, seed: 7 });
    const b = seedAccount({ users: 2000, now, seed: 7 });
    const c = seedAccount({ users: 2000, now, seed: 8 });
    expect(a).toEqual(b);
    expect(c.staleKeyIds).not.toEqual(a.staleKeyIds);

    const keys = a.account.users.flatMap((u) => u.keys);
    expect(a.account.users).toHaveLength(2000);
    expect(a.account.users.every((u) => u.keys.length >= 1 && u.keys.length <= 2)).toBe(true);
    expect(new Set(keys.map((k) => k.id)).size).toBe(keys.length);
    expect(keys.every((k) => /^AKIA[A-Z2-7]{16}$/.test(k.id))).toBe(true);
    expect(new Set(a.account.users.map((u) => u.name)).size).toBe(2000);

    const ageDays = (created: string) => (now.getTime() - Date.parse(created)) / 86_400_000;
    const expected = keys.filter((k) => k.status === 'Active' && Math.floor(ageDays(k.created)) >= 90).map((k) => k.id);
    expect(a.staleKeyIds).toEqual(expected);
    // No key near the boundary, so any sane day-counting gives the same truth set.
    expect(keys.every((k) => ageDays(k.created) >= 91 || ageDays(k.created) < 89)).toBe(true);
    const oldRatio = keys.filter((k) => ageDays(k.created) >= 90).length / keys.length;
    expect(oldRatio).toBeGreaterThan(0.03);
    expect(oldRatio).toBeLessThan(0.07);
    expect(keys.every((k) => Date.parse(k.created) <= now.getTime())).toBe(true);
    expect(keys.some((k) => k.status === 'Inactive')).toBe(true);
    expect(keys.some((k) => !k.lastUsed)).toBe(true);
  });

  it('serves a 10,000-user account quickly through the SDK', async () => {
    const { account } = seedAccount({ users: 10_000, now, maxAgeDays: 30, staleRatio: 0.1, seed: 3 });
    const fake = await fakeAws({ account, report: { inProgressPolls: 0 } });
    const client = iamClient(fake);
    const started = Date.now();
    let count = 0;
    for await (const page of paginateListUsers({ client }, {})) count += page.Users?.length ?? 0;
    expect(count).toBe(10_000);
    expect(fake.count('ListUsers')).toBe(100);

    await client.send(new GenerateCredentialReportCommand({}));
    const report = await client.send(new GetCredentialReportCommand({}));
    const rows = parse(Buffer.from(report.Content!), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(10_001);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

// ---------------------------------------------------------------------------
// Many accounts, STS AssumeRole, Organizations
// ---------------------------------------------------------------------------

const HUB = '111111111111';
const HUB_ROLE = `arn:aws:iam::${HUB}:role/gha/iam-stale-keys-hub`;
const MEMBER_ROLE_NAME = 'iam-stale-keys-member';
const memberRole = (account: string, name = MEMBER_ROLE_NAME) => `arn:aws:iam::${account}:role/${name}`;

/** The hub and three members, each with one user of its own. */
function fourAccounts(): FakeAccount[] {
  return [HUB, '222222222222', '333333333333', '444444444444'].map((accountId, i) => ({
    accountId,
    alias: `acct-${i}`,
    users: [
      {
        name: `user-of-${accountId}`,
        keys: [{ id: `AKIAUSER${accountId}`, status: 'Active' as const, created: '2024-01-01T00:00:00Z' }],
      },
    ],
    ...(i === 3 && { refuseAssumeRole: true }),
  }));
}

function orgClient(fake: FakeAws, credentials = STATIC_CREDENTIALS, maxAttempts = 1): OrganizationsClient {
  return new OrganizationsClient({ region: 'us-east-1', endpoint: fake.url, credentials, maxAttempts });
}

/** Signs in as the hub role with a web identity token, as the action does. */
async function hubSession(fake: FakeAws) {
  const out = await stsClient(fake).send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: HUB_ROLE, RoleSessionName: 'scan-1', WebIdentityToken: 'jwt' }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

describe('many accounts and STS AssumeRole', () => {
  it('serves each request from the account whose role the credentials came from', async () => {
    const fake = await fakeAws({ account: undefined, accounts: fourAccounts(), memberRoleName: MEMBER_ROLE_NAME });
    const hub = await hubSession(fake);
    const assumed = await stsClient(fake, { credentials: hub }).send(
      new AssumeRoleCommand({ RoleArn: memberRole('222222222222'), RoleSessionName: 'scan-1', DurationSeconds: 3600 }),
    );
    const c = assumed.Credentials!;
    expect(c.Expiration!.getTime() - Date.now()).toBeGreaterThan(3_590_000);
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::222222222222:assumed-role/${MEMBER_ROLE_NAME}/scan-1`);
    const member = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };

    const users = await iamClient(fake, { credentials: member }).send(new ListUsersCommand({}));
    expect(users.Users?.map((u) => u.UserName)).toEqual(['user-of-222222222222']);
    expect(users.Users?.[0]?.Arn).toBe('arn:aws:iam::222222222222:user/user-of-222222222222');
    expect(await stsClient(fake, { credentials: member }).send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: '222222222222',
      Arn: assumed.AssumedRoleUser?.Arn,
    });
    // Anyone else is served from the hub.
    const mine = await iamClient(fake).send(new ListUsersCommand({}));
    expect(mine.Users?.map((u) => u.UserName)).toEqual([`user-of-${HUB}`]);

    expect(fake.requests.map((r) => [r.action, r.account])).toEqual([
      ['AssumeRoleWithWebIdentity', HUB],
      ['AssumeRole', HUB],
      ['ListUsers', '222222222222'],
      ['GetCallerIdentity', '222222222222'],
      ['ListUsers', HUB],
    ]);
    expect(fake.count('ListUsers', '222222222222')).toBe(1);
    expect(fake.sessions.map((s) => [s.action, s.account, s.roleArn])).toEqual([
      ['AssumeRoleWithWebIdentity', HUB, HUB_ROLE],
      ['AssumeRole', '222222222222', memberRole('222222222222')],
    ]);
    expect(fake.issuedCredentials.map((i) => i.accessKeyId)).toEqual(fake.sessions.map((s) => s.accessKeyId));
  });

  it('refuses a role chain past one hour, as STS does, but not a user key', async () => {
    const fake = await fakeAws({ account: undefined, accounts: fourAccounts() });
    const hub = await hubSession(fake);
    const err = await rejection(() =>
      stsClient(fake, { credentials: hub, maxAttempts: 1 }).send(
        new AssumeRoleCommand({ RoleArn: memberRole('222222222222'), RoleSessionName: 'scan', DurationSeconds: 3601 }),
      ),
    );
    expect(err).toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      $metadata: { httpStatusCode: 400 },
    });
    const out = await stsClient(fake).send(
      new AssumeRoleCommand({ RoleArn: memberRole('222222222222'), RoleSessionName: 'scan', DurationSeconds: 43200 }),
    );
    expect(out.Credentials?.Expiration!.getTime()).toBeGreaterThan(Date.now() + 43_000_000);
    await expect(
      stsClient(fake).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::1:role/x', RoleSessionName: 'scan' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('answers a refused, missing or wrongly named role with AWS-shaped AccessDenied', async () => {
    const fake = await fakeAws({ account: undefined, accounts: fourAccounts(), memberRoleName: MEMBER_ROLE_NAME });
    const hub = await hubSession(fake);
    const sts = stsClient(fake, { credentials: hub, maxAttempts: 1 });
    const assume = (RoleArn: string) =>
      rejection(() => sts.send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'scan-1' })));
    const hubArn = `arn:aws:sts::${HUB}:assumed-role/iam-stale-keys-hub/scan-1`;

    for (const arn of [
      memberRole('444444444444'), // its trust policy refuses
      memberRole('222222222222', 'OrganizationAccountAccessRole'), // no such role
      memberRole('999999999999'), // no such account
    ]) {
      const err = await assume(arn);
      expect(err).toBeInstanceOf(STSServiceException);
      expect(err).toMatchObject({
        name: 'AccessDenied',
        message: `User: ${hubArn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`,
        $metadata: { httpStatusCode: 403 },
      });
    }
    fake.deny.add('AssumeRole');
    expect(((await assume(memberRole('222222222222'))) as Error).message).toBe(
      `User: ${hubArn} is not authorized to perform: sts:AssumeRole on resource: ${memberRole('222222222222')} ` +
        'because no identity-based policy allows the sts:AssumeRole action',
    );
    // Web identity into a member role works, and refuses where AssumeRole does.
    fake.deny.clear();
    const web = await stsClient(fake).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: memberRole('333333333333'),
        RoleSessionName: 's1',
        WebIdentityToken: 'jwt',
      }),
    );
    expect(web.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::333333333333:assumed-role/${MEMBER_ROLE_NAME}/s1`);
    await expect(
      stsClient(fake, { maxAttempts: 1 }).send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: memberRole('444444444444'),
          RoleSessionName: 's1',
          WebIdentityToken: 'jwt',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    });
  });

  it('answers ExpiredToken to a session past its lifetime, in every service', async () => {
    const fake = await fakeAws({ account: undefined, accounts: fourAccounts(), sessionLifetimeMs: 1_500 });
    const hub = await hubSession(fake);
    expect(fake.sessions[0]!.expiresAt - Date.now()).toBeLessThanOrEqual(1_500);
    await expect(iamClient(fake, { credentials: hub }).send(new ListUsersCommand({}))).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await expect(
      iamClient(fake, { credentials: hub, maxAttempts: 1 }).send(new ListUsersCommand({})),
    ).rejects.toMatchObject({
      name: 'ExpiredToken',
      message: 'The security token included in the request is expired',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      stsClient(fake, { credentials: hub, maxAttempts: 1 }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({
      name: 'ExpiredToken',
    });
    await expect(orgClient(fake, hub).send(new ListAccountsCommand({}))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('keeps a credential report, throttling bucket, denials and scripted failures per account', async () => {
    const accounts = fourAccounts();
    accounts[1]!.report = { generationMs: 300 };
    accounts[2]!.deny = ['ListUsers'];
    accounts[2]!.failures = { ListAccountAliases: ['ServiceFailure'] };
    const fake = await fakeAws({
      account: undefined,
      accounts,
      report: { inProgressPolls: 0 },
      throttle: { rate: 0.1, burst: 3 },
    });
    const hub = await hubSession(fake);
    const as = async (account: string) => {
      const out = await stsClient(fake, { credentials: hub }).send(
        new AssumeRoleCommand({ RoleArn: memberRole(account), RoleSessionName: 'scan' }),
      );
      const c = out.Credentials!;
      const credentials = {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
      };
      return iamClient(fake, { credentials, maxAttempts: 1 });
    };
    const two = await as('222222222222');
    const three = await as('333333333333');
    const state = async (client: IAMClient) => (await client.send(new GenerateCredentialReportCommand({}))).State;

    expect(await state(iamClient(fake))).toBe('COMPLETE'); // the hub: at once
    await iamClient(fake).send(new ListAccountAliasesCommand({}));
    await iamClient(fake).send(new ListAccountAliasesCommand({}));
    expect(await state(two)).toBe('STARTED');
    expect(await state(two)).toBe('INPROGRESS');
    await expect(two.send(new GetCredentialReportCommand({}))).rejects.toBeInstanceOf(
      CredentialReportNotReadyException,
    );
    await new Promise((resolve) => setTimeout(resolve, 320));
    // Each account has its own bucket of three: the hub's and account 2's are spent, account 3's is not.
    await expect(iamClient(fake, { maxAttempts: 1 }).send(new ListAccountAliasesCommand({}))).rejects.toMatchObject({
      name: 'Throttling',
    });
    await expect(two.send(new GetCredentialReportCommand({}))).rejects.toMatchObject({ name: 'Throttling' });
    await expect(three.send(new ListAccountAliasesCommand({}))).rejects.toBeInstanceOf(ServiceFailureException);
    await expect(three.send(new ListUsersCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining(
        `assumed-role/${MEMBER_ROLE_NAME}/scan is not authorized to perform: iam:ListUsers`,
      ),
    });
    expect(fake.requests.filter((r) => r.errorCode === 'Throttling').map((r) => r.account)).toEqual([
      HUB,
      '222222222222',
    ]);
  });

  it('completes a timed report on GetCredentialReport too, once its time has passed', async () => {
    const fake = await fakeAws({ report: { generationMs: 200, inProgressPolls: 99 } });
    const client = iamClient(fake);
    expect((await client.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
    await expect(client.send(new GetCredentialReportCommand({}))).rejects.toBeInstanceOf(
      CredentialReportNotReadyException,
    );
    await new Promise((resolve) => setTimeout(resolve, 220));
    const report = await client.send(new GetCredentialReportCommand({}));
    expect(Buffer.from(report.Content!).toString('utf8')).toBe(credentialReportCsv(fake.account));
    expect((await client.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
  });
});

/**
 * root r-ab12: the hub, 222…01
 *   Workloads ou-ab12-aaaaaaaa: 222…02, 222…03
 *     Prod ou-ab12-bbbbbbbb: 222…04 (SUSPENDED), 222…05
 *       EU ou-ab12-cccccccc: 222…06
 *   Sandbox ou-ab12-dddddddd: 222…07 (PENDING_CLOSURE)
 */
function smallOrganization(): { accounts: FakeAccount[]; organization: FakeOrganization } {
  const account = (n: number, parent: string, extra: Partial<FakeAccount> = {}): FakeAccount => ({
    accountId: `2222222222${String(n).padStart(2, '0')}`,
    name: `Account ${n}`,
    users: [],
    parent,
    ...extra,
  });
  return {
    accounts: [
      { accountId: HUB, name: 'Management', email: 'root@example.com', users: [], created: '2019-01-01T00:00:00Z' },
      account(1, 'r-ab12'),
      account(2, 'ou-ab12-aaaaaaaa'),
      account(3, 'ou-ab12-aaaaaaaa'),
      account(4, 'ou-ab12-bbbbbbbb', { state: 'SUSPENDED' }),
      account(5, 'ou-ab12-bbbbbbbb'),
      account(6, 'ou-ab12-cccccccc'),
      account(7, 'ou-ab12-dddddddd', { state: 'PENDING_CLOSURE' }),
    ],
    organization: {
      units: [
        {
          id: 'ou-ab12-aaaaaaaa',
          name: 'Workloads',
          units: [{ id: 'ou-ab12-bbbbbbbb', name: 'Prod', units: [{ id: 'ou-ab12-cccccccc', name: 'EU' }] }],
        },
        { id: 'ou-ab12-dddddddd', name: 'Sandbox' },
      ],
    },
  };
}

describe('AWS Organizations', () => {
  it('lists every account through the SDK paginator, across short pages and empty pages with a NextToken', async () => {
    const { accounts, organization } = smallOrganization();
    const fake = await fakeAws({
      account: undefined,
      accounts,
      organization: { ...organization, pageSize: 3, shortPages: true, emptyPages: [0, 2] },
    });
    const pages: Account[][] = [];
    for await (const page of paginateListAccounts({ client: orgClient(fake) }, {})) pages.push(page.Accounts ?? []);

    expect(pages.map((p) => p.length)).toEqual([0, 2, 0, 2, 2, 2]);
    const listed = pages.flat();
    expect(listed.map((a) => a.Id)).toEqual(accounts.map((a) => a.accountId));
    expect(listed[0]).toEqual({
      Id: HUB,
      Arn: `arn:aws:organizations::${HUB}:account/o-a1b2c3d4e5/${HUB}`,
      Email: 'root@example.com',
      Name: 'Management',
      Status: 'ACTIVE',
      State: 'ACTIVE',
      JoinedMethod: 'CREATED',
      JoinedTimestamp: new Date('2019-01-01T00:00:00Z'),
    });
    expect(listed.map((a) => a.State)).toEqual([
      'ACTIVE',
      'ACTIVE',
      'ACTIVE',
      'ACTIVE',
      'SUSPENDED',
      'ACTIVE',
      'ACTIVE',
      'PENDING_CLOSURE',
    ]);
    const calls = fake.requests.filter((r) => r.action === 'ListAccounts');
    expect(calls).toHaveLength(6);
    expect(calls[0]).toMatchObject({
      service: 'organizations',
      account: HUB,
      signingService: 'organizations',
      signingRegion: 'us-east-1',
    });
    expect(calls[0]?.params.NextToken).toBeUndefined();
    expect(calls.slice(1).every((r) => typeof r.params.NextToken === 'string')).toBe(true);
  });

  it('walks the tree: roots, children, OUs and the accounts of a parent', async () => {
    const fake = await fakeAws({ account: undefined, ...smallOrganization() });
    const client = orgClient(fake);
    const roots = await client.send(new ListRootsCommand({}));
    expect(roots.Roots).toEqual([
      { Id: 'r-ab12', Arn: `arn:aws:organizations::${HUB}:root/o-a1b2c3d4e5/r-ab12`, Name: 'Root', PolicyTypes: [] },
    ]);
    const children = async (ParentId: string, ChildType: 'ACCOUNT' | 'ORGANIZATIONAL_UNIT') => {
      const ids: string[] = [];
      for await (const page of paginateListChildren({ client, pageSize: 1 }, { ParentId, ChildType }))
        ids.push(...(page.Children ?? []).map((c) => `${c.Type}:${c.Id}`));
      return ids;
    };
    expect(await children('r-ab12', 'ORGANIZATIONAL_UNIT')).toEqual([
      'ORGANIZATIONAL_UNIT:ou-ab12-aaaaaaaa',
      'ORGANIZATIONAL_UNIT:ou-ab12-dddddddd',
    ]);
    expect(await children('r-ab12', 'ACCOUNT')).toEqual([`ACCOUNT:${HUB}`, 'ACCOUNT:222222222201']);
    expect(await children('ou-ab12-bbbbbbbb', 'ACCOUNT')).toEqual(['ACCOUNT:222222222204', 'ACCOUNT:222222222205']);
    expect(await children('ou-ab12-cccccccc', 'ORGANIZATIONAL_UNIT')).toEqual([]);

    const inProd: string[] = [];
    for await (const page of paginateListAccountsForParent({ client }, { ParentId: 'ou-ab12-bbbbbbbb' }))
      inProd.push(...(page.Accounts ?? []).map((a) => `${a.Id} ${a.Name} ${a.Status}`));
    expect(inProd).toEqual(['222222222204 Account 4 SUSPENDED', '222222222205 Account 5 ACTIVE']);

    const units = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: 'ou-ab12-aaaaaaaa' }));
    expect(units.OrganizationalUnits).toEqual([
      { Id: 'ou-ab12-bbbbbbbb', Arn: `arn:aws:organizations::${HUB}:ou/o-a1b2c3d4e5/ou-ab12-bbbbbbbb`, Name: 'Prod' },
    ]);
    const org = await client.send(new DescribeOrganizationCommand({}));
    expect(org.Organization).toMatchObject({ Id: 'o-a1b2c3d4e5', MasterAccountId: HUB, FeatureSet: 'ALL' });
  });

  it('answers Organizations errors as JSON 1.1 exceptions the SDK knows', async () => {
    const fake = await fakeAws({ account: undefined, ...smallOrganization() });
    const client = orgClient(fake);
    const missing = await rejection(() =>
      client.send(new ListChildrenCommand({ ParentId: 'ou-ab12-zzzzzzzz', ChildType: 'ACCOUNT' })),
    );
    expect(missing).toBeInstanceOf(ParentNotFoundException);
    expect(missing).toMatchObject({
      message: "We can't find a root or OU with the ParentId that you specified.",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new ListChildrenCommand({ ParentId: 'Prod', ChildType: 'ACCOUNT' })),
    ).rejects.toBeInstanceOf(InvalidInputException);
    await expect(client.send(new ListAccountsCommand({ MaxResults: 21 }))).rejects.toBeInstanceOf(
      InvalidInputException,
    );
    await expect(client.send(new ListAccountsCommand({ NextToken: 'not-a-token' }))).rejects.toBeInstanceOf(
      InvalidInputException,
    );
    const first = await client.send(new ListAccountsCommand({ MaxResults: 2 }));
    await expect(
      client.send(new ListChildrenCommand({ ParentId: 'r-ab12', ChildType: 'ACCOUNT', NextToken: first.NextToken })),
    ).rejects.toBeInstanceOf(InvalidInputException);

    fake.deny.add('ListAccounts');
    const denied = await rejection(() => client.send(new ListAccountsCommand({})));
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied as Error).message).toBe(
      `User: arn:aws:iam::${HUB}:user/fake-caller is not authorized to perform: organizations:ListAccounts on resource: * ` +
        'because no identity-based policy allows the organizations:ListAccounts action',
    );
    expect(fake.requests.at(-1)).toMatchObject({ status: 400, errorCode: 'AccessDeniedException' });
  });

  it('refuses a member account that is no delegated administrator, and answers a standalone account', async () => {
    const { accounts, organization } = smallOrganization();
    const fake = await fakeAws({
      account: undefined,
      accounts,
      organization: { ...organization, delegatedAdministrators: ['222222222202'] },
    });
    const hub = await hubSession(fake);
    const member = async (account: string) => {
      const c = (
        await stsClient(fake, { credentials: hub }).send(
          new AssumeRoleCommand({ RoleArn: memberRole(account), RoleSessionName: 'scan' }),
        )
      ).Credentials!;
      return orgClient(fake, {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
      } as typeof STATIC_CREDENTIALS);
    };
    const refused = await rejection(async () => (await member('222222222201')).send(new ListAccountsCommand({})));
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect((refused as Error).message).toBe("You don't have permissions to access this resource.");
    const delegated = await (await member('222222222202')).send(new ListAccountsCommand({}));
    expect(delegated.Accounts).toHaveLength(8);

    fake.organization = false;
    const alone = await rejection(() => orgClient(fake).send(new ListAccountsCommand({})));
    expect(alone).toBeInstanceOf(AWSOrganizationsNotInUseException);
    expect((alone as Error).message).toBe('Your account is not a member of an organization.');
  });

  it('lets the SDK retry scripted throttling, and answers only State once Status is retired', async () => {
    const { accounts, organization } = smallOrganization();
    const fake = await fakeAws({
      account: undefined,
      accounts,
      organization: { ...organization, accountFields: 'state' },
      failures: { ListAccounts: ['Throttling', 'TooManyRequestsException'] },
    });
    const out = await orgClient(fake, STATIC_CREDENTIALS, 3).send(new ListAccountsCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect(fake.throttled).toBe(2);
    expect(out.Accounts?.[4]).toMatchObject({ Id: '222222222204', State: 'SUSPENDED' });
    expect(out.Accounts?.every((a) => a.Status === undefined)).toBe(true);

    fake.failures.ListAccounts = ['Throttling'];
    await expect(orgClient(fake).send(new ListAccountsCommand({}))).rejects.toBeInstanceOf(TooManyRequestsException);
  });

  it('speaks the raw JSON 1.1 protocol, and is found through AWS_ENDPOINT_URL_ORGANIZATIONS', async () => {
    const fake = await fakeAws({ account: undefined, ...smallOrganization() });
    const post = (target: string, body: string, signed = true) =>
      fetch(fake.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSOrganizationsV20161128.${target}`,
          ...(signed && {
            authorization:
              'AWS4-HMAC-SHA256 Credential=AKIDRAW/20261121/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=00',
          }),
        },
        body,
      });
    const ok = await post('ListAccounts', '{"MaxResults":1}');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    const json = (await ok.json()) as { Accounts: { Id: string; JoinedTimestamp: number }[]; NextToken: string };
    expect(json.Accounts.map((a) => a.Id)).toEqual([HUB]);
    expect(typeof json.Accounts[0]!.JoinedTimestamp).toBe('number');
    expect(json.NextToken).toEqual(expect.any(String));

    const unknown = await post('CreateAccount', '{}');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ __type: 'UnknownOperationException', message: 'Unknown operation' });
    const unsigned = await post('ListAccounts', '{}', false);
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');

    vi.stubEnv('AWS_ENDPOINT_URL_ORGANIZATIONS', fake.url);
    const env = new OrganizationsClient({ region: 'us-east-1', credentials: STATIC_CREDENTIALS });
    expect((await env.send(new ListAccountsCommand({}))).Accounts).toHaveLength(8);
  });
});

describe('seedOrganization and scale', () => {
  const now = new Date('2026-11-21T12:00:00Z');

  it('seeds a deterministic organisation of nested OUs, accounts dealt over them', () => {
    const a = seedOrganization({ accounts: 12, usersPerAccount: 20, now, ous: [3, 2], suspended: 2, seed: 4 });
    const b = seedOrganization({ accounts: 12, usersPerAccount: 20, now, ous: [3, 2], suspended: 2, seed: 4 });
    expect(a).toEqual(b);
    expect(a.accounts.map((x) => x.accountId)).toEqual(
      Array.from({ length: 12 }, (_, i) => String(111_111_111_111 + i)),
    );
    expect(a.accounts[0]).toMatchObject({ accountId: HUB, parent: 'r-ab12', name: 'Management' });
    expect(a.organization.units).toHaveLength(3);
    expect(a.organization.units?.every((u) => u.units?.length === 2)).toBe(true);
    const ouIds = a.organization.units!.flatMap((u) => [u.id, ...u.units!.map((v) => v.id)]);
    expect(ouIds.every((id) => /^ou-ab12-[a-z0-9]{8}$/.test(id))).toBe(true);
    expect(new Set(a.accounts.slice(1).map((x) => x.parent))).toEqual(new Set(ouIds));
    expect(a.accounts.map((x) => x.state ?? 'ACTIVE').filter((s) => s === 'SUSPENDED')).toHaveLength(2);
    expect(a.accounts.every((x) => x.users.length === 20)).toBe(true);
    expect(a.staleKeyIds.get(HUB)).toEqual(expect.any(Array));
    // Each account seeded on its own: different users.
    expect(a.accounts[1]!.users[0]!.keys[0]!.id).not.toBe(a.accounts[2]!.users[0]!.keys[0]!.id);
  });

  it('serves 1,000 accounts of 200 users each: list, assume into each, report with a generation time', async () => {
    const started = Date.now();
    const { accounts, organization } = seedOrganization({
      accounts: 1000,
      usersPerAccount: 200,
      now,
      ous: [4, 3],
      suspended: 10,
    });
    const seeded = Date.now() - started;
    const fake = await fakeAws({
      account: undefined,
      accounts,
      organization,
      report: { generationMs: 200 },
      memberRoleName: MEMBER_ROLE_NAME,
    });
    // The action's own IAM client, which reads a credential report faster than the SDK's XML parser.
    vi.stubEnv('AWS_ENDPOINT_URL_IAM', fake.url);
    const listed: Account[] = [];
    for await (const page of paginateListAccounts({ client: orgClient(fake) }, {}))
      listed.push(...(page.Accounts ?? []));
    expect(listed).toHaveLength(1000);
    expect(fake.count('ListAccounts')).toBe(50);

    const sts = stsClient(fake);
    const queue = listed.map((a) => a.Id!);
    const reports = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          const c = (await sts.send(new AssumeRoleCommand({ RoleArn: memberRole(id), RoleSessionName: 'bench' })))
            .Credentials!;
          const iam = createIam('aws', {
            accessKeyId: c.AccessKeyId!,
            secretAccessKey: c.SecretAccessKey!,
            sessionToken: c.SessionToken!,
          });
          while ((await iam.generateCredentialReport()) !== 'COMPLETE') {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          const report = await iam.getCredentialReport();
          reports.set(id, report.csv.split('\n').length);
        }
      }),
    );
    expect(reports.size).toBe(1000);
    expect([...reports.values()].every((lines) => lines === 1 + 1 + 200 + 1)).toBe(true);
    expect(new Set(fake.requests.filter((r) => r.action === 'GetCredentialReport').map((r) => r.account)).size).toBe(
      1000,
    );
    expect(seeded).toBeLessThan(10_000);
  }, 60_000);
});
