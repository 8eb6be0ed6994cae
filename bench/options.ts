/** The flags of `npm run bench` and their defaults. */
import type { OrganizationBenchOptions } from './organization.js';
import { TAG_SCENARIOS, type TagScenario } from './user-tags.js';
import { parseArgs } from 'node:util';
import type { Policy } from '../src/account/judge.js';

export interface Throttle {
  /** Requests a second. */
  rate: number;
  burst: number;
}

export interface BenchOptions {
  /** Account sizes (users) for the scan table. */
  sizes: number[];
  /** Round trip added by the fake to every IAM request. */
  latencyMs: number;
  /** Throttle for the scan table; `undefined` = none. */
  throttle: Throttle | undefined;
  /** The API method under a throttle; `undefined` = skipped (`--throttle-users 0`). */
  throttled: { users: number; throttle: Throttle } | undefined;
  /** The policy every scan is judged with: the action's defaults, `--warn-days` aside. */
  policy: Policy;
  /** Seed of the deterministic accounts. */
  seed: number;
  /** Users in the credential report parsed by the parsing benchmark. */
  parseUsers: number;
  /** Start-up runs (the median is reported). */
  startupRuns: number;
  /** Accounts whose flagged users' tags are read each way; empty = skipped (`--tag-scenarios none`). */
  tagScenarios: TagScenario[];
  /** The organisation scenario; `undefined` = skipped (`--org-accounts 0`). */
  organization: OrganizationBenchOptions | undefined;
  /** Where the Markdown report goes; `undefined` = nowhere (`--out -`). */
  out: string | undefined;
  /** The flags as given, for the report's "command" line. */
  argv: string[];
}

/** The instant every scan is judged at: fixed, so each run seeds and flags exactly the same keys. */
export const BENCH_NOW = new Date('2026-06-01T12:00:00Z');

export const DEFAULT_THROTTLE: Throttle = { rate: 10, burst: 20 };

export const USAGE = `npm run bench -- [flags]
  --sizes 100,1000,10000   account sizes (users) of the scan table
  --latency-ms 30          round trip the fake adds to every IAM request
  --throttle 10/20         throttle every scan of the table (requests/s / burst); default none
  --throttle-users 1000    users of the throttled API scenario (0 skips it); it uses --throttle, else 10/20
  --warn-days 14           the policy's warn-days (users with due-soon keys are confirmed live too)
  --seed 1                 seed of the generated accounts
  --parse-users 50000      users of the parsed credential report
  --startup-runs 7         start-up runs (median reported)
  --org-accounts 1000      accounts of the organisation scenario (0 skips it)
  --org-users 200          users of each of its accounts
  --org-report-ms 2000     how long each account's credential report takes to generate
  --tag-scenarios 20/2,10000/50,10000/3000,50000/20000
                           accounts (USERS/FLAGGED) whose flagged users' tags are read each way ('none' skips)
  --out docs/benchmarks.md where the report is written ('-' for nowhere)`;

function positiveInt(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${value}".`);
  return n;
}

export function parseTagScenarios(value: string): TagScenario[] {
  if (value.trim() === 'none') return [];
  return value.split(',').map((item) => {
    const m = /^(\d+)\/(\d+)$/.exec(item.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[2]) > Number(m[1])) {
      throw new Error(
        `--tag-scenarios must be USERS/FLAGGED pairs with 1 ≤ FLAGGED ≤ USERS, such as 10000/50, got "${item}".`,
      );
    }
    return { users: Number(m[1]), flagged: Number(m[2]) };
  });
}

export function parseThrottle(value: string): Throttle {
  const m = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) < 1) {
    throw new Error(`--throttle must be RATE/BURST, such as 10/20, got "${value}".`);
  }
  return { rate: Number(m[1]), burst: Number(m[2]) };
}

/** The command line of this run: `npm run bench -- …`, or tsx directly (which skips the build). */
export function commandLine(argv: readonly string[]): string {
  const viaNpm = process.env.npm_lifecycle_event === 'bench';
  return [viaNpm ? 'npm run bench' : 'npx tsx bench/run.ts', ...(viaNpm && argv.length ? ['--'] : []), ...argv].join(
    ' ',
  );
}

export function readOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string', default: '100,1000,10000' },
      'latency-ms': { type: 'string', default: '30' },
      throttle: { type: 'string' },
      'throttle-users': { type: 'string', default: '1000' },
      'warn-days': { type: 'string', default: '14' },
      seed: { type: 'string', default: '1' },
      'parse-users': { type: 'string', default: '50000' },
      'startup-runs': { type: 'string', default: '7' },
      'org-accounts': { type: 'string', default: '1000' },
      'org-users': { type: 'string', default: '200' },
      'org-report-ms': { type: 'string', default: '2000' },
      'tag-scenarios': { type: 'string', default: TAG_SCENARIOS.map((t) => `${t.users}/${t.flagged}`).join(',') },
      out: { type: 'string', default: 'docs/benchmarks.md' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const throttle = values.throttle === undefined ? undefined : parseThrottle(values.throttle);
  const throttledUsers = positiveInt('throttle-users', values['throttle-users'], 0);
  return {
    sizes: values.sizes.split(',').map((s) => positiveInt('sizes', s.trim())),
    latencyMs: positiveInt('latency-ms', values['latency-ms'], 0),
    throttle,
    throttled: throttledUsers > 0 ? { users: throttledUsers, throttle: throttle ?? DEFAULT_THROTTLE } : undefined,
    policy: {
      maxAgeDays: 90,
      maxUnusedDays: 0,
      warnDays: positiveInt('warn-days', values['warn-days'], 0),
      includeInactive: false,
      excludeUsers: [],
    },
    seed: positiveInt('seed', values.seed, 0),
    parseUsers: positiveInt('parse-users', values['parse-users']),
    startupRuns: positiveInt('startup-runs', values['startup-runs']),
    tagScenarios: parseTagScenarios(values['tag-scenarios']),
    organization:
      positiveInt('org-accounts', values['org-accounts'], 0) > 0
        ? {
            accounts: positiveInt('org-accounts', values['org-accounts']),
            usersPerAccount: positiveInt('org-users', values['org-users']),
            reportGenerationMs: positiveInt('org-report-ms', values['org-report-ms'], 0),
            latencyMs: positiveInt('latency-ms', values['latency-ms'], 0),
            concurrency: 16,
            seed: positiveInt('seed', values.seed, 0),
          }
        : undefined,
    out: values.out === '-' ? undefined : values.out,
    argv,
  };
}
