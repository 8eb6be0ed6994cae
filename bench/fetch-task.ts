/**
 * Fetching a large credential report in a child process through the SDK client of
 * src/aws/iam.ts, as the action does before parsing it: the `GetCredentialReport` call, timed.
 */
import { performance } from 'node:perf_hooks';
import { createIam } from '../src/aws/iam.js';
import { peakRssBytes, type FetchOutcome } from './tasks.js';

export async function fetchReport(): Promise<FetchOutcome> {
  const iam = createIam('aws', undefined);
  while ((await iam.generateCredentialReport()) !== 'COMPLETE');
  const rssBeforeBytes = peakRssBytes();
  const start = performance.now();
  const { csv } = await iam.getCredentialReport();
  return { ms: performance.now() - start, csvBytes: Buffer.byteLength(csv), rssBeforeBytes };
}
