import { describe, expect, it } from 'vitest';
import { isIncomplete, sawUser, scanGaps } from '../../src/account/coverage.js';
import { decideOutcome } from '../../src/account/outcome.js';
import { fullKeyId } from '../../src/render/present.js';
import { renderSummary } from '../../src/account/summary.js';
import type { Coverage, Gap } from '../../src/model.js';
import { key, policy, scanResult } from '../helpers/scan-fixtures.js';

const rootGap: Gap = {
  what: 'Root access keys were not checked (iam:GetAccountSummary was denied)',
  fix: 'Grant iam:GetAccountSummary',
  couldHideStale: true,
};
const note: Gap = {
  what: 'The last use of keys of 1 user (a) could not be read (iam:GetAccessKeyLastUsed was denied)',
  fix: 'Grant iam:GetAccessKeyLastUsed',
  couldHideStale: false,
};

function withCoverage(coverage: Partial<Coverage>, keys = [key('alice', 10)], p = policy) {
  const result = scanResult(keys, { policy: p });
  result.inventory.coverage = { ...result.inventory.coverage, ...coverage };
  return result;
}

describe('coverage', () => {
  it('is complete when nothing could hide a stale key, whatever the notes', () => {
    expect(isIncomplete(withCoverage({ gaps: [note] }))).toBe(false);
    expect(isIncomplete(withCoverage({ gaps: [rootGap], rootChecked: false }))).toBe(true);
  });

  it('adds a gap for keys whose unused verdict could not be made', () => {
    const keys = [key('a', 60, { lastUsedDate: null, lastUseKnown: false })];
    const result = withCoverage({}, keys, { ...policy, maxUnusedDays: 30 });
    expect(scanGaps(result)).toEqual([
      {
        what: 'The last use of 1 active key is unknown, so max-unused-days (30) could not be checked for it',
        fix: 'Grant iam:GetAccessKeyLastUsed',
        couldHideStale: true,
      },
    ]);
    expect(sawUser(result, 'a', false)).toBe(false);
    expect(sawUser(result, 'b', false)).toBe(true);
  });

  it('tells which users and root keys were seen', () => {
    const some = withCoverage({ unseenUsers: new Set(['bob']), rootChecked: false });
    expect([sawUser(some, 'alice', false), sawUser(some, 'bob', false), sawUser(some, '<root_account>', true)]).toEqual(
      [true, false, false],
    );
    expect(sawUser(withCoverage({ unseenUsers: 'all' }), 'alice', false)).toBe(false);
  });
});

describe('decideOutcome', () => {
  const fail = { failOnStale: true, failOnIncomplete: true };

  it('passes a complete scan without stale keys', () => {
    expect(decideOutcome(withCoverage({ gaps: [note] }), fail)).toEqual({ failure: null, warnings: [] });
  });

  it('fails an incomplete scan with one message naming what and the fix', () => {
    const outcome = decideOutcome(withCoverage({ gaps: [rootGap], rootChecked: false }), fail);
    expect(outcome.failure).toBe(
      'The scan of account prod (111111111111) is incomplete, so stale keys may be missing: Root access keys were not checked (iam:GetAccountSummary was denied) (fix: grant iam:GetAccountSummary)',
    );
  });

  it('says both the stale keys and the gaps in one message', () => {
    const outcome = decideOutcome(withCoverage({ gaps: [rootGap] }, [key('alice', 1_666)]), fail);
    expect(outcome.failure).toMatch(
      /^1 access key in account prod \(111111111111\) is older than 90 days\. The scan of account .* is incomplete/,
    );
  });

  it('turns each failure into a warning that names its input', () => {
    const result = withCoverage({ gaps: [rootGap] }, [key('alice', 100)]);
    const outcome = decideOutcome(result, { failOnStale: true, failOnIncomplete: false });
    expect(outcome.failure).toBe('1 access key in account prod (111111111111) is older than 90 days');
    expect(outcome.warnings).toEqual([expect.stringMatching(/is incomplete.*\(fail-on-incomplete is false\)\.$/)]);
    expect(decideOutcome(result, { failOnStale: false, failOnIncomplete: false }).failure).toBeNull();
  });
});

describe('the summary of an incomplete scan', () => {
  it('leads with ⚠️, never says ✅, and lists each gap with its fix', () => {
    const md = renderSummary(withCoverage({ gaps: [rootGap, note], rootChecked: false }), { keyId: fullKeyId });
    expect(md).not.toContain('✅');
    const lines = md.split('\n');
    expect(lines[2]).toBe(
      '⚠️ **The scan is incomplete: stale keys may be missing.** 1 thing could not be checked (below, with the fix).',
    );
    expect(md).toContain('No stale access keys among those checked.');
    expect(md).toContain(
      '### Not checked\n\n- Root access keys were not checked (iam:GetAccountSummary was denied). **Fix:** Grant iam:GetAccountSummary.',
    );
    // A gap that hides nothing is a note in the method section, not a reason for ⚠️.
    const method = md.slice(md.indexOf('<details><summary>How this scan was made'));
    expect(method).toContain('- The last use of keys of 1 user (a) could not be read');
  });
});
