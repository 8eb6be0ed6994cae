/**
 * A large account's credential report: parsed (the target), and fetched through the SDK as the
 * action does first. Each run is a fresh child process, as the action handles one report per run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialReportCsv, seedAccount, startFakeAws } from '../test/fakes/aws.js';
import type { Children } from './child.js';
import type { LargeReport } from './results.js';
import { fakeIamEnv } from './scans.js';

export async function measureLargeReport(
  children: Children,
  opts: { users: number; seed: number; now: Date; runs: number },
): Promise<LargeReport> {
  const { account } = seedAccount({ users: opts.users, now: opts.now, seed: opts.seed });
  const csv = credentialReportCsv(account);
  const repeat = async <T>(run: () => Promise<T>): Promise<T[]> => {
    const results: T[] = [];
    for (let i = 0; i < opts.runs; i++) results.push(await run());
    return results;
  };

  // The CSV is written by this process, so a parsing child's memory holds only the CSV and the parse.
  const dir = await mkdtemp(join(tmpdir(), 'iam-stale-keys-bench-'));
  const csvPath = join(dir, 'credential-report.csv');
  await writeFile(csvPath, csv);
  const parse = await repeat(() => children.run({ kind: 'parse', csvPath })).finally(() =>
    rm(dir, { recursive: true, force: true }),
  );

  // A ready report (no poll) and no latency: the cost of the call itself.
  const aws = await startFakeAws({ account, report: { inProgressPolls: 0 } });
  const fetch = await repeat(() => children.run({ kind: 'fetch-report' }, fakeIamEnv(aws.url))).finally(() =>
    aws.close(),
  );

  const { userCount, keyCount } = parse[0]!;
  return { userCount, keyCount, csvBytes: Buffer.byteLength(csv), parse, fetch };
}
