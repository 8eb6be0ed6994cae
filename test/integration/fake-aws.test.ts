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
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  GetCallerIdentityCommand,
  IDPCommunicationErrorException,
  InvalidIdentityTokenException,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CREDENTIAL_REPORT_COLUMNS,
  credentialReportCsv,
  seedAccount,
  startFakeAws,
  type FakeAccount,
  type FakeAws,
  type FakeAwsOptions,
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
