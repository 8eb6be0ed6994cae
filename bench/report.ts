/** The report: one Markdown document, printed to the terminal and written to docs/benchmarks.md. */
import { count, duration, gigabytes, median, megabytes, ratio, table, verdict, type Align } from './format.js';
import { BENCH_NOW, type Throttle } from './options.js';
import { reportBound, speedup, summarize, type BenchResults } from './results.js';
import type { ScanRow } from './scans.js';
import { modelled, type TagRow } from './user-tags.js';
import { evaluate } from './targets.js';

const throttleText = (t: Throttle | undefined): string =>
  t ? `a token bucket of ${t.rate} requests/s, burst ${t.burst}` : 'no throttle';

function setting(r: BenchResults): string {
  const { options: o, machine: m } = r;
  return table(
    ['', ''],
    [
      ['Command', `\`${r.command}\``],
      ['Date', `${r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} (the whole run took ${duration(r.totalMs)})`],
      ['Commit', m.commit],
      ['Machine', `${m.cpu}, ${m.cores} cores, ${gigabytes(m.memoryBytes)} of memory, ${m.os}`],
      ['Node', `${r.node24} for everything measured; ${m.node} for the harness and the fakes`],
      ['Fake IAM', `${o.latencyMs} ms per request, ${throttleText(o.throttle)}, pages of up to 1,000`],
      ['Accounts', `\`seedAccount\`, seed ${o.seed}: one or two keys a user, about 5% stale`],
      [
        'Policy',
        `max-age-days ${o.policy.maxAgeDays}, warn-days ${o.policy.warnDays}, max-unused-days ${o.policy.maxUnusedDays}, judged at ${BENCH_NOW.toISOString()}`,
      ],
    ],
  );
}

function targets(r: BenchResults): string {
  return table(
    ['target', 'measured', 'result'],
    evaluate(r).map((t) => [t.goal, t.measured, verdict(t.pass)]),
  );
}

function scans(r: BenchResults, rows: readonly ScanRow[]): string {
  const columns: Array<[string, Align, (s: ScanRow) => string]> = [
    ['users', 'right', (s) => count(s.truth.users)],
    ['method', 'left', (s) => `\`${s.method}\``],
    ['wall time', 'right', (s) => duration(s.wallMs)],
    ['vs baseline', 'right', (s) => (s.method === 'baseline' ? '' : ratio(speedup(r, s)))],
    ['IAM requests', 'right', (s) => count(s.requests)],
    ['3 + S', 'right', (s) => (s.method === 'credential-report' ? count(reportBound(s)) : '')],
    ['throttled', 'right', (s) => count(s.throttled)],
    ['users listed', 'right', (s) => count(s.usersListed)],
    ['peak RSS', 'right', (s) => megabytes(s.peakRssBytes)],
    [
      'found',
      'left',
      (s) =>
        s.problems.length ? `**${s.problems.join(', ')}**` : `exact (${count(s.truth.staleKeyIds.length)} stale)`,
    ],
  ];
  return table(
    columns.map(([name]) => name),
    rows.map((row) => columns.map(([, , cell]) => cell(row))),
    columns.map(([, align]) => align),
  );
}

function largeReport(r: BenchResults): string {
  const l = r.largeReport;
  const row = (step: string, runs: typeof l.parse | typeof l.fetch) => {
    const s = summarize(runs);
    return [
      step,
      duration(s.medianMs),
      `${runs.map((run) => Math.round(run.ms)).join(', ')} ms`,
      megabytes(s.peakRssBytes),
      megabytes(s.rssBeforeBytes),
    ];
  };
  return [
    `${count(l.userCount)} users, ${count(l.keyCount)} keys: a CSV of ${megabytes(l.csvBytes)}.`,
    table(
      ['step', `median of ${l.parse.length}`, 'runs', 'peak RSS', 'RSS before'],
      [
        row('`parseCredentialReport` (the target)', l.parse),
        row('`GetCredentialReport` through the SDK (not a target)', l.fetch),
      ],
      ['left', 'right', 'right', 'right', 'right'],
    ),
  ].join('\n\n');
}

function bundle(r: BenchResults): string {
  const first = r.startup.map((s) => s.firstRequestMs);
  return table(
    ['', ''],
    [
      ['`dist/index.js`', `${count(r.bundleBytes)} bytes (${megabytes(r.bundleBytes)})`],
      [
        `Spawn to first request, median of ${first.length}`,
        `${duration(median(first))} (runs: ${first.map((t) => Math.round(t)).join(', ')} ms)`,
      ],
      ['Spawn to exit, demo account scanned, median', duration(median(r.startup.map((s) => s.exitMs)))],
    ],
  );
}

