/**
 * `npm run bench`: what a scan costs as accounts grow, against the naive per-user baseline; parsing
 * a large credential report; the bundle's size and start-up. Prints a report and writes it to
 * docs/benchmarks.md. The measurements run one after another, never side by side.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchAccount } from './account.js';
import { bundleBytes, findNode24, measureStartup } from './bundle.js';
import { prepareChildren, type Children } from './child.js';
import { count, duration, megabytes } from './format.js';
import { measureLargeReport } from './large-report.js';
import { measureOrganization } from './organization.js';
import { measureTrackingLookups } from './tracking-lookups.js';
import { measureUserTags } from './user-tags.js';
import { describeMachine } from './machine.js';
import { BENCH_NOW, commandLine, readOptions, type BenchOptions } from './options.js';
import { renderReport } from './report.js';
import { measureScan, type Conditions, type ScanRow } from './scans.js';
import type { ScanMethod } from './tasks.js';

const METHODS: ScanMethod[] = ['credential-report', 'api', 'baseline'];
const LARGE_REPORT_RUNS = 5;

const progress = (message: string) => console.error(`[bench] ${message}`);

async function scanAll(children: Children, o: BenchOptions, conditions: Conditions): Promise<ScanRow[]> {
  const rows: ScanRow[] = [];
  for (const users of o.sizes) {
    const account = benchAccount(users, { seed: o.seed, now: BENCH_NOW, policy: o.policy });
    for (const method of METHODS) {
      const row = await measureScan(children, method, account, conditions);
      progress(
        `${count(users)} users, ${method}: ${duration(row.wallMs)}, ${count(row.requests)} IAM requests, ${row.problems.join(', ') || 'exact'}`,
      );
      rows.push(row);
    }
  }
  return rows;
}

async function scanThrottled(children: Children, o: BenchOptions, conditions: Conditions) {
  if (!o.throttled) return undefined;
  const { users, throttle } = o.throttled;
  const account = benchAccount(users, { seed: o.seed, now: BENCH_NOW, policy: o.policy });
  const row = await measureScan(children, 'api', account, { ...conditions, throttle });
  progress(
    `${count(users)} users, api under ${throttle.rate}/${throttle.burst}: ${duration(row.wallMs)}, ${count(row.throttled)} throttled, ${row.problems.join(', ') || 'exact'}`,
  );
  return row;
}

async function main(): Promise<void> {
  const o = readOptions(process.argv.slice(2));
  const startedAt = new Date();
  const start = performance.now();
  const machine = describeMachine(); // Before anything is built: the commit is what gets measured.
  const node24 = findNode24();
  const children = await prepareChildren(node24.path);
  const conditions: Conditions = { latencyMs: o.latencyMs, throttle: o.throttle, policy: o.policy, now: BENCH_NOW };
  try {
    const scans = await scanAll(children, o, conditions);
    const throttled = await scanThrottled(children, o, conditions);
    const largeReport = await measureLargeReport(children, {
      users: o.parseUsers,
      seed: o.seed,
      now: BENCH_NOW,
      runs: LARGE_REPORT_RUNS,
    });
    progress(
      `${count(o.parseUsers)}-user report: parsed in ${largeReport.parse.map((p) => duration(p.ms)).join(', ')}; fetched in ${largeReport.fetch.map((f) => duration(f.ms)).join(', ')}`,
    );
    const idleRssBytes = (await children.run({ kind: 'idle' })).peakRssBytes;
    progress(`idle child: ${megabytes(idleRssBytes)}`);
    const startup = await measureStartup(node24.path, o.startupRuns);
    progress(`start-up: ${startup.map((s) => duration(s.firstRequestMs)).join(', ')}`);
    const organization = o.organization ? await measureOrganization(node24.path, o.organization) : undefined;
    const trackingLookups = await measureTrackingLookups();
    progress(
      `tracking-issue lookups: ${trackingLookups.map((l) => `${count(l.accounts)} accounts: ${l.matrixJob} a job, ${l.organisationRun} an organisation run`).join('; ')}`,
    );
    const userTags = await measureUserTags({
      scenarios: o.tagScenarios,
      latencyMs: o.latencyMs,
      seed: o.seed,
      now: BENCH_NOW,
    });
    for (const t of userTags) {
      progress(
        `tags of ${count(t.flagged)} of ${count(t.users)} users: ListUserTags ${count(t.listUserTags.requests)} requests in ${duration(t.listUserTags.wallMs)}, GetAccountAuthorizationDetails ${count(t.accountDetails.requests)} in ${duration(t.accountDetails.wallMs)}; chosen ${t.chosen}`,
      );
    }
    if (organization) {
      progress(
        `organisation of ${count(organization.options.accounts)} accounts: ${duration(organization.wallMs)}, ${megabytes(organization.peakRssBytes)}, ${count(organization.iam)} IAM requests (bound ${count(organization.iamBound)}), ${organization.problems.join(', ') || 'exact'}`,
      );
    }

    const report = renderReport({
      options: o,
      command: commandLine(o.argv),
      machine,
      node24: node24.version,
      startedAt,
      totalMs: performance.now() - start,
      scans,
      throttled,
      largeReport,
      idleRssBytes,
      bundleBytes: bundleBytes(),
      startup,
      organization,
      trackingLookups,
      userTags,
    });
    console.log(report);
    if (o.out) {
      await writeFile(resolve(o.out), report);
      progress(`written to ${o.out}`);
    }
  } finally {
    await children.close();
  }
}

await main();
