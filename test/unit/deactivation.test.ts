/** Which stale keys are deactivated after notice: the notice, the cap, oldest first, root and inactive left alone. */
import { describe, expect, it } from 'vitest';
import { addDays, planDeactivations, type DeactivationSettings } from '../../src/account/deactivation.js';
import { judge } from '../../src/account/judge.js';
import type { Finding } from '../../src/model.js';
import { key, now, policy } from '../helpers/scan-fixtures.js';

// `now` is 2026-11-21T08:00Z.
const settings: DeactivationSettings = { afterDays: 7, dryRun: false, max: 10 };
const stale = (keys = [key('alice', 200), key('bob', 150), key('carol', 120)]) => judge(keys, policy, now).stale;
const listedOn = (days: Record<string, string>) => (f: Finding) => days[f.user] ?? null;

describe('planDeactivations', () => {
  it('deactivates a key listed at least afterDays ago, and schedules the rest', () => {
    const plan = planDeactivations(
      stale(),
      listedOn({ alice: '2026-11-14', bob: '2026-11-15', carol: '2026-11-21' }),
      settings,
      now,
    );
    expect(plan.due.map((d) => [d.finding.user, d.firstListed])).toEqual([['alice', '2026-11-14']]);
    expect([...plan.scheduled.entries()]).toEqual([
      [stale()[1]!.accessKeyId, '2026-11-22'],
      [stale()[2]!.accessKeyId, '2026-11-28'],
    ]);
  });

  it('never a key the issue did not list, so a key whose date was lost is not deactivated', () => {
    const plan = planDeactivations(stale(), listedOn({}), settings, now);
    expect(plan.due).toEqual([]);
    expect(plan.scheduled.size).toBe(0);
  });

  it('never a root key, an inactive key, or a key without an ID', () => {
    const keys = [
      key('<root_account>', 400, { root: true, accessKeyId: null }),
      key('dave', 300, { status: 'Inactive' }),
      key('erin', 300, { accessKeyId: null }),
    ];
    const all = { '<root_account>': '2026-01-01', dave: '2026-01-01', erin: '2026-01-01' };
    const plan = planDeactivations(stale(keys), listedOn(all), { ...settings }, now);
    expect(plan.due).toEqual([]);
  });

  it('at most max per run, oldest first; the rest deferred', () => {
    const keys = [key('young', 100), key('oldest', 500), key('middle', 300)];
    const all = { young: '2026-01-01', oldest: '2026-01-01', middle: '2026-01-01' };
    const plan = planDeactivations(stale(keys), listedOn(all), { ...settings, max: 2 }, now);
    expect(plan.due.map((d) => d.finding.user)).toEqual(['oldest', 'middle']);
    expect(plan.deferred).toBe(1);
  });

  it('is off at afterDays 0', () => {
    const plan = planDeactivations(stale(), listedOn({ alice: '2020-01-01' }), { ...settings, afterDays: 0 }, now);
    expect(plan).toEqual({ due: [], deferred: 0, scheduled: new Map() });
  });

  it('counts days in UTC', () => {
    expect(addDays('2026-11-14', 7)).toBe('2026-11-21');
    expect(addDays('2026-02-27', 2)).toBe('2026-03-01');
  });
});
