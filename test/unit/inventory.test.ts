import { describe, expect, it, vi } from 'vitest';
import type { IamApi, LiveKey } from '../../src/aws/iam.js';
import { flaggedUsers, judge, type Policy } from '../../src/account/judge.js';
import { reportPause, takeInventory, type InventoryDeps } from '../../src/account/inventory.js';

const now = new Date('2026-11-21T08:00:00Z');
const policy: Policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] };
const iso = (daysAgo: number) =>
  new Date(now.getTime() - daysAgo * 86_400_000).toISOString().replace('.000Z', '+00:00');

const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';
const row = (user: string, k1: [boolean, number] | null, k2: [boolean, number] | null = null) =>
  [
    user,
    `arn:aws:iam::111111111111:user/${user}`,
    iso(900),
    'false,N/A,N/A,N/A,false',
    ...[k1, k2].map((k) => (k ? `${k[0]},${iso(k[1])},${iso(1)},us-east-1,s3` : 'false,N/A,N/A,N/A,N/A')),
    'false,N/A,false,N/A',
  ].join(',');

const error = (name: string, status: number) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

function fakeIam(over: Partial<IamApi> & { live?: Record<string, LiveKey[] | null>; csv?: string } = {}) {
  const live = over.live ?? {};
  const api: IamApi = {
    generateCredentialReport: vi.fn(async () => 'COMPLETE' as const),
    getCredentialReport: vi.fn(async () => ({ csv: over.csv ?? '', generatedAt: new Date('2026-11-21T05:00:00Z') })),
    listUserNames: vi.fn(async () => Object.keys(live)),
    listAccessKeys: vi.fn(async (user: string) => (user in live ? live[user]! : null)),
    getAccessKeyLastUsed: vi.fn(async () => ({
      date: new Date('2026-11-20T00:00:00Z'),
      service: 'iam',
      region: 'us-west-2',
    })),
    listAccountAliases: vi.fn(async () => []),
    rootAccessKeysPresent: vi.fn(async () => false),
    listUserTags: vi.fn(async () => []),
    userDetailsWithTags: async function* () {},
    updateAccessKey: vi.fn(async () => {}),
    close: vi.fn(),
    ...over,
  };
  return api;
}

function deps(iam: IamApi, over: Partial<InventoryDeps> = {}): InventoryDeps {
  return {
    iam,
    sleep: vi.fn(async () => {}),
    usersToConfirm: (keys) => flaggedUsers(judge(keys, policy, now)),
    lastUseMatters: false,
    info: () => {},
    warning: vi.fn(),
    ...over,
  };
}

const liveKey = (user: string, id: string, daysAgo: number, status: 'Active' | 'Inactive' = 'Active'): LiveKey => ({
  user,
  accessKeyId: id,
  status,
  createDate: new Date(iso(daysAgo)),
});

