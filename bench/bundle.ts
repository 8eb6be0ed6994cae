/**
 * The bundle as the runner sees it: the size of dist/index.js, and the time from spawning it under
 * Node 24 to its first request (the OIDC token fetch, with role-to-assume set).
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startFakeAws } from '../test/fakes/aws.js';
import { demoAccount } from '../test/fakes/demo-account.js';
import { startFakeGithub } from '../test/fakes/github.js';
import { startFakeOidc } from '../test/fakes/oidc.js';
import { DIST, runActionWith } from '../test/helpers/action-process.js';
import { startProbe } from './probe.js';

export const bundleBytes = (): number => statSync(DIST).size;

/** Node 24 (what GitHub runs actions on): `IAM_STALE_KEYS_NODE24`, else fetched once by npx. */
export function findNode24(): { path: string; version: string } {
  const path =
    process.env.IAM_STALE_KEYS_NODE24 ||
    execFileSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`Expected Node 24, got ${version} at ${path}.`);
  return { path, version };
}

export interface StartupRun {
  /** Spawn to the first request reaching the fake OIDC endpoint. */
  firstRequestMs: number;
  /** Spawn to exit, the whole scan of the demo account included. */
  exitMs: number;
}

/**
 * `runs` full runs of the bundle on the demo account with the default inputs (the tracking issue
 * included, against the fake GitHub), each timed from just before the helper spawns it.
 */
export async function measureStartup(node: string, runs: number): Promise<StartupRun[]> {
  const aws = await startFakeAws({ account: demoAccount() });
  const oidc = await startFakeOidc();
  const github = await startFakeGithub({ private: true });
  const probe = await startProbe(oidc.url);
  try {
    const results: StartupRun[] = [];
    for (let i = 0; i < runs; i++) {
      probe.reset();
      const start = performance.now();
      const run = await runActionWith(node, {
        inputs: { 'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys' },
        env: {
          AWS_ENDPOINT_URL_IAM: aws.url,
          AWS_ENDPOINT_URL_STS: aws.url,
          ACTIONS_ID_TOKEN_REQUEST_URL: probe.url,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
          GITHUB_API_URL: github.url,
          GITHUB_REPOSITORY: `${github.owner}/${github.repo}`,
        },
      });
      const exitMs = performance.now() - start;
      const first = probe.firstRequestAt();
      // The demo account has stale keys: a run that got that far exits 1 with outputs.
      if (first === undefined || run.exitCode !== 1 || !run.outputs['stale-count']) {
        throw new Error(`The start-up run did not scan the demo account (exit ${run.exitCode}):\n${run.stdout}`);
      }
      results.push({ firstRequestMs: first - start, exitMs });
    }
    return results;
  } finally {
    await Promise.all([probe.close(), oidc.close(), aws.close(), github.close()]);
  }
}
