import { describe, expect, it } from 'vitest';
import { fullKeyId } from '../../src/render/present.js';
import type { Gap } from '../../src/model.js';
import { renderOverview, worstFirst, type AccountRun } from '../../src/run/overview.js';
import { byteLength } from '../../src/render/markdown.js';
import { key, now, scanResult } from '../helpers/scan-fixtures.js';

function run(id: string, keys: ReturnType<typeof key>[], over: Partial<AccountRun> = {}): AccountRun {
  const result = scanResult(keys, { alias: `acct-${id.slice(0, 3)}` });
  result.account = { ...result.account, id };
  return { account: { id, name: `org-name-${id.slice(0, 3)}` }, result, error: null, issue: null, ...over };
}

const rootGap: Gap = {
  what: 'Root access keys were not checked',
  fix: 'Grant iam:GetAccountSummary',
  couldHideStale: true,
};
const options = { keyId: fullKeyId, source: 'organization (12 accounts)', excluded: [], now };

describe('worstFirst', () => {
  it('puts unscanned, then incomplete, then the most stale first', () => {
    const incomplete = run('444444444444', [key('a', 10)]);
    incomplete.result!.inventory.coverage = {
      ...incomplete.result!.inventory.coverage,
      gaps: [rootGap],
      rootChecked: false,
    };
    const runs = [
      run('111111111111', [key('a', 10)]),
      run('222222222222', [key('a', 100), key('b', 200)]),
      run('333333333333', [], { result: null, error: 'Could not assume role' }),
      incomplete,
      run('555555555555', [key('a', 100)]),
    ];
    expect(worstFirst(runs).map((r) => r.account.id)).toEqual([
      '333333333333',
      '444444444444',
      '222222222222',
      '555555555555',
      '111111111111',
    ]);
  });
});

describe('renderOverview', () => {
  it('leads with the verdict, a row per account with its issue or error, then stale keys by account', () => {
    const md = renderOverview(
      [
        run('111111111111', [key('alice', 10)]),
        run('222222222222', [key('bob', 200)], {
          issue: { action: 'created', number: 7, url: 'https://github.com/o/r/issues/7' },
        }),
        run('333333333333', [], { result: null, error: 'Could not assume role arn:aws:iam::333333333333:role/x' }),
      ],
      options,
    );
    expect(md).toContain('## Stale AWS access keys: 3 accounts');
    expect(md).toContain('⚠️ **Stale keys may be missing: 1 account could not be scanned.**');
    expect(md).toContain('❌ **1 access key is stale in 1 account.** Scanned 2 accounts: 2 users and 2 keys.');
    expect(md).not.toContain('✅ No stale');
    const rows = md.split('\n').filter((l) => /^\| (❌|⚠️|✅)? ?acct|^\| ❌/.test(l));
    expect(rows).toEqual([
      '| ❌ org-name-333 (333333333333) | — | — | — | — | could not be scanned: Could not assume role arn:aws:iam::333333333333:role/x |',
      '| acct-222 (222222222222) | 1 | 1 | 1 | 0 | [#7](https://github.com/o/r/issues/7) created |',
      '| ✅ acct-111 (111111111111) | 1 | 1 | 0 | 0 | — |',
    ]);
    expect(md).toContain('### acct-222 (222222222222)\n\n1 stale key:');
    expect(md).toContain('| `bob` |');
    expect(md).not.toContain('### acct-111');
  });

  it('gives the all-clear only when every account was scanned completely', () => {
    expect(renderOverview([run('111111111111', [key('a', 1)])], options)).toContain(
      '✅ No stale access keys in any account.',
    );
  });

  it('stays under the budget at 1,000 accounts and says how many accounts it left out', () => {
    const runs = Array.from({ length: 1_000 }, (_, i) =>
      run(
        String(100_000_000_000 + i),
        Array.from({ length: 10 }, (_, k) => key(`user-${k}`, 100 + k)),
      ),
    );
    const md = renderOverview(runs, { ...options, budgetBytes: 200_000 });
    expect(byteLength(md)).toBeLessThanOrEqual(200_000);
    expect(md).toMatch(/_…and [\d,]+ more accounts: the JSON report has them all/);
    expect(md.split('\n').filter((l) => l.startsWith('| acct-')).length).toBe(1_000);
  });
});
