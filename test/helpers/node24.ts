/**
 * Global setup for the end-to-end tests: find a Node 24 binary (GitHub runs actions on Node 24),
 * fetched from the npm registry once by npx, and hand its path to the tests.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    node24: string;
  }
}

export default function setup(project: TestProject): void {
  const fromEnv = process.env.IAM_STALE_KEYS_NODE24;
  const path =
    fromEnv ||
    execFileSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 110_000,
    }).trim();
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.'))
    throw new Error(`Expected Node 24 for the end-to-end tests, got ${version} at ${path}`);
  project.provide('node24', path);
}
