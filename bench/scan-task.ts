/**
 * One scan in a child process: the action's inventory (`takeInventory` over the real SDK client of
 * src/aws/iam.ts) or the baseline, then the same judgement. The fake's address and the credentials
 * come from the environment (`AWS_ENDPOINT_URL_IAM`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
 */
import { performance } from 'node:perf_hooks';
import { createIam } from '../src/aws/iam.js';
import { flaggedUsers, judge, type Policy } from '../src/account/judge.js';
import { takeInventory } from '../src/account/inventory.js';
import type { AccessKey } from '../src/model.js';
import { sleep } from '../src/retry.js';
import { naiveScan } from './baseline.js';
import type { ScanMethod, ScanOutcome } from './tasks.js';

async function inventory(method: ScanMethod, policy: Policy, now: Date) {
  if (method === 'baseline') return naiveScan();
  return takeInventory(method, {
    iam: createIam('aws', undefined),
    sleep,
    usersToConfirm: (keys) => flaggedUsers(judge(keys, policy, now)),
    lastUseMatters: false,
    info: () => {},
    warning: (message) => console.error(message),
  });
}

function duplicates(keys: readonly AccessKey[]): number {
  const ids = keys.flatMap((k) => (k.accessKeyId ? [k.accessKeyId] : []));
  return ids.length - new Set(ids).size;
}

export async function scan(method: ScanMethod, policy: Policy, now: Date): Promise<ScanOutcome> {
  const start = performance.now();
  const { userCount, keys } = await inventory(method, policy, now);
  const { stale } = judge(keys, policy, now);
  const wallMs = performance.now() - start;
  return {
    wallMs,
    userCount,
    keyCount: keys.length,
    staleKeyIds: stale.flatMap((k) => (k.accessKeyId ? [k.accessKeyId] : [])).sort(),
    staleWithoutId: stale.filter((k) => !k.accessKeyId).length,
    duplicateKeyIds: duplicates(keys),
  };
}
