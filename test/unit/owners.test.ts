/** Owners and exemptions from IAM user tags, at the edges of their dates. Fixed clock. */
import { describe, expect, it } from 'vitest';
import { applyClaims, readClaims, type OwnerSettings } from '../../src/account/owners.js';
import { judge } from '../../src/account/judge.js';
import { key, now, policy } from '../helpers/scan-fixtures.js';

const settings: OwnerSettings = { ownerTag: 'owner', tagPrefix: 'iam-stale-keys:', maxExemptionDays: 90 };
// `now` is 2026-11-21T08:00Z.
const exempt = (until: string, reason = 'vendor integration, ticket SEC-12') => ({
  'iam-stale-keys:exempt-until': until,
  'iam-stale-keys:exempt-reason': reason,
});

describe('readClaims: owners', () => {
  it('reads the owner tag and each handle, without regard to case', () => {
    const claims = readClaims(
      {
        Owner: 'Payments team <pay@example.com>',
        'IAM-Stale-Keys:GitHub': '@octocat',
        'iam-stale-keys:wecom': 'zhangsan',
        'iam-stale-keys:dingtalk': '13800000000',
        'iam-stale-keys:feishu': 'ou_7d8a6e6df7621556ce0d21922b676706',
        'iam-stale-keys:slack': 'U024BE7LH',
      },
      settings,
      now,
    );
    expect(claims.owner).toEqual({
      text: 'Payments team <pay@example.com>',
      handles: {
        github: 'octocat',
        wecom: 'zhangsan',
        dingtalk: '13800000000',
        feishu: 'ou_7d8a6e6df7621556ce0d21922b676706',
        slack: 'U024BE7LH',
      },
    });
    expect(claims.ignored).toEqual([]);
  });

  it('does not use a handle of the wrong shape, and says so', () => {
    const claims = readClaims({ 'iam-stale-keys:github': 'Jane Doe', 'iam-stale-keys:slack': '@jane' }, settings, now);
    expect(claims.owner).toBeNull();
    expect(claims.ignored).toEqual([
      'iam-stale-keys:github "Jane Doe" is not a GitHub login',
      'iam-stale-keys:slack "@jane" is not a Slack member ID (U…)',
    ]);
  });

  it('honours another owner tag and prefix', () => {
    const claims = readClaims(
      { team: 'infra', 'sec/github': 'hubot' },
      { ...settings, ownerTag: 'Team', tagPrefix: 'sec/' },
      now,
    );
    expect(claims.owner).toEqual({ text: 'infra', handles: { github: 'hubot' } });
  });
});

describe('readClaims: exemptions at the edges', () => {
  it.each([
    ['today', '2026-11-21', true],
    ['tomorrow', '2026-11-22', true],
    ['exactly max-exemption-days ahead', '2027-02-19', true],
    ['one day beyond max-exemption-days', '2027-02-20', false],
    ['yesterday', '2026-11-20', false],
  ])('until %s (%s): exempt %s', (_label, until, granted) => {
    const claims = readClaims(exempt(until), settings, now);
    expect(claims.exemption !== null).toBe(granted);
  });

  it('says why each doubtful exemption is refused', () => {
    const refused = (tags: Record<string, string>) => readClaims(tags, settings, now).refused;
    expect(refused(exempt('2026-11-20'))).toBe('the exemption ended on 2026-11-20');
    expect(refused(exempt('2027-02-20'))).toBe(
      'iam-stale-keys:exempt-until 2027-02-20 is 91 days away, more than max-exemption-days (90)',
    );
    expect(refused(exempt('next week'))).toBe('iam-stale-keys:exempt-until "next week" is not a date (YYYY-MM-DD)');
    expect(refused(exempt('2026-02-30'))).toBe('iam-stale-keys:exempt-until "2026-02-30" is not a date (YYYY-MM-DD)');
    expect(refused(exempt('2026-12-01', ''))).toBe(
      'iam-stale-keys:exempt-until is set but iam-stale-keys:exempt-reason is not',
    );
    expect(refused({ 'iam-stale-keys:exempt-reason': 'why' })).toBe(
      'iam-stale-keys:exempt-reason is set but iam-stale-keys:exempt-until is not',
    );
  });
});

describe('applyClaims', () => {
  const keys = [
    key('alice', 200),
    key('bob', 150),
    key('<root_account>', 400, { root: true, accessKeyId: null }),
    key('carol', 10),
  ];

  it("moves an exempted user's stale keys to exempted, never a root key, and keeps owners", () => {
    const tags = new Map<string, Record<string, string>>([
      ['alice', { ...exempt('2026-12-31'), owner: 'Alice' }],
      ['bob', exempt('2026-11-01')],
      ['<root_account>', exempt('2026-12-31')],
    ]);
    const j = applyClaims(judge(keys, policy, now), tags, settings, now);
    expect(j.stale.map((f) => f.user)).toEqual(['<root_account>', 'bob']);
    expect(j.exempted.map((f) => [f.user, f.exemption.until])).toEqual([['alice', '2026-12-31']]);
    expect(j.owners.get('alice')).toEqual({ text: 'Alice', handles: {} });
    expect(j.refusedExemptions.get('bob')).toBe('the exemption ended on 2026-11-01');
  });

  it('without tags (not read, or denied), nothing is exempted', () => {
    const j = applyClaims(judge(keys, policy, now), null, settings, now);
    expect(j.stale).toHaveLength(3);
    expect(j.exempted).toEqual([]);
  });
});
