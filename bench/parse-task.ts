/** Parsing a large credential report once in a fresh process, as the action does: cold, timed. */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseCredentialReport } from '../src/account/credential-report.js';
import { peakRssBytes, type ParseOutcome } from './tasks.js';

export async function parseReport(csvPath: string): Promise<ParseOutcome> {
  const csv = await readFile(csvPath, 'utf8');
  const rssBeforeBytes = peakRssBytes();
  const start = performance.now();
  const { userCount, keys } = parseCredentialReport(csv);
  return { ms: performance.now() - start, userCount, keyCount: keys.length, rssBeforeBytes };
}