describe('inventory by credential report', () => {
  const csv = [
    HEADER,
    row('<root_account>', null),
    row('old', [true, 200]),
    row('rotated', [true, 150]),
    row('gone', [true, 120]),
    row('fresh', [true, 5], [true, 30]),
  ].join('\n');

  it('confirms only the flagged users live, and trusts the live state', async () => {
    const iam = fakeIam({
      csv,
      live: {
        old: [liveKey('old', 'AKIAOLD0000000000001', 200)],
        // Rotated since the report: the old key is gone, a new one exists.
        rotated: [liveKey('rotated', 'AKIAROTATED000000002', 0)],
        fresh: [],
      },
    });
    const inv = await takeInventory('credential-report', deps(iam));
    expect(iam.listAccessKeys).toHaveBeenCalledTimes(3);
    expect(
      vi
        .mocked(iam.listAccessKeys)
        .mock.calls.map((c) => c[0])
        .sort(),
    ).toEqual(['gone', 'old', 'rotated']);
    expect(inv).toMatchObject({ method: 'credential-report', userCount: 4, confirmedUsers: 3 });

    const stale = judge(inv.keys, policy, now).stale;
    expect(stale.map((f) => [f.user, f.accessKeyId])).toEqual([['old', 'AKIAOLD0000000000001']]);
    // Last use of a key the report knows comes from the report; of a new key, from IAM.
    expect(inv.keys.find((k) => k.user === 'old')).toMatchObject({
      lastUsedService: 's3',
      lastUsedRegion: 'us-east-1',
    });
    expect(inv.keys.find((k) => k.user === 'rotated')).toMatchObject({
      lastUsedService: 'iam',
      lastUsedRegion: 'us-west-2',
    });
    expect(iam.getAccessKeyLastUsed).toHaveBeenCalledTimes(1);
    // Unflagged users keep their report keys, without IDs.
    expect(inv.keys.filter((k) => k.user === 'fresh').map((k) => k.accessKeyId)).toEqual([null, null]);
  });

  it('leaves the last use of a key created since the report unknown when GetAccessKeyLastUsed is denied', async () => {
    const iam = fakeIam({
      csv,
      live: { old: [liveKey('old', 'AKIAOLD0000000000001', 200), liveKey('old', 'AKIANEW0000000000001', 0)] },
      getAccessKeyLastUsed: vi.fn(async () => Promise.reject(error('AccessDenied', 403))),
    });
    const inv = await takeInventory('credential-report', deps(iam));
    expect(inv.keys.find((k) => k.accessKeyId === 'AKIANEW0000000000001')).toMatchObject({
      lastUsedDate: null,
      lastUsedService: null,
      lastUseKnown: false,
    });
    expect(inv.keys.find((k) => k.accessKeyId === 'AKIAOLD0000000000001')).toMatchObject({
      lastUsedService: 's3',
      lastUseKnown: true,
    });
    expect(inv.coverage.gaps).toEqual([
      {
        what: 'The last use of keys created since the report could not be read for 1 user (old) (iam:GetAccessKeyLastUsed was denied)',
        fix: 'Grant iam:GetAccessKeyLastUsed',
        couldHideStale: false,
      },
    ]);
  });

  it("judges a user's keys from the report, without IDs, when ListAccessKeys is denied for them", async () => {
    const iam = fakeIam({
      csv,
      live: { rotated: [liveKey('rotated', 'AKIAROTATED000000002', 0)] },
      listAccessKeys: vi.fn(async (user: string) => {
        if (user === 'old') throw error('AccessDenied', 403);
        return user === 'rotated' ? [liveKey('rotated', 'AKIAROTATED000000002', 0)] : null;
      }),
    });
    const inv = await takeInventory('credential-report', deps(iam));
    expect(inv.keys.filter((k) => k.user === 'old')).toMatchObject([{ accessKeyId: null, status: 'Active' }]);
    expect(judge(inv.keys, policy, now).stale.map((k) => k.user)).toEqual(['old']);
    expect(inv.confirmedUsers).toBe(2);
    expect(inv.coverage).toMatchObject({ unseenUsers: new Set(), rootChecked: true });
    expect(inv.coverage.gaps).toEqual([
      {
        what: 'The keys of 1 user (old) were not confirmed live (iam:ListAccessKeys was denied): they are shown as the credential report of 2026-11-21 05:00 UTC has them, without key IDs',
        fix: 'Grant iam:ListAccessKeys',
        couldHideStale: false,
      },
    ]);
  });

  it('ends the scan with the step and the fix when the session expires', async () => {
    const iam = fakeIam({
      csv,
      listAccessKeys: vi.fn(async () => Promise.reject(error('ExpiredToken', 403))),
    });
    await expect(takeInventory('credential-report', deps(iam))).rejects.toThrow(
      /^Listing the access keys of \w+ failed: the AWS session expired before the scan finished \(ExpiredToken: ExpiredToken happened\)\. Raise role-duration-seconds/,
    );
  });

  it('fetches a finished report again when the answer fails in transit, a bounded number of times', async () => {
    const cut = Object.assign(new Error("IAM's GetCredentialReport answer was cut off"), {
      name: 'TimeoutError',
      $metadata: {},
    });
    let gets = 0;
    const iam = fakeIam({ csv: HEADER });
    const get = iam.getCredentialReport;
    iam.getCredentialReport = vi.fn(async () => (gets++ < 2 ? Promise.reject(cut) : get()));
    await expect(takeInventory('credential-report', deps(iam))).resolves.toMatchObject({ userCount: 0 });
    expect(iam.getCredentialReport).toHaveBeenCalledTimes(3);

    const broken = fakeIam({ getCredentialReport: vi.fn(async () => Promise.reject(cut)) });
    await expect(takeInventory('credential-report', deps(broken))).rejects.toThrow(/cut off/);
    expect(broken.getCredentialReport).toHaveBeenCalledTimes(4);
  });

  it('polls with a growing pause until the report is complete', async () => {
    const states = ['STARTED', 'INPROGRESS', 'INPROGRESS', 'COMPLETE'] as const;
    let i = 0;
    const iam = fakeIam({ csv: HEADER, generateCredentialReport: vi.fn(async () => states[i++]!) });
    const d = deps(iam);
    await takeInventory('credential-report', d);
    expect(iam.generateCredentialReport).toHaveBeenCalledTimes(4);
    expect(vi.mocked(d.sleep).mock.calls).toEqual([[500], [1000], [2000]]);
    expect([0, 1, 2, 3].map((poll) => reportPause(poll, 2000))).toEqual([2000, 2000, 2000, 4000]);
  });

  it('waits out LimitExceeded and a report that expired between calls', async () => {
    let calls = 0;
    const iam = fakeIam({
      csv: HEADER,
      generateCredentialReport: vi.fn(async () => {
        if (calls++ === 0) throw error('LimitExceededException', 409);
        return 'COMPLETE' as const;
      }),
    });
    const get = iam.getCredentialReport;
    let gets = 0;
    iam.getCredentialReport = vi.fn(async () => {
      if (gets++ === 0) throw error('CredentialReportExpiredException', 410);
      return get();
    });
    await expect(takeInventory('credential-report', deps(iam))).resolves.toMatchObject({ userCount: 0 });
    expect(iam.generateCredentialReport).toHaveBeenCalledTimes(3);
  });

  it('sees nothing, and says why, when the report never completes and scan-method asks for it', async () => {
    const iam = fakeIam({ generateCredentialReport: vi.fn(async () => 'INPROGRESS' as const) });
    const inv = await takeInventory('credential-report', deps(iam, { reportTimeoutMs: 10_000 }));
    expect(vi.mocked(iam.generateCredentialReport).mock.calls.length).toBeLessThan(10);
    expect(inv.coverage).toEqual({
      unseenUsers: 'all',
      rootChecked: false,
      gaps: [
        {
          what: 'The credential report was not ready after 8 s (IAM may be busy), so no keys were checked',
          fix: 'Run again later, or set scan-method to auto to fall back to listing keys user by user',
          couldHideStale: true,
        },
      ],
    });
    expect(iam.listUserNames).not.toHaveBeenCalled();
  });

  it('falls back to the API in auto when the report never completes, and says so', async () => {
    const iam = fakeIam({
      generateCredentialReport: vi.fn(async () => 'INPROGRESS' as const),
      live: { old: [liveKey('old', 'AKIAOLD0000000000001', 200)] },
    });
    const d = deps(iam, { reportTimeoutMs: 10_000 });
    const inv = await takeInventory('auto', d);
    expect(inv.method).toBe('api');
    expect(inv.keys.map((k) => k.accessKeyId)).toEqual(['AKIAOLD0000000000001']);
    expect(inv.notes[0]).toBe(
      'The credential report was not ready after 8 s (IAM may be busy), so keys were listed user by user instead.',
    );
    expect(d.warning).toHaveBeenCalledWith(inv.notes[0]);
  });

  it('sees nothing, and names the permissions, when the report is denied and scan-method asks for it', async () => {
    const iam = fakeIam({ generateCredentialReport: vi.fn(async () => Promise.reject(error('AccessDenied', 403))) });
    const inv = await takeInventory('credential-report', deps(iam));
    expect(inv.coverage.gaps).toEqual([
      {
        what: 'The credential report was denied (AccessDenied happened), so no keys were checked',
        fix: 'Grant iam:GenerateCredentialReport and iam:GetCredentialReport, or set scan-method to auto',
        couldHideStale: true,
      },
    ]);
    expect(inv.coverage.unseenUsers).toBe('all');
    expect(iam.listUserNames).not.toHaveBeenCalled();
  });

  it('falls back to the API in auto when the report is denied, and says so', async () => {
    const iam = fakeIam({
      getCredentialReport: vi.fn(async () => Promise.reject(error('AccessDenied', 403))),
      live: { old: [liveKey('old', 'AKIAOLD0000000000001', 200)] },
    });
    const d = deps(iam);
    const inv = await takeInventory('auto', d);
    expect(inv.method).toBe('api');
    expect(inv.notes[0]).toMatch(/^The credential report was denied/);
    expect(d.warning).toHaveBeenCalledWith(inv.notes[0]);
  });

  it('does not fall back on other errors', async () => {
    const iam = fakeIam({
      generateCredentialReport: vi.fn(async () => Promise.reject(error('ServiceFailureException', 500))),
    });
    await expect(takeInventory('auto', deps(iam))).rejects.toThrow(
      'Fetching the credential report failed: AWS failed (ServiceFailure: ServiceFailureException happened). Run again later.',
    );
    expect(iam.listUserNames).not.toHaveBeenCalled();
  });
});

