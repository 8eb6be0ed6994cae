/**
 * One scan, measured: a fresh fake IAM (in this, the parent, process) serving the seeded account,
 * the scan in a child process, then the fake's request counts and a check of what was found.
 */
import type { Policy } from '../src/account/judge.js';
import { startFakeAws } from '../test/fakes/aws.js';
import type { BenchAccount, Truth } from './account.js';
import type { Children } from './child.js';
import type { Throttle } from './options.js';
import type { ScanMethod, ScanOutcome } from './tasks.js';

/** IAM's largest page (MaxItems) for ListUsers and ListAccessKeys. */
const IAM_MAX_PAGE = 1000;

/**
 * A child's environment for the fake at `url`: its IAM endpoint, and static credentials for the
 * SDK's default chain (the fake reads signatures but never verifies them).
 */
export const fakeIamEnv = (url: string): Record<string, string> => ({
  AWS_ENDPOINT_URL_IAM: url,
  AWS_ACCESS_KEY_ID: 'AKIAFAKEBENCHMARK001',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-for-the-benchmark',
});

export interface Conditions {
  latencyMs: number;
  throttle: Throttle | undefined;
  policy: Policy;
  now: Date;
}

export interface ScanRow {
  method: ScanMethod;
  truth: Truth;
  wallMs: number;
  /** IAM requests the fake received, throttled ones included. */
  requests: number;
  throttled: number;
  /** Distinct users whose keys were listed successfully. */
  usersListed: number;
  peakRssBytes: number;
  /** How the result differs from the seeded truth; empty when it is exactly right. */
  problems: string[];
}

export async function measureScan(
  children: Children,
  method: ScanMethod,
  { account, truth }: BenchAccount,
  c: Conditions,
): Promise<ScanRow> {
  const aws = await startFakeAws({ account, latencyMs: c.latencyMs, throttle: c.throttle, pageSize: IAM_MAX_PAGE });
  try {
    const outcome = await children.run(
      { kind: 'scan', method, now: c.now.toISOString(), policy: c.policy },
      fakeIamEnv(aws.url),
    );
    const iam = aws.requests.filter((r) => r.service === 'iam');
    const listed = iam.filter((r) => r.action === 'ListAccessKeys' && r.status === 200).map((r) => r.params.UserName);
    return {
      method,
      truth,
      wallMs: outcome.wallMs,
      requests: iam.length,
      throttled: aws.throttled,
      usersListed: new Set(listed).size,
      peakRssBytes: outcome.peakRssBytes,
      problems: differences(outcome, truth),
    };
  } finally {
    await aws.close();
  }
}

/** Nothing lost, nothing extra, nothing counted twice. */
function differences(found: ScanOutcome, truth: Truth): string[] {
  const seeded = new Set(truth.staleKeyIds);
  const stale = new Set(found.staleKeyIds);
  const missed = truth.staleKeyIds.filter((id) => !stale.has(id)).length;
  const extra = found.staleKeyIds.filter((id) => !seeded.has(id)).length;
  const checks: Array<[boolean, string]> = [
    [missed > 0, `${missed} stale keys missed`],
    [extra > 0, `${extra} keys wrongly stale`],
    [found.staleWithoutId > 0, `${found.staleWithoutId} stale keys without an ID`],
    [found.duplicateKeyIds > 0, `${found.duplicateKeyIds} keys counted twice`],
    [found.userCount !== truth.users, `${found.userCount} of ${truth.users} users`],
    [found.keyCount !== truth.keys, `${found.keyCount} of ${truth.keys} keys`],
  ];
  return checks.filter(([failed]) => failed).map(([, message]) => message);
}
