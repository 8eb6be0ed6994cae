import { describe, expect, it } from 'vitest';
import { selectAccounts, shardOf, type MemberAccount } from '../../src/run/accounts.js';

const ids = (n: number): MemberAccount[] =>
  Array.from({ length: n }, (_, i) => ({ id: String(100_000_000_000 + ((i * 7919) % n)), name: `acct-${i}` }));

describe('selectAccounts', () => {
  it('orders by ID, drops the excluded and says which exclusions matched nothing', () => {
    const s = selectAccounts(
      [
        { id: '333333333333', name: 'c' },
        { id: '111111111111', name: 'a' },
        { id: '222222222222', name: 'b' },
        { id: '111111111111', name: 'a' },
      ],
      { exclude: ['222222222222', '999999999999'], shard: null },
    );
    expect(s.accounts.map((a) => a.id)).toEqual(['111111111111', '333333333333']);
    expect(s).toMatchObject({ excluded: ['222222222222'], unmatchedExclusions: ['999999999999'], total: 2 });
  });

  it('splits into n balanced slices that cover every account exactly once, whatever the input order', () => {
    for (const [n, count] of [
      [12, 3],
      [1_000, 7],
      [5, 8],
      [0, 2],
    ] as const) {
      const all = ids(n);
      const slices = Array.from(
        { length: count },
        (_, i) => selectAccounts(all, { exclude: [], shard: { index: i + 1, count } }).accounts,
      );
      const seen = slices.flat().map((a) => a.id);
      expect(seen).toHaveLength(n);
      expect(new Set(seen).size).toBe(n);
      const sizes = slices.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // The same slice from the list in another order.
      const reversed = selectAccounts([...all].reverse(), { exclude: [], shard: { index: 1, count } }).accounts;
      expect(reversed).toEqual(slices[0]);
    }
  });

  it('takes contiguous slices', () => {
    expect(shardOf([1, 2, 3, 4, 5, 6, 7], { index: 2, count: 3 })).toEqual([3, 4]);
    expect(shardOf([1, 2, 3], null)).toEqual([1, 2, 3]);
  });
});
