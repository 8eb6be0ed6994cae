import { describe, expect, it } from 'vitest';
import type { Gap } from '../../src/model.js';
import type { AccountRun } from '../../src/run/overview.js';
import { accountNews, shouldNotify, shouldNotifyDigest, type DigestRun } from '../../src/notifications/notify.js';
import { key, scanResult } from '../helpers/scan-fixtures.js';

describe('shouldNotify: one account', () => {
  it.each([
    ['stale', 3, false, null, true],
    ['stale', 0, false, true, false],
    ['stale', 0, true, null, true],
    ['stale', 0, true, false, true],
    ['always', 0, false, false, true],
    ['changed', 3, false, false, false],
    ['changed', 0, false, true, true],
    ['changed', 3, false, null, true],
    ['changed', 0, false, null, false],
    ['changed', 0, true, null, true],
    ['changed', 0, true, false, false],
  ] as const)(
    'notify-when %s with %i stale keys, incomplete %s, changed %s → %s',
    (when, stale, incomplete, changed, expected) => {
      expect(shouldNotify(when, { stale, incomplete, changed })).toBe(expected);
    },
  );
});

const rootGap: Gap = {
  what: 'Root access keys were not checked',
  fix: 'Grant iam:GetAccountSummary',
  couldHideStale: true,
};
const note: Gap = { what: 'Inactive keys were not listed', fix: 'Nothing to do', couldHideStale: false };

/** An account of a run: `stale` stale keys, a gap, a failure, and what its tracking issue said. */
function account(
  id: string,
  over: { stale?: number; gap?: Gap; failed?: boolean; changed?: boolean | null } = {},
): DigestRun {
  if (over.failed) return { account: { id, name: null }, result: null, error: 'Could not assume role', issue: null };
  const keys = [key('fresh', 10), ...Array.from({ length: over.stale ?? 0 }, (_, i) => key(`old-${i}`, 100 + i))];
  const result = scanResult(keys);
  result.account = { ...result.account, id };
  if (over.gap) result.inventory.coverage = { ...result.inventory.coverage, gaps: [over.gap] };
  const issue =
    over.changed === undefined
      ? null
      : { action: 'updated', number: 1, url: 'https://github.com/o/r/issues/1', changed: over.changed };
  return { account: { id, name: null }, result, error: null, issue };
}

const clean = account('111111111111', { changed: false });

describe('accountNews', () => {
  it('reads the stale keys, a gap that could hide one, and the issue', () => {
    expect(accountNews(account('1', { stale: 2, changed: true }))).toEqual({
      stale: 2,
      incomplete: false,
      changed: true,
    });
    expect(accountNews(account('1', { gap: rootGap }))).toEqual({ stale: 0, incomplete: true, changed: null });
    expect(accountNews(account('1', { gap: note }))).toEqual({ stale: 0, incomplete: false, changed: null });
  });

  it('counts an account that could not be scanned as incomplete, its change unknown', () => {
    expect(accountNews(account('1', { failed: true }))).toEqual({ stale: 0, incomplete: true, changed: null });
  });
});

describe('shouldNotifyDigest: many accounts', () => {
  const stale = account('222222222222', { stale: 3, changed: false });
  const staleChanged = account('222222222222', { stale: 3, changed: true });
  const staleNoIssue = account('222222222222', { stale: 3 });
  const incomplete = account('333333333333', { gap: rootGap, changed: false });
  const incompleteNoIssue = account('333333333333', { gap: rootGap });
  const failed = account('444444444444', { failed: true });
  const resolved = account('555555555555', { changed: true });

  it.each([
    ['stale', 'all clean', [clean], false],
    ['stale', 'no account at all', [], false],
    ['stale', 'one account with stale keys', [clean, stale], true],
    ['stale', 'an incomplete scan', [clean, incomplete], true],
    ['stale', 'an account that could not be scanned', [clean, failed], true],
    ['stale', 'a change that resolved the keys, all clean now', [clean, resolved], false],
    ['changed', 'stale keys, unchanged', [clean, stale], false],
    ['changed', 'stale keys, changed', [clean, staleChanged], true],
    ['changed', 'keys resolved: changed, clean now', [clean, resolved], true],
    ['changed', 'stale keys and no issue: as stale', [clean, staleNoIssue], true],
    ['changed', 'an incomplete scan, unchanged', [clean, incomplete], false],
    ['changed', 'an incomplete scan and no issue: as stale', [clean, incompleteNoIssue], true],
    ['changed', 'an account that could not be scanned: unknown, as stale', [clean, failed], true],
    ['changed', 'all clean and unchanged', [clean], false],
    ['always', 'all clean', [clean], true],
    ['always', 'no account at all', [], true],
  ] as const)('notify-when %s, %s → %s', (when, _what, runs, expected) => {
    expect(shouldNotifyDigest(when, runs)).toBe(expected);
  });

  it("takes the run's AccountRun as it is; without `changed` each account's change is unknown", () => {
    const run: AccountRun = {
      account: { id: '222222222222', name: 'prod' },
      result: stale.result,
      error: null,
      issue: { action: 'unchanged', number: 3, url: 'https://github.com/o/r/issues/3' },
    };
    expect(shouldNotifyDigest('changed', [run])).toBe(true);
    expect(shouldNotifyDigest('changed', [{ ...run, issue: { ...run.issue!, changed: false } }])).toBe(false);
  });
});
