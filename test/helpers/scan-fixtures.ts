/** Scan results built from plain keys, for the tests of the pure renderers. Fixed clock. */
import { judge, type Policy } from '../../src/account/judge.js';
import { applyClaims, type OwnerSettings } from '../../src/account/owners.js';
import type { ScanResult } from '../../src/account/result.js';
import { FULL_COVERAGE, type AccessKey } from '../../src/model.js';

export const now = new Date('2026-11-21T08:00:00Z');
export const daysAgo = (n: number): Date => new Date(now.getTime() - n * 86_400_000);
export const policy: Policy = {
  maxAgeDays: 90,
  maxUnusedDays: 0,
  warnDays: 14,
  includeInactive: false,
  excludeUsers: [],
};

/** An active key `ageDays` old, used two days ago, with an ID made from its age and user. */
export function key(user: string, ageDays: number, over: Partial<AccessKey> = {}): AccessKey {
  return {
    user,
    accessKeyId: `AKIA${String(ageDays).padStart(4, '0')}${user.replace(/\W/g, '').toUpperCase().padEnd(12, 'Q').slice(0, 12)}`,
    status: 'Active',
    createDate: daysAgo(ageDays),
    lastUsedDate: daysAgo(2),
    lastUsedService: 's3',
    lastUsedRegion: 'eu-west-1',
    lastUseKnown: true,
    root: false,
    ...over,
  };
}

export function scanResult(
  keys: AccessKey[],
  options: { policy?: Policy; alias?: string | null; userCount?: number } = {},
): ScanResult {
  const p = options.policy ?? policy;
  return {
    account: {
      id: '111111111111',
      alias: options.alias === undefined ? 'prod' : options.alias,
      partition: 'aws',
      callerArn: 'arn:aws:sts::111111111111:assumed-role/iam-stale-keys/run',
    },
    inventory: {
      method: 'credential-report',
      userCount: options.userCount ?? new Set(keys.map((k) => k.user)).size,
      keys,
      reportGeneratedAt: new Date('2026-11-21T05:00:00Z'),
      confirmedUsers: 2,
      notes: [],
      coverage: FULL_COVERAGE,
    },
    judgement: judge(keys, p, now),
    policy: p,
    now,
  };
}

export const ownerSettings: OwnerSettings = { ownerTag: 'owner', tagPrefix: 'iam-stale-keys:', maxExemptionDays: 90 };

/** `result` with its users' tags read (owners, exemptions) as of `result.now`, as the run reads them. */
export function withTags(result: ScanResult, tags: Readonly<Record<string, Record<string, string>>>): ScanResult {
  const judgement = applyClaims(result.judgement, new Map(Object.entries(tags)), ownerSettings, result.now);
  return { ...result, judgement };
}

/** An exemption's tags. */
export function exemptTags(until: string, reason = 'vendor integration, ticket SEC-12'): Record<string, string> {
  return { 'iam-stale-keys:exempt-until': until, 'iam-stale-keys:exempt-reason': reason };
}
