/**
 * The tracking issue's hidden marker: which account the issue is for, and what it lists, so that
 * the next run can tell what changed. Pure.
 *
 * ```
 * <!-- iam-stale-keys:tracking {"v":1,"account":"111111111111","digest":"…","count":3,
 *   "keys":{"3f1a…":"AKIA… (alice)",…},"exempt":{"2026-12-31":"Px8aQ2Zr"},
 *   "since":{"2026-10-02":"Px8aQ2ZrcAbq3_0n","2026-11-21":"k9Lr-T2x"}} -->
 * ```
 *
 * Every key is named by a token (`keyToken`: 48 bits of a hash of the account and the key ID).
 * `keys` maps tokens to the key as the body showed it, to name a resolved key: the longest part, and
 * the first cut for size (`partial`). `exempt` and `since` group keys by a day, each key written as
 * its token's 48 bits in 8 base64url characters: `exempt` holds the keys exempted, by the last day
 * of their exemption; `since` every listed key, by the UTC day the issue first listed it. A key costs
 * about 60 characters in `keys` and 8 in `since`, so `since` holds the dates of about 3,000 keys.
 * Fields a version of the action does not know are ignored by it, so the version stays 1.
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../model.js';

const MARKER_PREFIX = '<!-- iam-stale-keys:tracking ';

/** What the hidden marker carries: the account, and the keys the body lists as it showed them. */
export interface Marker {
  v: 1;
  account: string;
  /** Digest of every listed key's token and whether it is exempted: equal digests, equal lists. */
  digest: string;
  /** Every key listed: stale, exempted, and not checked. */
  count: number;
  /** Token → `KEY (user)` as the body showed it, for naming resolved keys. Cut when too long (`partial`). */
  keys: Record<string, string>;
  /** Something was cut for size: `keys`, or the dates of the newest keys. */
  partial?: boolean;
  /** Exempted keys, by the last day (`YYYY-MM-DD`) of their exemption: 8 characters a key (`shortToken`). */
  exempt?: Record<string, string>;
  /** Every listed key, by the UTC day the issue first listed it: 8 characters a key (`shortToken`). */
  since?: Record<string, string>;
}

/**
 * A short, stable, non-reversible token for a key: equal across runs, useless to anyone who reads
 * it in a public repository. 12 hex digits (48 bits).
 */
export function keyToken(
  accountId: string,
  key: Pick<Finding, 'accessKeyId' | 'root' | 'user' | 'createDate'>,
): string {
  const id = key.accessKeyId ?? `${key.root ? 'root' : key.user}@${key.createDate?.toISOString() ?? 'unknown'}`;
  return createHash('sha256').update(`${accountId}:${id}`).digest('hex').slice(0, 12);
}

/** A digest of a listing: its tokens, each exempted one marked, in any order. */
export function digestOf(tokens: readonly string[], exempted: readonly string[] = []): string {
  return createHash('sha256')
    .update([...tokens, ...exempted.map((t) => `x${t}`)].sort().join(','))
    .digest('hex')
    .slice(0, 16);
}

/** `-->` cannot occur in JSON of IAM names and key IDs, but escape `>` anyway so the comment always ends where we say. */
export function renderMarker(marker: Marker): string {
  return `${MARKER_PREFIX}${JSON.stringify(marker).replace(/>/g, '\\u003e')} -->`;
}

export function parseMarker(body: string | null | undefined): Marker | null {
  if (!body) return null;
  const start = body.indexOf(MARKER_PREFIX);
  if (start < 0) return null;
  const end = body.indexOf(' -->', start);
  if (end < 0) return null;
  try {
    const marker = JSON.parse(body.slice(start + MARKER_PREFIX.length, end)) as Marker;
    return marker.v === 1 &&
      typeof marker.account === 'string' &&
      typeof marker.digest === 'string' &&
      typeof marker.keys === 'object' &&
      marker.keys !== null
      ? marker
      : null;
  } catch {
    return null;
  }
}

// ----- keys grouped by a day --------------------------------------------------------------------

const SHORT_LENGTH = 8;

/** A token's 48 bits in 8 base64url characters (the 12 hex digits take 12). */
export function shortToken(token: string): string {
  return Buffer.from(token, 'hex').toString('base64url');
}

function longToken(short: string): string {
  return Buffer.from(short, 'base64url').toString('hex');
}

/** Whether `value` is a real day written `YYYY-MM-DD`. */
export function isDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) === value;
}

/**
 * Token → day, from a marker's groups. Anything that does not read so (a person's edit, a version
 * that wrote something else) is left out; a token under two days is taken at the later one.
 */
export function readGroups(groups: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) return out;
  for (const [day, tokens] of Object.entries(groups as Record<string, unknown>)) {
    if (!isDay(day) || typeof tokens !== 'string' || tokens.length % SHORT_LENGTH !== 0) continue;
    if (!/^[A-Za-z0-9_-]*$/.test(tokens)) continue;
    for (let i = 0; i < tokens.length; i += SHORT_LENGTH) {
      const token = longToken(tokens.slice(i, i + SHORT_LENGTH));
      const known = out.get(token);
      if (known === undefined || known < day) out.set(token, day);
    }
  }
  return out;
}

/**
 * Tokens grouped by day, earliest day first, as many as fit in `budget` characters of JSON; the
 * rest (the latest days' keys) are left out and counted in `cut`.
 */
export function writeGroups(
  entries: Iterable<readonly [token: string, day: string]>,
  budget: number,
): { groups: Record<string, string>; used: number; cut: number } {
  const sorted = [...entries].sort(([ta, da], [tb, db]) => (da < db ? -1 : da > db ? 1 : ta < tb ? -1 : 1));
  const groups: Record<string, string> = {};
  // `"field":{}` and a comma.
  let used = 12;
  let kept = 0;
  for (const [token, day] of sorted) {
    // A new group: `"YYYY-MM-DD":"",`.
    const cost = SHORT_LENGTH + (day in groups ? 0 : day.length + 6);
    if (used + cost > budget) break;
    groups[day] = (groups[day] ?? '') + shortToken(token);
    used += cost;
    kept++;
  }
  return { groups, used, cut: sorted.length - kept };
}
