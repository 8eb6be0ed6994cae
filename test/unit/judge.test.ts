import { describe, expect, it } from 'vitest';
import { daysSince, flaggedUsers, judge, userMatcher, type Policy } from '../../src/account/judge.js';
import type { AccessKey } from '../../src/model.js';

const now = new Date('2026-11-21T08:00:00Z');
const daysAgo = (n: number, time = '08:00:00') => new Date(Date.parse(`2026-11-21T${time}Z`) - n * 86_400_000);
const policy: Policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] };

function key(over: Partial<AccessKey> & { user: string }): AccessKey {
  return {
    accessKeyId: `AKIA${over.user.toUpperCase().padEnd(16, 'X')}`,
    status: 'Active',
    createDate: daysAgo(10),
    lastUsedDate: daysAgo(1),
    lastUsedService: 'sts',
    lastUsedRegion: 'us-east-1',
    lastUseKnown: true,
    root: false,
    ...over,
  };
}

describe('judge', () => {
  it('flags an active key exactly max-age-days old, not one a day younger', () => {
    const j = judge(
      [
        key({ user: 'a89', createDate: daysAgo(89) }),
        key({ user: 'a90', createDate: daysAgo(90) }),
        key({ user: 'a91', createDate: daysAgo(91) }),
      ],
      policy,
      now,
    );
    expect(j.stale.map((f) => [f.user, f.ageDays, f.reasons])).toEqual([
      ['a91', 91, ['age']],
      ['a90', 90, ['age']],
    ]);
    expect(j.dueSoon.map((k) => [k.user, k.daysLeft])).toEqual([['a89', 1]]);
  });

  it('counts whole UTC calendar days, whatever the hour', () => {
    // Created late on day -90, judged early on day 0: 90 calendar days, though under 90 × 24 hours.
    const lateNow = new Date('2026-11-21T00:01:00Z');
    const created = new Date('2026-08-23T23:59:00Z');
    expect(judge([key({ user: 'edge', createDate: created })], policy, lateNow).stale[0]?.ageDays).toBe(90);
  });

  it('leaves inactive keys out unless include-inactive is set', () => {
    const keys = [key({ user: 'old', status: 'Inactive', createDate: daysAgo(400) })];
    expect(judge(keys, policy, now).stale).toEqual([]);
    expect(judge(keys, policy, now).dueSoon).toEqual([]);
    const j = judge(keys, { ...policy, includeInactive: true }, now);
    expect(j.stale.map((f) => [f.status, f.reasons])).toEqual([['Inactive', ['age']]]);
  });

  it('flags unused keys, counting a never-used key from its creation', () => {
    const p = { ...policy, maxUnusedDays: 30 };
    const keys = [
      key({ user: 'idle', createDate: daysAgo(60), lastUsedDate: daysAgo(30) }),
      key({ user: 'busy', createDate: daysAgo(60), lastUsedDate: daysAgo(29) }),
      key({ user: 'never', createDate: daysAgo(31), lastUsedDate: null }),
      key({ user: 'new', createDate: daysAgo(29), lastUsedDate: null }),
      key({ user: 'both', createDate: daysAgo(100), lastUsedDate: null }),
    ];
    const j = judge(keys, p, now);
    expect(j.stale.map((f) => [f.user, f.reasons, f.idleDays])).toEqual([
      ['both', ['age', 'unused'], 100],
      ['idle', ['unused'], 30],
      ['never', ['unused'], 31],
    ]);
  });

  it('does not judge unused keys when max-unused-days is 0', () => {
    const j = judge([key({ user: 'never', createDate: daysAgo(60), lastUsedDate: null })], policy, now);
    expect(j.stale).toEqual([]);
  });

  it('always flags a root key, active or not, first', () => {
    const keys = [
      key({ user: 'old', createDate: daysAgo(300) }),
      key({ user: '<root_account>', accessKeyId: null, root: true, createDate: daysAgo(5), status: 'Inactive' }),
    ];
    const j = judge(keys, policy, now);
    expect(j.stale.map((f) => [f.user, f.reasons])).toEqual([
      ['<root_account>', ['root-key']],
      ['old', ['age']],
    ]);
  });

  it('counts a date less than a day ahead (clock skew) as today, and one further ahead as unknown, never negative', () => {
    const ahead = (ms: number) => new Date(now.getTime() + ms);
    const keys = [
      key({ user: 'skew', createDate: ahead(86_400_000), lastUsedDate: null }),
      key({ user: 'future', createDate: ahead(86_400_001), lastUsedDate: null }),
    ];
    const j = judge(keys, { ...policy, maxUnusedDays: 30 }, now);
    expect(j.stale).toEqual([]);
    expect(j.undetermined.map((k) => k.user)).toEqual(['future']);
    expect(j.dueSoon).toEqual([]);
    expect(daysSince(ahead(86_400_000), now)).toBe(0);
    expect(daysSince(ahead(86_400_001), now)).toBeNull();
  });

  it('flags a root key known only to exist (no date)', () => {
    const j = judge(
      [key({ user: '<root_account>', accessKeyId: null, root: true, createDate: null, lastUsedDate: null })],
      policy,
      now,
    );
    expect(j.stale[0]).toMatchObject({ ageDays: null, reasons: ['root-key'] });
  });

  it('skips excluded users, counts them, and never excludes the root user', () => {
    const keys = [
      key({ user: 'svc-build', createDate: daysAgo(200) }),
      key({ user: 'SVC-deploy', createDate: daysAgo(200) }),
      key({ user: 'SVC-deploy', accessKeyId: 'AKIASECONDKEY0000000', createDate: daysAgo(3) }),
      key({ user: 'alice', createDate: daysAgo(200) }),
      key({ user: '<root_account>', accessKeyId: null, root: true }),
    ];
    const j = judge(keys, { ...policy, excludeUsers: ['svc-*', 'bo?'] }, now);
    expect(j.stale.map((f) => f.user)).toEqual(['<root_account>', 'alice']);
    expect(j.excludedUsers).toEqual(['SVC-deploy', 'svc-build']);
    expect(j.excludedKeys).toBe(3);
    expect(j.scannedKeys).toBe(2);
    expect(j.unmatchedExclusions).toEqual(['bo?']);
  });

  it('never counts unknown last use as never used: the unused verdict is left undetermined', () => {
    const p = { ...policy, maxUnusedDays: 30 };
    const unknown = { lastUsedDate: null, lastUseKnown: false };
    const keys = [
      key({ user: 'maybe-idle', createDate: daysAgo(60), ...unknown }),
      key({ user: 'too-young', createDate: daysAgo(29), ...unknown }),
      key({ user: 'old', createDate: daysAgo(100), ...unknown }),
      key({ user: 'due', createDate: daysAgo(80), ...unknown }),
      key({ user: 'inactive', createDate: daysAgo(60), status: 'Inactive', ...unknown }),
    ];
    const j = judge(keys, p, now);
    // Stale by age whatever its use; a key younger than max-unused-days cannot have been idle that long.
    expect(j.stale.map((f) => [f.user, f.reasons, f.idleDays])).toEqual([['old', ['age'], null]]);
    expect(j.undetermined.map((k) => k.user)).toEqual(['due', 'maybe-idle']);
    expect(j.dueSoon.map((k) => k.user)).toEqual(['due']);
    // Without max-unused-days, last use decides nothing.
    expect(judge(keys, policy, now).undetermined).toEqual([]);
  });

  it('turns due-soon warnings off with warn-days 0', () => {
    expect(judge([key({ user: 'a', createDate: daysAgo(89) })], { ...policy, warnDays: 0 }, now).dueSoon).toEqual([]);
  });

  it('lists due-soon keys from the edge of the window, soonest first', () => {
    const keys = [
      key({ user: 'w76', createDate: daysAgo(76) }),
      key({ user: 'w75', createDate: daysAgo(75) }),
      key({ user: 'w88', createDate: daysAgo(88) }),
    ];
    expect(judge(keys, policy, now).dueSoon.map((k) => [k.user, k.daysLeft])).toEqual([
      ['w88', 2],
      ['w76', 14],
    ]);
  });

  it('names the users worth a live look: those with a stale key, not a due-soon one', () => {
    const keys = [
      key({ user: 'old', createDate: daysAgo(95) }),
      key({ user: 'soon', createDate: daysAgo(80) }),
      key({ user: 'fresh' }),
    ];
    expect(flaggedUsers(judge(keys, policy, now))).toEqual(new Set(['old']));
  });
});

describe('userMatcher', () => {
  it('matches globs case-insensitively and treats other characters literally', () => {
    const m = userMatcher(['svc-*', 'a.b', 'user+?']);
    expect(['svc-x', 'SVC-', 'a.b', 'user+1'].map(m)).toEqual([true, true, true, true]);
    expect(['xsvc-', 'aXb', 'user+12', 'svc'].map(m)).toEqual([false, false, false, false]);
  });
  it('matches nothing without patterns', () => {
    expect(userMatcher([])('anyone')).toBe(false);
  });
});
