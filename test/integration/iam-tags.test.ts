/**
 * Users' tags and key deactivation (src/aws/iam.ts, src/account/tags.ts) with the real SDK client
 * against the loopback fake IAM: pagination of ListUserTags and GetAccountAuthorizationDetails, the
 * choice between them, denials and failures as a gap, and UpdateAccessKey changing the fake's state.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readUserTags } from '../../src/account/tags.js';
import { isAccessDenied } from '../../src/aws/errors.js';
import { createIam, type IamApi, type IamClientOptions } from '../../src/aws/iam.js';
import { measureUserTags } from '../../bench/user-tags.js';
import { demoAccount } from '../fakes/demo-account.js';
import {
  credentialReportCsv,
  seedAccount,
  startFakeAws,
  type FakeAccount,
  type FakeAws,
  type FakeAwsOptions,
} from '../fakes/aws.js';

const now = new Date('2026-06-01T12:00:00Z');

let aws: FakeAws | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await aws?.close();
  aws = undefined;
});

/** Starts the fake and a real SDK client pointed at it; nothing of this machine's AWS setup is read. */
async function serve(options: FakeAwsOptions, client: IamClientOptions = {}): Promise<{ fake: FakeAws; iam: IamApi }> {
  await aws?.close();
  aws = await startFakeAws(options);
  vi.stubEnv('AWS_ENDPOINT_URL_IAM', aws.url);
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  const iam = createIam('aws', { accessKeyId: 'AKIAFAKETAGSTEST0001', secretAccessKey: 'fake-secret' }, client);
  return { fake: aws, iam };
}

/** `users` seeded users, about half of them tagged. */
const tagged = (users: number): FakeAccount => seedAccount({ users, now, seed: 4, taggedRatio: 0.5 }).account;

/** Every `step`-th user of the account. */
const everyNth = (account: FakeAccount, step: number): string[] =>
  account.users.filter((_, i) => i % step === 0).map((u) => u.name);

/** The tags a user was seeded with, as `readUserTags` gives them. */
const seededTags = (account: FakeAccount, name: string): Record<string, string> =>
  Object.fromEntries((account.users.find((u) => u.name === name)?.tags ?? []).map((t) => [t.key, t.value]));

const requested = (fake: FakeAws, action: string) => fake.requests.filter((r) => r.action === action);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => err,
  );
}

describe('ListUserTags and GetAccountAuthorizationDetails through the SDK', () => {
  it("reads every page of a user's tags, 100 at most a request, and says NoSuchEntity for an unknown user", async () => {
    const account = tagged(3);
    const tags = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: i % 2 ? `v&<${i}>` : '' }));
    account.users[1]!.tags = tags;
    const { fake, iam } = await serve({ account, pageSize: 2 });

    expect(await iam.listUserTags(account.users[1]!.name)).toEqual(tags);
    const pages = requested(fake, 'ListUserTags');
    expect(pages.map((r) => [r.params.MaxItems, r.params.Marker !== undefined])).toEqual([
      ['100', false],
      ['100', true],
      ['100', true],
    ]);
    await expect(iam.listUserTags('nobody')).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('reads every page of GetAccountAuthorizationDetails with Filter=User, each user with its tags', async () => {
    const account = tagged(2_500);
    const { fake, iam } = await serve({ account, authorizationDetailsPageSize: 400, shortPages: true });

    const seen = new Map<string, Record<string, string>>();
    for await (const { user, tags } of iam.userDetailsWithTags()) {
      seen.set(user, Object.fromEntries(tags.map((t) => [t.key, t.value])));
    }
    expect(seen.size).toBe(2_500);
    for (const user of account.users) expect(seen.get(user.name)).toEqual(seededTags(account, user.name));
    expect([...seen.values()].filter((t) => t.owner).length).toBeGreaterThan(1_000);

    const pages = requested(fake, 'GetAccountAuthorizationDetails');
    expect(pages).toHaveLength(Math.ceil(2_500 / 399)); // Short pages: 399 users each.
    expect(pages.every((r) => r.params['Filter.member.1'] === 'User' && r.params.MaxItems === '1000')).toBe(true);
  });
});

