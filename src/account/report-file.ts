/** The JSON report file, written where the runner keeps per-job temporary files. */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonReport } from './report.js';

export async function writeReport(report: JsonReport, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = env.RUNNER_TEMP || tmpdir();
  await mkdir(dir, { recursive: true });
  const path = join(dir, `iam-stale-keys-${report.account.id}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`, 'utf8');
  return path;
}