describe('inventory by API', () => {
  it('lists every user and key with last use, and the root key from the account summary', async () => {
    const iam = fakeIam({
      live: {
        a: [liveKey('a', 'AKIAA000000000000001', 100), liveKey('a', 'AKIAA000000000000002', 1, 'Inactive')],
        b: [],
        c: null,
      },
      rootAccessKeysPresent: vi.fn(async () => true),
    });
    const inv = await takeInventory('api', deps(iam));
    expect(inv).toMatchObject({ method: 'api', userCount: 3, reportGeneratedAt: null });
    expect(inv.keys.map((k) => [k.user, k.accessKeyId, k.status, k.lastUsedService])).toEqual([
      ['a', 'AKIAA000000000000001', 'Active', 'iam'],
      ['a', 'AKIAA000000000000002', 'Inactive', 'iam'],
      ['<root_account>', null, 'Active', null],
    ]);
    expect(iam.generateCredentialReport).not.toHaveBeenCalled();
  });

  it('asks for last use only of flagged keys unless max-unused-days needs it for all', async () => {
    const live = {
      old: [liveKey('old', 'AKIAOLD0000000000001', 100)],
      fresh: [liveKey('fresh', 'AKIAFRESH00000000001', 10), liveKey('fresh', 'AKIAFRESH00000000002', 20, 'Inactive')],
    };
    const lean = fakeIam({ live });
    const leanInventory = await takeInventory('api', deps(lean));
    expect(vi.mocked(lean.getAccessKeyLastUsed).mock.calls).toEqual([['AKIAOLD0000000000001']]);
    expect(leanInventory.notes).toContain(
      'Last use was looked up only for the keys of users with a stale key (max-unused-days is off): other keys show none.',
    );

    const full = fakeIam({ live });
    const inv = await takeInventory('api', deps(full, { lastUseMatters: true }));
    expect(
      vi
        .mocked(full.getAccessKeyLastUsed)
        .mock.calls.map((c) => c[0])
        .sort(),
    ).toEqual(['AKIAFRESH00000000001', 'AKIAOLD0000000000001']);
    expect(inv.keys.find((k) => k.accessKeyId === 'AKIAFRESH00000000001')?.lastUsedService).toBe('iam');
    expect(inv.notes).toEqual([]);
  });

  it('records that root keys were not checked when the account summary is denied', async () => {
    const iam = fakeIam({ rootAccessKeysPresent: vi.fn(async () => Promise.reject(error('AccessDenied', 403))) });
    const inv = await takeInventory('api', deps(iam));
    expect(inv.coverage.rootChecked).toBe(false);
    expect(inv.coverage.gaps).toEqual([
      {
        what: 'Root access keys were not checked (iam:GetAccountSummary was denied)',
        fix: "Grant iam:GetAccountSummary, or iam:GenerateCredentialReport and iam:GetCredentialReport (the report has the root user's keys)",
        couldHideStale: true,
      },
    ]);
  });

  it('records every user whose keys could not be listed, by cause, and goes on with the others', async () => {
    const iam = fakeIam({
      live: { a: [liveKey('a', 'AKIAA000000000000001', 100)], b: [], c: [], d: [] },
      listAccessKeys: vi.fn(async (user: string) => {
        if (user === 'b' || user === 'c') throw error('AccessDenied', 403);
        if (user === 'd') throw error('ServiceFailure', 500);
        return user === 'a' ? [liveKey('a', 'AKIAA000000000000001', 100)] : [];
      }),
    });
    const inv = await takeInventory('api', deps(iam));
    expect(inv.keys.map((k) => k.accessKeyId)).toEqual(['AKIAA000000000000001']);
    expect(inv.coverage.unseenUsers).toEqual(new Set(['b', 'c', 'd']));
    expect(inv.coverage.gaps).toEqual([
      {
        what: 'The keys of 2 users (b, c) could not be listed (iam:ListAccessKeys was denied)',
        fix: 'Grant iam:ListAccessKeys',
        couldHideStale: true,
      },
      {
        what: 'The keys of 1 user (d) could not be listed (iam:ListAccessKeys failed: ServiceFailure)',
        fix: 'Run again: IAM kept failing after retries',
        couldHideStale: true,
      },
    ]);
  });

  it('sees no user, and still checks the root user, when ListUsers is denied', async () => {
    const iam = fakeIam({
      listUserNames: vi.fn(async () => Promise.reject(error('AccessDenied', 403))),
      rootAccessKeysPresent: vi.fn(async () => true),
    });
    const inv = await takeInventory('api', deps(iam));
    expect(inv.userCount).toBe(0);
    expect(inv.keys.map((k) => k.root)).toEqual([true]);
    expect(inv.coverage).toMatchObject({ unseenUsers: 'all', rootChecked: true });
    expect(inv.coverage.gaps[0]).toMatchObject({ fix: 'Grant iam:ListUsers', couldHideStale: true });
  });

  it('leaves last use unknown, with a note, when GetAccessKeyLastUsed is denied', async () => {
    const iam = fakeIam({
      live: { a: [liveKey('a', 'AKIAA000000000000001', 100)], b: [liveKey('b', 'AKIAB000000000000001', 30)] },
      getAccessKeyLastUsed: vi.fn(async () => Promise.reject(error('AccessDenied', 403))),
    });
    const inv = await takeInventory('api', deps(iam, { lastUseMatters: true }));
    expect(inv.keys.map((k) => k.lastUseKnown)).toEqual([false, false]);
    expect(inv.coverage.gaps).toEqual([
      {
        what: 'The last use of keys of 2 users (a, b) could not be read (iam:GetAccessKeyLastUsed was denied)',
        fix: 'Grant iam:GetAccessKeyLastUsed',
        couldHideStale: false,
      },
    ]);
  });

  it('never runs more than the concurrency limit of per-user calls at once', async () => {
    let running = 0;
    let peak = 0;
    const live = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`u${i}`, [] as LiveKey[]]));
    const iam = fakeIam({
      live,
      listAccessKeys: vi.fn(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        return [];
      }),
    });
    await takeInventory('api', deps(iam, { concurrency: 4 }));
    expect(iam.listAccessKeys).toHaveBeenCalledTimes(50);
    expect(peak).toBe(4);
  });
});