describe('readUserTags', () => {
  it("reads the demo account's flagged users from one page of GetAccountAuthorizationDetails, keys as IAM has them", async () => {
    const { fake, iam } = await serve({ account: demoAccount(now) });
    const flagged = ['alice', 'deploy-bot', 'svc-payments', '<root_account>', 'alice'];
    const expected = {
      tags: new Map([
        ['alice', { owner: 'alice@example.com', team: 'web' }],
        ['deploy-bot', {}],
        ['svc-payments', { Owner: 'payments-team@example.com' }],
      ]),
      gap: null,
    };
    // 3 users (the root user has no tags, alice counts once): user by user is chosen, pages when asked.
    expect(await readUserTags(iam, flagged, { accountUsers: 7, strategy: 'account-details' })).toEqual(expected);
    expect(fake.requests.map((r) => r.action)).toEqual(['GetAccountAuthorizationDetails']);

    fake.resetRequests();
    expect(await readUserTags(iam, flagged, { accountUsers: 7 })).toEqual(expected);
    expect(fake.requests.map((r) => [r.action, r.params.UserName])).toEqual([
      ['ListUserTags', 'alice'],
      ['ListUserTags', 'deploy-bot'],
      ['ListUserTags', 'svc-payments'],
    ]);
  });

  it('reads many flagged users from the pages of GetAccountAuthorizationDetails instead', async () => {
    const account = tagged(2_500);
    const flagged = everyNth(account, 5); // 500 users, against 3 pages
    const { fake, iam } = await serve({ account, pageSize: 1000 });
    const info = vi.fn();

    const read = await readUserTags(iam, flagged, { accountUsers: 2_500, info });
    expect(read.gap).toBeNull();
    expect([...read.tags.keys()]).toEqual(flagged);
    for (const name of flagged) expect(read.tags.get(name)).toEqual(seededTags(account, name));
    expect(fake.requests.map((r) => r.action)).toEqual(Array(3).fill('GetAccountAuthorizationDetails'));
    expect(info).toHaveBeenCalledWith(
      'Reading the tags of 500 users from GetAccountAuthorizationDetails (2,500 users in the account).',
    );
  });

  it('leaves out a user deleted since the inventory, either way', async () => {
    const account = tagged(40);
    const { iam } = await serve({ account, pageSize: 1000 });
    const users = [account.users[0]!.name, 'deleted-since'];
    for (const strategy of ['list-user-tags', 'account-details'] as const) {
      const read = await readUserTags(iam, users, { accountUsers: 40, strategy });
      expect([...read.tags.keys()], strategy).toEqual([account.users[0]!.name]);
      expect(read.gap).toBeNull();
    }
  });

  it('turns a denied ListUserTags into a gap, drops the tags read before it and starts no more calls', async () => {
    const account = tagged(40);
    const { fake, iam } = await serve({ account });
    let calls = 0;
    // The fourth call and every later one are denied: the role lost the permission mid-read.
    const api: IamApi = {
      ...iam,
      listUserTags: (user) => {
        if (++calls === 4) fake.deny.add('ListUserTags');
        return iam.listUserTags(user);
      },
    };

    const read = await readUserTags(api, everyNth(account, 2), {
      accountUsers: 40,
      strategy: 'list-user-tags',
      concurrency: 1,
    });
    expect(read).toEqual({
      tags: new Map(),
      gap: {
        what: 'Owners and exemptions were not read (iam:ListUserTags was denied)',
        fix: 'Grant iam:ListUserTags (or iam:GetAccountAuthorizationDetails, which reads a large account in fewer requests)',
        couldHideStale: false,
      },
    });
    expect(requested(fake, 'ListUserTags').map((r) => r.status)).toEqual([200, 200, 200, 403]);
  });

  it('falls back to ListUserTags when GetAccountAuthorizationDetails is denied', async () => {
    const account = tagged(2_500);
    const flagged = everyNth(account, 10);
    const { fake, iam } = await serve({ account, pageSize: 1000, deny: ['GetAccountAuthorizationDetails'] });
    const info = vi.fn();

    const read = await readUserTags(iam, flagged, { accountUsers: 2_500, info });
    expect(read.gap).toBeNull();
    for (const name of flagged) expect(read.tags.get(name)).toEqual(seededTags(account, name));
    expect(requested(fake, 'GetAccountAuthorizationDetails').map((r) => r.status)).toEqual([403]);
    expect(requested(fake, 'ListUserTags')).toHaveLength(250);
    expect(info).toHaveBeenCalledWith(
      'iam:GetAccountAuthorizationDetails is not allowed; reading the tags user by user instead.',
    );

    fake.deny.add('ListUserTags');
    expect((await readUserTags(iam, flagged, { accountUsers: 2_500 })).gap).toMatchObject({
      what: 'Owners and exemptions were not read (iam:ListUserTags was denied)',
    });
  });

  it('retries throttled calls either way and reads everything', async () => {
    const account = tagged(2_500);
    const flagged = everyNth(account, 250); // 10 users
    const { fake, iam } = await serve({
      account,
      pageSize: 1000,
      failures: { ListUserTags: ['Throttling'], GetAccountAuthorizationDetails: ['Throttling'] },
    });

    for (const strategy of ['list-user-tags', 'account-details'] as const) {
      const read = await readUserTags(iam, flagged, { accountUsers: 2_500, strategy });
      expect(read.gap, strategy).toBeNull();
      for (const name of flagged) expect(read.tags.get(name)).toEqual(seededTags(account, name));
    }
    expect(requested(fake, 'ListUserTags')).toHaveLength(10 + 1);
    expect(requested(fake, 'GetAccountAuthorizationDetails')).toHaveLength(3 + 1);
    expect(fake.throttled).toBe(2);
  }, 30_000); // The SDK's own backoff.

  it('turns a call that keeps failing, or an expired session, into a gap, never a throw', async () => {
    const account = tagged(2_500);
    const flagged = everyNth(account, 5);
    const { iam } = await serve(
      { account, pageSize: 1000, failures: { GetAccountAuthorizationDetails: ['ServiceFailure', 'ServiceFailure'] } },
      { maxAttempts: 2 },
    );
    expect(await readUserTags(iam, flagged, { accountUsers: 2_500 })).toEqual({
      tags: new Map(),
      gap: {
        what: 'Owners and exemptions were not read (iam:GetAccountAuthorizationDetails failed: ServiceFailure)',
        fix: 'Run again: IAM kept failing after retries',
        couldHideStale: false,
      },
    });

    aws!.failures.ListUserTags = ['ExpiredToken'];
    expect(await readUserTags(iam, flagged.slice(0, 2), { accountUsers: 2_500 })).toEqual({
      tags: new Map(),
      gap: {
        what: 'Owners and exemptions were not read (the AWS session expired before they were)',
        fix: 'Raise role-duration-seconds, or run again',
        couldHideStale: false,
      },
    });
  });
});

