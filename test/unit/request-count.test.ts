/**
 * The IAM requests a scan makes, counted by the fake IAM (no latency), through the real SDK client:
 * the credential report costs the same whatever the account's size, and the API method keeps every
 * user, exactly once, when IAM throttles it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIam } from '../../src/aws/iam.js';
import { flaggedUsers, judge, type Policy } from '../../src/account/judge.js';
import { takeInventory } from '../../src/account/inventory.js';
import type { Inventory } from '../../src/model.js';
import { seedAccount, startFakeAws, type FakeAccount, type FakeAws, type FakeAwsOptions } from '../fakes/aws.js';

const now = new Date('2026-06-01T12:00:00Z');
// No warning window: exactly the users with a stale key are flagged.
const policy: Policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 0, includeInactive: false, excludeUsers: [] };

let aws: FakeAws | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await aws?.close();
  aws = undefined;
});

/** Starts the fake and points the SDK's IAM endpoint at it; nothing of this machine's AWS setup is read. */
async function serve(options: FakeAwsOptions): Promise<FakeAws> {
  await aws?.close();
  aws = await startFakeAws(options);
  vi.stubEnv('AWS_ENDPOINT_URL_IAM', aws.url);
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  return aws;
}

function scan(method: 'credential-report' | 'api'): Promise<Inventory> {
  return takeInventory(method, {
    iam: createIam('aws', { accessKeyId: 'AKIAFAKEREQUESTCOUNT', secretAccessKey: 'fake-secret' }),
    sleep: async () => {},
    usersToConfirm: (keys) => flaggedUsers(judge(keys, policy, now)),
    lastUseMatters: false,
    info: () => {},
    warning: () => {},
  });
}

const staleIds = (inventory: Inventory): string[] =>
  judge(inventory.keys, policy, now)
    .stale.map((k) => k.accessKeyId ?? 'no ID')
    .sort();
const iamActions = (fake: FakeAws): string[] => fake.requests.filter((r) => r.service === 'iam').map((r) => r.action);

/** `users` users with fresh keys, except the first `stale`, whose first key is active and 200 days old. */
function accountWith(users: number, stale: number): { account: FakeAccount; staleKeyIds: string[] } {
  const { account } = seedAccount({ users, now, staleRatio: 0, seed: 3 });
  const created = new Date(now.getTime() - 200 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const staleKeyIds = account.users.slice(0, stale).map((user) => {
    user.keys[0] = { ...user.keys[0]!, status: 'Active', created };
    return user.keys[0].id;
  });
  return { account, staleKeyIds };
}

describe('IAM requests of a scan', () => {
  it('by credential report: 3 + the flagged users, whatever the number of users', async () => {
    const flagged = 7;
    const actions: string[][] = [];
    for (const users of [50, 2000]) {
      const { account, staleKeyIds } = accountWith(users, flagged);
      const fake = await serve({ account });
      const inventory = await scan('credential-report');
      expect(inventory.userCount).toBe(users);
      expect(inventory.confirmedUsers).toBe(flagged);
      expect(staleIds(inventory)).toEqual([...staleKeyIds].sort());
      actions.push(iamActions(fake).sort());
    }
    const expected = [
      'GenerateCredentialReport',
      'GenerateCredentialReport',
      'GetCredentialReport',
      ...Array<string>(flagged).fill('ListAccessKeys'),
    ];
    expect(actions).toEqual([expected, expected]);
    expect(expected).toHaveLength(3 + flagged);
  });

  // About 8 s: after the first throttle the SDK's adaptive retry drops to 0.5 requests/s and speeds up again slowly.
  it(
    'by the API under throttling: every user and key once, exactly the seeded stale keys',
    { timeout: 30_000 },
    async () => {
      const { account, staleKeyIds } = seedAccount({ users: 300, now, seed: 5 });
      const fake = await serve({ account, throttle: { rate: 200, burst: 5 } });
      const inventory = await scan('api');

      expect(fake.throttled).toBeGreaterThan(0);
      const listed = fake.requests.filter((r) => r.action === 'ListAccessKeys' && r.status === 200);
      expect(new Set(listed.map((r) => r.params.UserName)).size).toBe(300);
      expect(inventory.userCount).toBe(300);
      expect(inventory.keys.map((k) => k.accessKeyId).sort()).toEqual(
        account.users.flatMap((u) => u.keys.map((k) => k.id)).sort(),
      );
      expect(staleIds(inventory)).toEqual([...staleKeyIds].sort());
    },
  );
});
