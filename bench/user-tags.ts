/**
 * What reading the tags of the flagged users costs, each way (src/account/tags.ts): one
 * `ListUserTags` a flagged user, or the `GetAccountAuthorizationDetails` pages of the whole account.
 * Requests are counted by the fake IAM, with the scan table's latency and pages of up to 1,000; the
 * time is `readUserTags` through the real SDK client, in this (the harness) process. For
 * docs/benchmarks.md, via `npm run bench`.
 */
import { performance } from 'node:perf_hooks';
import { createIam } from '../src/aws/iam.js';
import { chooseTagStrategy, readUserTags, tagRequestCosts, type TagStrategy } from '../src/account/tags.js';
import { seedAccount, startFakeAws, type FakeAccount, type FakeAws } from '../test/fakes/aws.js';
import { fakeIamEnv } from './scans.js';

export interface TagScenario {
  /** IAM users in the account. */
  users: number;
  /** S: users with a stale key, whose tags are read. */
  flagged: number;
}

/** A small account, a large one with few or many stale users, and a very large one. */
export const TAG_SCENARIOS: readonly TagScenario[] = [
  { users: 20, flagged: 2 },
  { users: 10_000, flagged: 50 },
  { users: 10_000, flagged: 3_000 },
  { users: 50_000, flagged: 20_000 },
];

export interface TagWay {
  /** IAM requests the fake received. */
  requests: number;
  wallMs: number;
  /** Every flagged user's tags exactly as seeded, and no gap. */
  exact: boolean;
}

export interface TagRow extends TagScenario {
  /** What `readUserTags` takes for this account when left to choose. */
  chosen: TagStrategy;
  listUserTags: TagWay;
  accountDetails: TagWay;
}

export interface TagBenchOptions {
  scenarios: readonly TagScenario[];
  latencyMs: number;
  seed: number;
  now: Date;
}

/** IAM's largest page, as the scan table serves. */
const IAM_MAX_PAGE = 1000;
const TAGGED_RATIO = 0.5;

export async function measureUserTags(o: TagBenchOptions): Promise<TagRow[]> {
  const rows: TagRow[] = [];
  for (const scenario of o.scenarios) {
    const { account } = seedAccount({ users: scenario.users, now: o.now, seed: o.seed, taggedRatio: TAGGED_RATIO });
    const flagged = spread(account, scenario.flagged);
    const aws = await startFakeAws({ account, latencyMs: o.latencyMs, pageSize: IAM_MAX_PAGE });
    try {
      rows.push({
        ...scenario,
        chosen: chooseTagStrategy(scenario.users, flagged.length),
        listUserTags: await measureWay(aws, account, flagged, 'list-user-tags'),
        accountDetails: await measureWay(aws, account, flagged, 'account-details'),
      });
    } finally {
      await aws.close();
    }
  }
  return rows;
}

/** `count` users spread evenly over the account, in its order. */
function spread(account: FakeAccount, count: number): string[] {
  const users = account.users;
  const n = Math.min(count, users.length);
  return Array.from({ length: n }, (_, i) => users[Math.floor((i * users.length) / n)]!.name);
}

async function measureWay(aws: FakeAws, account: FakeAccount, flagged: string[], strategy: TagStrategy) {
  const env = fakeIamEnv(aws.url);
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  const iam = createIam('aws', { accessKeyId: 'AKIAFAKEBENCHMARK001', secretAccessKey: 'fake-secret' });
  try {
    await iam.listAccountAliases(); // The client's first request sets it up: not part of either way.
    aws.resetRequests();
    const start = performance.now();
    const read = await readUserTags(iam, flagged, { accountUsers: account.users.length, strategy });
    const wallMs = performance.now() - start;
    const byName = new Map(account.users.map((u) => [u.name, u]));
    const exact =
      read.gap === null &&
      read.tags.size === flagged.length &&
      flagged.every((name) => {
        const seeded = Object.fromEntries((byName.get(name)?.tags ?? []).map((t) => [t.key, t.value]));
        return JSON.stringify(read.tags.get(name)) === JSON.stringify(seeded);
      });
    return { requests: aws.requests.filter((r) => r.service === 'iam').length, wallMs, exact };
  } finally {
    iam.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The requests of each way by the model `readUserTags` chooses with, for the report. */
export const modelled = (row: TagScenario) => tagRequestCosts(row.users, row.flagged);
