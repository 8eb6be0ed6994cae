/**
 * Runs the committed bundle `dist/index.js` the way the runner does: inputs as `INPUT_*`
 * variables, outputs and summary through files. Returns what a workflow would see. Free of vitest,
 * so the demo and the benchmarks use it too; tests call `runAction` from `./run-action.js`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const DIST = resolve(import.meta.dirname, '../../dist/index.js');

/** The job token the runner would pass for `${{ github.token }}`. A secret: tests assert it never leaks. */
export const JOB_TOKEN = 'ghs_e2eJobToken0000000000000000000000';

/** The runner sets every input, with action.yml's default where the workflow gives none. */
function defaultInputs(): Record<string, string> {
  const action = parse(readFileSync(resolve(import.meta.dirname, '../../action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [
      name,
      (spec.default ?? '').replace('${{ github.token }}', JOB_TOKEN),
    ]),
  );
}

export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  runnerTemp: string;
  /** The `::error::` lines, without the prefix. */
  errors: string[];
  warnings: string[];
}

export interface RunOptions {
  inputs?: Record<string, string>;
  /** Extra environment: endpoints of the fakes, OIDC variables, … */
  env?: Record<string, string | undefined>;
  /** The event payload's repository (for `redact-key-ids: auto`). */
  repository?: { private: boolean; full_name?: string };
  timeoutMs?: number;
  /** Called with the child's process ID once it runs (the benchmark samples its memory). */
  onSpawn?: (pid: number) => void;
}

/** The log as a person sees it: `::add-mask::` lines are consumed by the runner and never shown. */
export function visibleLog(run: Pick<ActionRun, 'stdout'>): string {
  return run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

/** Parses `GITHUB_OUTPUT` (`name<<DELIMITER\nvalue\nDELIMITER`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const [, name, delimiter] = m;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      outputs[name!] = value.join('\n');
    } else if (lines[i]!.includes('=')) {
      const at = lines[i]!.indexOf('=');
      outputs[lines[i]!.slice(0, at)] = lines[i]!.slice(at + 1);
    }
  }
  return outputs;
}

export async function runActionWith(node: string, options: RunOptions = {}): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-stale-keys-run-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary.md');
  const eventFile = join(dir, 'event.json');
  const runnerTemp = join(dir, 'runner-temp');
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const repository = options.repository ?? { private: true, full_name: 'octo-org/security' };
  await writeFile(
    eventFile,
    JSON.stringify({ repository: { ...repository, visibility: repository.private ? 'private' : 'public' } }),
  );

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_REPOSITORY: repository.full_name ?? 'octo-org/security',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'iam-stale-keys',
    RUNNER_TEMP: runnerTemp,
    // Never look for an EC2 instance role, nor read a profile from this machine.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
  };
  for (const [name, value] of Object.entries({ ...defaultInputs(), ...options.inputs })) {
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }

  const child = spawn(node, [DIST], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  const exitCode = await new Promise<number | null>((done) => child.on('close', done));
  clearTimeout(timer);

  const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
  const summary = await readFile(summaryFile, 'utf8');
  await rm(join(dir, 'output'));
  const pick = (kind: string) =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith(`::${kind}`))
      .map((l) =>
        l
          .replace(/^::\w+[^:]*::/, '')
          .replace(/%0A/g, '\n')
          .replace(/%25/g, '%'),
      );
  return { exitCode, stdout, stderr, outputs, summary, runnerTemp, errors: pick('error'), warnings: pick('warning') };
}

/** The environment that points the action at the loopback fakes, as a runner would point it at AWS and GitHub. */
export function fakeEndpoints(fakes: {
  aws: { url: string };
  oidc: { url: string; requestToken: string };
  github?: { url: string; owner: string; repo: string };
}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_IAM: fakes.aws.url,
    AWS_ENDPOINT_URL_STS: fakes.aws.url,
    ACTIONS_ID_TOKEN_REQUEST_URL: fakes.oidc.url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: fakes.oidc.requestToken,
    ...(fakes.github
      ? { GITHUB_API_URL: fakes.github.url, GITHUB_REPOSITORY: `${fakes.github.owner}/${fakes.github.repo}` }
      : {}),
  };
}