function organization(r: BenchResults): string {
  const o = r.organization!;
  return [
    `\`accounts: organization\` over ${count(o.options.accounts)} accounts of ${count(o.options.usersPerAccount)} users (about 5% of keys stale), ` +
      `${o.options.latencyMs} ms a request, each credential report ${duration(o.options.reportGenerationMs)} to generate, ` +
      `${o.options.concurrency} accounts at once, no tracking issue. The built dist/index.js under Node 24, as a runner runs it; ` +
      'its peak memory is sampled from /proc (VmHWM) every 100 ms.',
    table(
      ['', ''],
      [
        ['Wall time', duration(o.wallMs)],
        ['Peak RSS', megabytes(o.peakRssBytes)],
        ['Organizations list pages', count(o.listPages)],
        ['AssumeRole', count(o.assumeRole)],
        [
          'IAM requests (Σ(3 + Sₐ + Tₐ))',
          `${count(o.iam)} (${count(o.iamBound)}, of which ${count(o.tagRequests)} for tags)`,
        ],
        ["The hub's sign-in (STS)", count(o.otherSts)],
        ['Accounts scanned', count(o.accountsScanned)],
        ['Stale keys', `${count(o.staleFound)} of ${count(o.staleSeeded)} seeded`],
        ['Exit code', String(o.exitCode)],
      ],
    ),
    'The floor is ⌈accounts / concurrency⌉ × (report generation + a few round trips): a member account costs ' +
      'one AssumeRole, then two GenerateCredentialReport and one GetCredentialReport, and one ListAccessKeys a ' +
      "flagged user; its identity is known from the role, and the organisation's name for it stands for its alias.",
  ].join('\n\n');
}

