/** src/aws/iam.ts with the real SDK client against the loopback fake IAM. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CutAnswerError,
  describeAwsFailure,
  isAccessDenied,
  isExpiredSession,
  isTransient,
} from '../../src/aws/errors.js';
import { createIam, type IamApi, type IamClientOptions } from '../../src/aws/iam.js';
import { credentialReportCsv, seedAccount, startFakeAws, type FakeAws, type FakeAwsOptions } from '../fakes/aws.js';

let aws: FakeAws;
let iam: IamApi;
const saved = { ...process.env };

beforeAll(async () => {
  const { account } = seedAccount({ users: 2_500, now: new Date('2026-11-21T00:00:00Z'), seed: 5 });
  account.users[0]!.name = 'ci,deploy+bot'; // quoted in the CSV
  aws = await startFakeAws({ account, report: { inProgressPolls: 1 }, shortPages: true, pageSize: 400 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_IAM: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIATESTINTEGRATION1',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  iam = createIam('aws', undefined);
});

afterAll(async () => {
  process.env = saved;
  await aws.close();
});

describe('createIam', () => {
  it('maps a missing report to the SDK error the inventory waits on', async () => {
    await expect(iam.getCredentialReport()).rejects.toMatchObject({ name: 'CredentialReportNotPresentException' });
  });

  it('returns the report byte for byte, with its generation time', async () => {
    expect(await iam.generateCredentialReport()).toBe('STARTED');
    expect(await iam.generateCredentialReport()).toBe('COMPLETE');
    const report = await iam.getCredentialReport();
    expect(report.csv).toBe(credentialReportCsv(aws.account));
    expect(report.csv).toContain('"ci,deploy+bot"');
    expect(report.generatedAt).toBeInstanceOf(Date);
  });

  it('reads every page of users and keys', async () => {
    const names = await iam.listUserNames();
    expect(names).toHaveLength(2_500);
    expect(new Set(names).size).toBe(2_500);
    const user = aws.account.users.find((u) => u.keys.length === 2)!;
    expect((await iam.listAccessKeys(user.name))?.map((k) => k.accessKeyId)).toEqual(user.keys.map((k) => k.id));
    expect(await iam.listAccessKeys('nobody-by-this-name')).toBeNull();
  });
});

/** A second fake per test, for the transport faults; the real SDK client with short time-outs. */
describe('createIam transport', () => {
  const fast = { connectionTimeoutMs: 500, requestTimeoutMs: 300, idleTimeoutMs: 300 };
  let own: FakeAws | undefined;
  afterEach(async () => {
    process.env.AWS_ENDPOINT_URL_IAM = aws.url;
    await own?.close();
    own = undefined;
  });

  async function withFake(options: Omit<FakeAwsOptions, 'account'>, client: IamClientOptions = {}) {
    const { account } = seedAccount({ users: 30, now: new Date('2026-11-21T00:00:00Z'), seed: 9 });
    own = await startFakeAws({ account, report: { inProgressPolls: 0 }, ...options });
    // The SDK reads the endpoint when it sends: it stays on this fake until the test ends.
    process.env.AWS_ENDPOINT_URL_IAM = own.url;
    const api = createIam('aws', undefined, { timeouts: fast, ...client });
    return { fake: own, api };
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.fail('expected a failure'),
      (err: unknown) => err,
    );
  }

  it.each([
    ['inside', 'inside the report'],
    ['end', 'after the report, before the answer ends'],
  ] as const)('fetches the report again when an answer is cut off %s (%s)', async (where, _what) => {
    const { fake, api } = await withFake({ cutCredentialReport: { calls: 2, where } });
    expect(await api.generateCredentialReport()).toBe('COMPLETE');
    const report = await api.getCredentialReport();
    expect(report.csv).toBe(credentialReportCsv(fake.account));
    expect(fake.count('GetCredentialReport')).toBe(3);
  });

  it('says the answer was cut off, as a transient failure, when every try is cut', async () => {
    const { fake, api } = await withFake({ cutCredentialReport: { calls: 99 } }, { maxAttempts: 3 });
    await api.generateCredentialReport();
    const err = await rejection(api.getCredentialReport());
    expect(fake.count('GetCredentialReport')).toBe(3);
    expect(err).toBeInstanceOf(CutAnswerError);
    expect((err as Error).message).toMatch(
      /^IAM's GetCredentialReport answer was cut off \([\d,]+ bytes, inside the report\)$/,
    );
    expect(isTransient(err)).toBe(true);
    expect(describeAwsFailure(err, 'fetching the credential report')).toMatch(
      /^Fetching the credential report failed: IAM's GetCredentialReport answer was cut off .* after 3 tries\. Run the job again/,
    );
  });

  it('gives up on a hung endpoint after its tries, each bounded by the request time-out', async () => {
    const { fake, api } = await withFake({ hang: { ListAccountAliases: 99 } }, { maxAttempts: 3 });
    const started = Date.now();
    const err = await rejection(api.listAccountAliases());
    const elapsed = Date.now() - started;

    expect(fake.requests.map((r) => [r.action, r.status])).toEqual([
      ['ListAccountAliases', 0],
      ['ListAccountAliases', 0],
      ['ListAccountAliases', 0],
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(3 * 300);
    expect(elapsed).toBeLessThan(3 * 300 + 5_000);
    expect(isTransient(err)).toBe(true);
    expect(describeAwsFailure(err, 'looking up the account alias')).toMatch(
      /^Looking up the account alias failed: no answer from AWS after 3 tries \(TimeoutError: .*300 ms.*\)\. Check that the runner can reach AWS/,
    );
  });

  it('answers after a hung request, on the next try', async () => {
    const { fake, api } = await withFake({ hang: { ListAccountAliases: 1 } });
    expect(await api.listAccountAliases()).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it('does not retry an expired session, and says to raise role-duration-seconds', async () => {
    const { fake, api } = await withFake({ failures: { ListAccessKeys: ['ExpiredToken'] } });
    const user = fake.account.users[3]!.name;
    const err = await rejection(api.listAccessKeys(user));

    expect(fake.count('ListAccessKeys')).toBe(1);
    expect(isExpiredSession(err)).toBe(true);
    expect(isTransient(err)).toBe(false);
    expect(isAccessDenied(err)).toBe(false);
    expect(describeAwsFailure(err, `listing the keys of user ${user}`, { roleDurationSeconds: 900 })).toBe(
      `Listing the keys of user ${user} failed: the AWS session expired before the scan finished (ExpiredToken: The security token included in the request is expired). ` +
        "Raise role-duration-seconds (now 900 s; up to the role's maximum session duration, which may need raising too), or scan fewer users per run.",
    );
  });
});
