/**
 * Which accounts a run scans: the organisation's (or the listed) accounts, less the excluded, in a
 * stable order, then this job's shard. Pure.
 */

/** `i/n`: this job scans the i-th (1-based) of n slices. */
export interface Shard {
  index: number;
  count: number;
}

export interface MemberAccount {
  id: string;
  /** The organisation's name for the account, when listed from the organisation. */
  name: string | null;
}

export interface Selection {
  /** The accounts this job scans, by ID. */
  accounts: MemberAccount[];
  /** Accounts dropped by `exclude-accounts` (from the whole list, before sharding). */
  excluded: string[];
  /** `exclude-accounts` entries that are in no listed account: likely a typo. */
  unmatchedExclusions: string[];
  /** Accounts before sharding (after exclusion). */
  total: number;
}

/**
 * Drops the excluded accounts, orders the rest by ID and takes the shard. Slices are contiguous and
 * balanced (sizes differ by one at most), so the n jobs of a matrix cover every account exactly once.
 */
export function selectAccounts(
  listed: readonly MemberAccount[],
  options: { exclude: readonly string[]; shard: Shard | null },
): Selection {
  const exclude = new Set(options.exclude);
  const unique = new Map<string, MemberAccount>();
  for (const account of listed) if (!unique.has(account.id)) unique.set(account.id, account);
  const kept = [...unique.values()].filter((a) => !exclude.has(a.id)).sort((a, b) => a.id.localeCompare(b.id, 'en'));
  const excluded = [...unique.keys()].filter((id) => exclude.has(id)).sort();
  const unmatchedExclusions = options.exclude.filter((id) => !unique.has(id));
  return { accounts: shardOf(kept, options.shard), excluded, unmatchedExclusions, total: kept.length };
}

export function shardOf<T>(items: readonly T[], shard: Shard | null): T[] {
  if (!shard) return [...items];
  const start = Math.floor(((shard.index - 1) * items.length) / shard.count);
  const end = Math.floor((shard.index * items.length) / shard.count);
  return items.slice(start, end);
}