function trackingLookups(r: BenchResults): string {
  return [
    'GitHub requests against the fake GitHub, every account with an up-to-date open issue and 10 closed ones. ' +
      "A matrix job finds its account's issue by its `aws-account:ID` label; an organisation run lists the open " +
      'tracking issues once. "Before" is issue #8\'s design: every page of the open tracking issues, for every job.',
    table(
      [
        'accounts',
        'open issues',
        'closed issues',
        'matrix job',
        'matrix job, no issue',
        'matrix job before',
        'matrix run (every job)',
        'matrix run before',
        'organisation run',
        'writes',
      ],
      r.trackingLookups.map((l) => [
        count(l.accounts),
        count(l.openIssues),
        count(l.closedIssues),
        count(l.matrixJob),
        count(l.matrixJobNoIssue),
        count(l.matrixJobBefore),
        count(l.matrixRun),
        count(l.matrixRunBefore),
        count(l.organisationRun),
        count(l.writes),
      ]),
      ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  ].join('\n\n');
}

export function userTags(r: BenchResults): string {
  const found = (t: TagRow) =>
    t.listUserTags.exact && t.accountDetails.exact
      ? 'exact'
      : `**${[t.listUserTags.exact ? '' : 'ListUserTags', t.accountDetails.exact ? '' : 'GetAccountAuthorizationDetails'].filter(Boolean).join(' and ')} wrong**`;
  const chosen = (t: TagRow) => (t.chosen === 'account-details' ? t.accountDetails : t.listUserTags);
  return [
    'Reading the tags (owners, exemptions) of the S users with a stale key, each way, against the fake IAM ' +
      `(${r.options.latencyMs} ms a request, pages of up to 1,000; about half of the users tagged): one \`ListUserTags\` ` +
      'a flagged user, 8 at a time, or the `GetAccountAuthorizationDetails` (`Filter=User`) pages of the whole ' +
      'account, one after another. `readUserTags` (src/account/tags.ts) chooses by the user count the inventory ' +
      'already has: the pages only from 100 flagged users and when they are ten times fewer requests than S (the ' +
      'permission they need reads every policy, and they come one after another), `ListUserTags` otherwise. **With tags** is the ' +
      "scan's 3 + S plus the chosen way's requests. Times are `readUserTags` through the SDK client in the harness " +
      'process, not in a child under Node 24. The fake answers a page of 1,000 users after the same latency as any ' +
      'request; how much longer IAM takes over a large page is not measured here.',
    table(
      [
        'users',
        'S',
        '3 + S without tags',
        'ListUserTags',
        'time',
        'GetAccountAuthorizationDetails',
        'time',
        'chosen',
        'with tags',
        'found',
      ],
      r.userTags.map((t) => [
        count(t.users),
        count(t.flagged),
        count(3 + t.flagged),
        `${count(t.listUserTags.requests)} (${count(modelled(t).listUserTags)})`,
        duration(t.listUserTags.wallMs),
        `${count(t.accountDetails.requests)} (${count(modelled(t).accountDetails)})`,
        duration(t.accountDetails.wallMs),
        t.chosen === 'account-details' ? '`GetAccountAuthorizationDetails`' : '`ListUserTags`',
        count(3 + t.flagged + chosen(t).requests),
        found(t),
      ]),
      ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right', 'left'],
    ),
    'Requests are as the fake counted them, with the model `readUserTags` chooses by in brackets.',
  ].join('\n\n');
}

export function renderReport(r: BenchResults): string {
  const sections = [
    '# Benchmarks',
    'What a scan costs as accounts grow, against the naive per-user scan; a large credential report; bundle size and start-up. ' +
      'Written by `npm run bench` (bench/run.ts): do not edit by hand.',
    setting(r),
    '## Targets',
    targets(r),
    '## Scans by account size',
    scans(r, r.scans),
    ...(r.throttled
      ? [
          `### The API method under a throttle (${throttleText(r.options.throttled?.throttle)})`,
          scans(r, [r.throttled]),
        ]
      : []),
    '## A large credential report',
    largeReport(r),
    '## Bundle and start-up',
    bundle(r),
    ...(r.organization ? ['## An organisation from one job', organization(r)] : []),
    '## Finding and keeping the tracking issues',
    trackingLookups(r),
    ...(r.userTags.length ? ['## Tags of flagged users', userTags(r)] : []),
    howToRead(r),
  ];
  return `${sections.join('\n\n')}\n`;
}

function howToRead(r: BenchResults): string {
  return `## How to read this

- **The methods.** \`credential-report\` and \`api\` are the action's own inventory (\`takeInventory\` in
  src/account/inventory.ts over the AWS SDK client of src/aws/iam.ts), then \`judge\`. \`baseline\` is the naive scan
  of the reference tutorial (bench/baseline.ts): \`ListUsers\`, then \`ListAccessKeys\` one user at a time,
  every page read, judged by age with the same \`judge\`.
- **S** is the number of users the credential report flags (a stale or due-soon key), worked out from the
  report itself; the action confirms each of them live with one \`ListAccessKeys\`. The report costs
  three requests (\`GenerateCredentialReport\` twice, as a fresh report takes one poll, and
  \`GetCredentialReport\`), so a scan makes 3 + S requests whatever the account's size. Its wall time
  includes the action's real 500 ms pause before polling again (2 s an account in the organisation mode).
- **Wall time** runs from creating the IAM client to the judgement, in the child process; loading
  modules is not included. **vs baseline** is the baseline's wall time over this one's, same account.
- **IAM requests** and **throttled** are counted by the fake; **users listed** is how many distinct users'
  keys were listed successfully (every user for \`api\` and \`baseline\`, the S flagged ones for
  \`credential-report\`). **found** is \`exact\` when the stale key IDs equal the seeded ones, with no
  key missed, extra, without an ID or counted twice, and every user and key inventoried.
- **Child processes.** Every scan and every parse runs alone in its own child process under Node 24,
  the runtime GitHub gives actions: bench/scenario.ts and the src/ it imports, bundled once by ncc
  with the flags of \`npm run build\`, so no TypeScript loader is in the measured process. The fake
  IAM runs in the parent (\`npm run bench\`) process, so its memory and CPU are not in the children's
  numbers. **Peak RSS** is the child's own high-water mark, \`VmHWM\` of /proc/self/status (not
  \`process.resourceUsage().maxRSS\`, which on Linux also counts the parent's memory copied at fork);
  a child that does nothing peaks at ${megabytes(r.idleRssBytes)}, a floor that is in every number.
- **A large credential report** is handled in a fresh child process each run, as the action handles
  one report per run: one cold parse of the CSV (read from a file the parent wrote), or one
  \`GetCredentialReport\` call through src/aws/iam.ts against the fake with the report ready and no
  latency. The time is the median of the runs; the peak RSS is the highest of them and includes that
  floor (and, for parsing, the CSV read as a string). **RSS before** is the peak before the step.
- **The fake** answers on 127.0.0.1 after the injected latency; requests in flight at once each wait it
  in parallel, as on a real network. Real IAM also throttles (undisclosed, per account): the throttled
  scenario shows the API method keeping every user under a tight token bucket, paced by the SDK's
  adaptive retry.
- **Start-up** is timed from just before the test helper (test/helpers/action-process.ts) spawns
  \`node dist/index.js\` as the runner does — every input at its action.yml default, \`role-to-assume\`
  set — to the first bytes of its first request, the OIDC token fetch, reaching a loopback relay in
  front of the fake OIDC endpoint. The helper's few file writes before the spawn are counted too.
- **MB** is 1,000,000 bytes throughout.
- **Reproduce** with the command above (\`npm run bench\` is \`npm run build\`, then
  \`tsx bench/run.ts\`). The accounts and the instant they are judged at are fixed, so request counts,
  S and the stale keys are the same on every machine; times follow the latency.
  \`npm run bench -- --help\` lists the flags; \`--sizes 100,1000 --throttle-users 0 --tag-scenarios none\` is
  a quick run (about a minute).`;
}
