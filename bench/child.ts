/**
 * Child processes for the measurements. bench/scenario.ts is bundled once by ncc with the flags of
 * `npm run build` (as dist/ is), so each child is plain Node running compiled JavaScript: no
 * TypeScript loader in the process whose time and memory are measured.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Measured, Outcome, Task } from './tasks.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Environment of every child: no profile, instance role or config file of this machine is read. */
const ISOLATED_ENV: Record<string, string> = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface Children {
  /** Runs `task` in a new child process and reads its one-line JSON answer. */
  run<T extends Task>(task: T, env?: Record<string, string>): Promise<Measured<Outcome<T>>>;
  /** Removes the bundle. */
  close(): Promise<void>;
}

/** Bundles the child's code and returns a way to run it under `node`. */
export async function prepareChildren(node: string): Promise<Children> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-stale-keys-bench-child-'));
  const ncc = join(ROOT, 'node_modules', '.bin', 'ncc');
  await promisify(execFile)(
    ncc,
    ['build', join(ROOT, 'bench', 'scenario.ts'), '--out', dir, '--minify', '--target', 'es2022', '--quiet'],
    { cwd: ROOT },
  );
  const entry = join(dir, 'index.js');
  return {
    run: (task, env = {}) => runChild(node, entry, task, env),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function runChild<T extends Task>(
  node: string,
  entry: string,
  task: T,
  env: Record<string, string>,
): Promise<Measured<Outcome<T>>> {
  const child = spawn(node, [entry, JSON.stringify(task)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...ISOLATED_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  const answer = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !answer) {
    throw new Error(`The ${task.kind} child exited with ${code}:\n${stderr.trim() || stdout.trim()}`);
  }
  return JSON.parse(answer) as Measured<Outcome<T>>;
}