describe('updateAccessKey', () => {
  it('deactivates a key: ListAccessKeys and a new credential report show it, and the fake records it', async () => {
    const { fake, iam } = await serve({ account: demoAccount(now), report: { inProgressPolls: 0 } });
    await iam.generateCredentialReport();
    const before = (await iam.getCredentialReport()).csv;
    expect(before).toBe(credentialReportCsv(fake.account));

    await iam.updateAccessKey('alice', 'AKIAIOSFODNN7ALICE01', 'Inactive');
    expect(await iam.listAccessKeys('alice')).toMatchObject([
      { accessKeyId: 'AKIAIOSFODNN7ALICE01', status: 'Inactive' },
    ]);
    expect(fake.keyUpdates).toEqual([
      {
        account: '111111111111',
        user: 'alice',
        accessKeyId: 'AKIAIOSFODNN7ALICE01',
        status: 'Inactive',
        was: 'Active',
        at: expect.any(Number),
      },
    ]);
    expect(requested(fake, 'UpdateAccessKey')[0]!.params).toMatchObject({
      UserName: 'alice',
      AccessKeyId: 'AKIAIOSFODNN7ALICE01',
      Status: 'Inactive',
    });

    // The report generated before still says what it said; a new one shows the key inactive.
    expect((await iam.getCredentialReport()).csv).toBe(before);
    fake.resetReport();
    await iam.generateCredentialReport();
    const after = (await iam.getCredentialReport()).csv;
    expect(after).not.toBe(before);
    expect(after.split('\n').find((line) => line.startsWith('alice,'))).toMatch(
      /^alice,[^,]+,[^,]+,(?:[^,]*,){5}false,/,
    );

    await iam.updateAccessKey('alice', 'AKIAIOSFODNN7ALICE01', 'Active');
    expect((await iam.listAccessKeys('alice'))?.[0]?.status).toBe('Active');
  });

  it('says which key could not be found: an unknown key, or one of another user', async () => {
    const { fake, iam } = await serve({ account: demoAccount(now) });
    for (const [user, key] of [
      ['alice', 'AKIAIOSFODNN7NOSUCH1'],
      ['bob', 'AKIAIOSFODNN7ALICE01'],
    ] as const) {
      const err = await rejection(iam.updateAccessKey(user, key, 'Inactive'));
      expect((err as Error).message).toBe(
        `Setting access key ${key} of user ${user} to Inactive failed: NoSuchEntity: The Access Key with id ${key} cannot be found.`,
      );
      expect((err as Error).cause).toMatchObject({ name: 'NoSuchEntityException' });
    }
    expect(fake.keyUpdates).toEqual([]);
    expect(fake.account.users.find((u) => u.name === 'alice')!.keys[0]!.status).toBe('Active');
  });

  it('says to grant iam:UpdateAccessKey when it is denied, and changes nothing', async () => {
    const { fake, iam } = await serve({ account: demoAccount(now), deny: ['UpdateAccessKey'] });
    const err = await rejection(iam.updateAccessKey('deploy-bot', 'AKIAIOSFODNN7DEPLOY1', 'Inactive'));
    expect((err as Error).message).toMatch(
      /^Setting access key AKIAIOSFODNN7DEPLOY1 of user deploy-bot to Inactive failed: access denied \(AccessDenied: User: .* is not authorized to perform: iam:UpdateAccessKey on resource: arn:aws:iam::111111111111:user\/deploy-bot .*\)\. Grant iam:UpdateAccessKey in the role's policy\.$/,
    );
    expect(isAccessDenied((err as Error).cause)).toBe(true);
    expect(fake.count('UpdateAccessKey')).toBe(1); // A denial is not retried.
    expect(fake.keyUpdates).toEqual([]);
    expect((await iam.listAccessKeys('deploy-bot'))?.[0]?.status).toBe('Active');
  });

  it('retries a throttled UpdateAccessKey', async () => {
    const { fake, iam } = await serve({
      account: demoAccount(now),
      failures: { UpdateAccessKey: ['Throttling', 'ServiceFailure'] },
    });
    await iam.updateAccessKey('bob', 'AKIAIOSFODNN7BOB0001', 'Inactive');
    expect(requested(fake, 'UpdateAccessKey').map((r) => r.status)).toEqual([400, 500, 200]);
    expect(fake.keyUpdates).toHaveLength(1);
  }, 30_000); // The SDK's own backoff.
});

describe('the benchmark of tags', () => {
  it('counts both ways for each account and checks every tag read', async () => {
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    const rows = await measureUserTags({
      scenarios: [
        { users: 20, flagged: 2 },
        { users: 2_500, flagged: 40 },
      ],
      latencyMs: 0,
      seed: 1,
      now,
    });
    expect(
      rows.map((t) => [
        t.chosen,
        t.listUserTags.requests,
        t.accountDetails.requests,
        t.listUserTags.exact,
        t.accountDetails.exact,
      ]),
    ).toEqual([
      ['list-user-tags', 2, 1, true, true],
      ['list-user-tags', 40, 3, true, true],
    ]);
  });
});
