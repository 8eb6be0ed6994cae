/**
 * Tracking issues for many accounts in one repository (src/tracking-issue/index.ts and the sync of
 * src/tracking-issue/sync.ts) against the fake GitHub, which enforces GitHub's rate limits: what a
 * matrix job's lookup costs however many accounts share the repository, issues opened before
 * account labels, a run over many accounts on one index, its write budget, its pace, its deadline
 * and GitHub's rate limit, and accounts moving between the two modes. Time units are milliseconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { scanResult } from '../helpers/scan-fixtures.js';
import {
  accountId,
  forAccount,
  LABELS,
  matrixJob,
  organisationRun,
  seedAccounts,
  staleScan,
} from '../helpers/tracking-scale.js';
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from '../fakes/github.js';
import { key } from '../helpers/scan-fixtures.js';
import { measureTrackingLookups } from '../../bench/tracking-lookups.js';

const fakes: FakeGithub[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function github(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const gh = await startFakeGithub(options);
  fakes.push(gh);
  return gh;
}

const ME = '111111111111';
const MY_LABEL = `aws-account:${ME}`;
const two = scanResult([key('alice', 213), key('bob', 120)]);
const changed = scanResult([key('bob', 120), key('carol', 100)]);
const none = scanResult([]);
const open = (gh: FakeGithub) => gh.issues.filter((i) => i.state === 'open');
const since = (gh: FakeGithub, from: number) => gh.requests.slice(from);

describe('a matrix job', () => {
  it('finds, updates and passes over its issue at the same cost whether 10, 100 or 1,000 accounts share the repository', async () => {
    const costs: Array<{ accounts: number; unchanged: number; updated: number; clean: number }> = [];
    for (const accounts of [10, 100, 1_000]) {
      const gh = await github({ requestsPerHour: false });
      // The other accounts: one open and 10 closed issues each.
      seedAccounts(gh, accounts - 1, { closed: 10 });
      for (let c = 0; c < 10; c++) {
        gh.addIssue({
          title: 'Stale AWS access keys in prod (111111111111)',
          body: `<!-- iam-stale-keys:tracking {"v":1,"account":"${ME}","digest":"x","count":1,"keys":{}} -->`,
          labels: [...LABELS, MY_LABEL],
          state: 'closed',
        });
      }
      const opened = await matrixJob(gh, two);
      expect(opened.outcomes[0]).toMatchObject({ action: 'created' });
      // The account's history carries its label: the closed issue to link is read along, and
      // nothing is searched among the other accounts' issues.
      expect(gh.issues.at(-1)!.body).toContain(`Previously tracked in #${gh.issues.length - 1}.`);
      expect(gh.requests.filter((r) => r.query.labels === LABELS.join(',') && r.query.state === 'open')).toEqual([]);

      let from = gh.requests.length;
      expect((await matrixJob(gh, two)).outcomes[0]!.action).toBe('unchanged');
      const unchanged = since(gh, from);
      expect(unchanged.map((r) => [r.method, r.query.labels, r.query.state])).toEqual([
        ['GET', `security,stale-access-keys,${MY_LABEL}`, 'all'],
      ]);

      from = gh.requests.length;
      expect((await matrixJob(gh, changed)).outcomes[0]).toMatchObject({ action: 'updated', changed: true });
      const updated = since(gh, from).length;

      // An account that never had an issue and has no stale key: its lookup, and one page to be sure
      // no issue of an earlier version is open for it.
      from = gh.requests.length;
      const clean = forAccount(none, '999999999999');
      expect((await matrixJob(gh, clean)).outcomes[0]!.action).toBe('none');
      const cleanCost = since(gh, from).length;

      costs.push({ accounts, unchanged: unchanged.length, updated, clean: cleanCost });
    }
    console.log(`Matrix job's requests by accounts in the repository: ${JSON.stringify(costs)}`);
    expect(costs.map((c) => c.unchanged)).toEqual([1, 1, 1]);
    expect(costs.map((c) => c.clean)).toEqual([2, 2, 2]);
    // Its lookup, the newest comments before and after its announcement, the announcement, the body.
    expect(costs.map((c) => c.updated)).toEqual([5, 5, 5]);
  });

  it('finds an issue opened before account labels once, labels it, and finds it with one request afterwards', async () => {
    const gh = await github();
    await matrixJob(gh, two);
    // As an earlier version left it: the issue labels only.
    gh.issues[0]!.labels = [...LABELS];
    gh.labels.delete(MY_LABEL);
    // Other accounts' issues, older style and newer, after it: four pages with the issue labels.
    seedAccounts(gh, 250, { legacy: true });
    seedAccounts(gh, 50, { from: 251 });

    let from = gh.requests.length;
    const first = await matrixJob(gh, two);
    expect(first.outcomes[0]).toMatchObject({ action: 'unchanged', number: 1 });
    expect(gh.issues[0]!.labels).toEqual([...LABELS, MY_LABEL]);
    expect(gh.labels.get(MY_LABEL)).toMatchObject({ color: 'c5def5' });
    expect(
      since(gh, from)
        .filter((r) => r.method !== 'GET')
        .map((r) => r.route),
    ).toEqual(['POST /repos/{owner}/{repo}/labels', 'POST /repos/{owner}/{repo}/issues/{issue_number}/labels']);
    expect(first.info).toContain(`Labelled tracking issue #1 ${MY_LABEL}: later runs find it with one request.`);
    expect(first.warnings).toEqual([]);

    from = gh.requests.length;
    expect((await matrixJob(gh, changed)).outcomes[0]).toMatchObject({ action: 'updated', number: 1 });
    expect(since(gh, from)[0]!.query.labels).toBe(`security,stale-access-keys,${MY_LABEL}`);
    expect(since(gh, from).filter((r) => r.query.labels === LABELS.join(','))).toEqual([]);
    expect(open(gh).filter((i) => i.title.includes(ME))).toHaveLength(1);
  });

  it('closes an issue opened before account labels when the keys are resolved, reading the oldest pages only', async () => {
    const gh = await github();
    await matrixJob(gh, two);
    gh.issues[0]!.labels = [...LABELS];
    // Four pages with the issue labels: 150 issues of earlier versions, then 150 of this one.
    seedAccounts(gh, 150, { legacy: true });
    seedAccounts(gh, 150, { from: 151 });
    const from = gh.requests.length;
    const run = await matrixJob(gh, none);
    expect(run.outcomes[0]).toMatchObject({ action: 'closed', number: 1 });
    // Oldest first, up to the first page that holds an issue with an account label: two of four.
    const pages = since(gh, from).filter((r) => r.query.labels === LABELS.join(','));
    expect(pages.map((r) => [r.query.direction, r.query.page])).toEqual([
      ['asc', '1'],
      ['asc', '2'],
    ]);
  });

  it('does not open a second issue when the account has one from an earlier version deep in the listing', async () => {
    const gh = await github();
    seedAccounts(gh, 350, { legacy: true });
    await matrixJob(gh, two);
    gh.issues.at(-1)!.labels = [...LABELS];
    seedAccounts(gh, 50, { legacy: true, from: 351 });
    const run = await matrixJob(gh, changed);
    expect(run.outcomes[0]).toMatchObject({ action: 'updated', number: 351 });
    expect(open(gh).filter((i) => i.title.includes(ME))).toHaveLength(1);
  });
});

describe('a run over many accounts', () => {
  it('lists the open issues once; a second run where nothing changed writes nothing and reads only the index', async () => {
    const gh = await github();
    seedAccounts(gh, 250, { closed: 2 });
    const results = Array.from({ length: 12 }, (_, i) => staleScan(accountId(1_000 + i), 1 + (i % 3)));
    const first = await organisationRun(gh, results);
    expect(first.outcomes.map((o) => o.action)).toEqual(Array(12).fill('created'));
    expect(first.warnings).toEqual([]);
    // Once a run: the index (3 pages), issues without labels (2 pages), closed issues before account
    // labels (1), the issue labels (2: they exist). Each new issue: the closed one to link, its
    // label, itself, and the look for an overlapping run's. The account with most stale keys first.
    expect(gh.requests).toHaveLength(3 + 2 + 1 + 2 + 12 * 4);
    expect(gh.requests[5]!.query.labels).toBe(`security,stale-access-keys,aws-account:${accountId(1_002)}`);
    for (const [i, result] of results.entries()) {
      const issue = gh.issues.find((x) => x.number === first.outcomes[i]!.number)!;
      expect(issue.title).toBe(`Stale AWS access keys in acct-${result.account.id.slice(-4)} (${result.account.id})`);
      expect(issue.labels).toEqual([...LABELS, `aws-account:${result.account.id}`]);
    }

    const from = gh.requests.length;
    const writes = gh.writes().length;
    const second = await organisationRun(gh, results);
    expect(second.outcomes.map((o) => o.action)).toEqual(Array(12).fill('unchanged'));
    expect(gh.writes()).toHaveLength(writes);
    const openIssues = open(gh).length;
    expect(openIssues).toBe(262);
    const requests = since(gh, from).length;
    console.log(`A run over 12 accounts with ${openIssues} open issues and nothing changed: ${requests} requests`);
    expect(requests).toBe(Math.ceil(openIssues / 100));
    expect(requests).toBeLessThanOrEqual(Math.ceil(openIssues / 100) + 5);
  });

  it('tells of new stale keys first: what the write budget cannot pay for is deferred, named, and done by the next run', async () => {
    const gh = await github();
    // 30 accounts, each with 1, 2 or 3 stale keys: 62 writes in all (2 issue labels, then each
    // account's label and issue); the budget pays for 40.
    const results = Array.from({ length: 30 }, (_, i) => staleScan(accountId(i + 1), 1 + (i % 3)));
    const first = await organisationRun(gh, results, { writeBudget: 40 });
    const created = first.outcomes.filter((o) => o.action === 'created');
    const deferred = first.outcomes.filter((o) => o.action === 'deferred');
    expect(created).toHaveLength(19);
    expect(deferred).toHaveLength(11);
    expect(gh.writes()).toHaveLength(40);
    for (const o of deferred) {
      expect(o).toEqual({
        action: 'deferred',
        number: null,
        url: null,
        changed: null,
        problem: "GitHub's write budget for this run (40 writes) was spent: the next run will open it",
      });
    }
    // The accounts with more stale keys went first.
    const staleOf = (action: string) =>
      results.filter((_, i) => first.outcomes[i]!.action === action).map((r) => r.judgement.stale.length);
    expect(Math.min(...staleOf('created'))).toBeGreaterThanOrEqual(Math.max(...staleOf('deferred')));
    // One warning names them; none is dropped.
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]).toMatch(
      /^The tracking issues of 11 accounts were not brought up to date in this run \(GitHub's write budget for this run \(40 writes\) was spent\); the next run will: acct-\d{4} \(\d{12}\), .*, and 1 more\.$/,
    );

    const second = await organisationRun(gh, results, { writeBudget: 40 });
    expect(second.outcomes.filter((o) => o.action === 'created')).toHaveLength(11);
    expect(second.outcomes.filter((o) => o.action === 'unchanged')).toHaveLength(19);
    expect(second.warnings).toEqual([]);
    expect(open(gh)).toHaveLength(30);

    const writes = gh.writes().length;
    const third = await organisationRun(gh, results, { writeBudget: 40 });
    expect(third.outcomes.map((o) => o.action)).toEqual(Array(30).fill('unchanged'));
    expect(gh.writes()).toHaveLength(writes);
  });

  it(
    'paces its writes a second apart: 80 issues brought up to date without more than 61 writes in a minute',
    { timeout: 30_000 },
    async () => {
      // One second of 40 ms (a minute of 2.4 s), on the fake and the client alike: long enough for
      // the queue, not the requests' own time, to set the pace.
      const gh = await github({ secondMs: 40 });
      // Issues whose marker a person removed: found by title in the index, each one write (its body).
      const results = Array.from({ length: 80 }, (_, i) => staleScan(accountId(i + 1), 1));
      for (const r of results) {
        gh.addIssue({
          title: `Stale AWS access keys in acct-${r.account.id.slice(-4)} (${r.account.id})`,
          labels: [...LABELS, `aws-account:${r.account.id}`],
        });
      }
      const run = await organisationRun(gh, results, { throttle: true, retryUnitMs: 40, deadlineMs: 60_000 });
      expect(run.outcomes.map((o) => o.action)).toEqual(Array(80).fill('updated'));
      expect(gh.requests.filter((r) => r.limited)).toEqual([]);
      const patches = gh.writes().filter((w) => w.route === 'PATCH /repos/{owner}/{repo}/issues/{issue_number}');
      expect(patches).toHaveLength(80);
      expect(gh.writes()).toHaveLength(80);
      const most = gh.maxWritesIn(2_400);
      console.log(`80 writes back to back, paced: at most ${most} in a minute of the fake; ${run.ms} ms`);
      expect(most).toBeLessThanOrEqual(61);
      // Without the queue they would have gone out as fast as GitHub answers: all 80 in a minute.
      expect(patches.at(-1)!.at - patches[0]!.at).toBeGreaterThanOrEqual(79 * 38);
    },
  );

  it('opens issues three seconds apart: they notify people', async () => {
    const gh = await github({ secondMs: 10 });
    const results = Array.from({ length: 12 }, (_, i) => staleScan(accountId(i + 1), 1));
    const run = await organisationRun(gh, results, { throttle: true, retryUnitMs: 10, deadlineMs: 60_000 });
    expect(run.outcomes.map((o) => o.action)).toEqual(Array(12).fill('created'));
    const creates = gh.requests.filter((r) => r.route === 'POST /repos/{owner}/{repo}/issues').map((r) => r.at);
    for (let i = 1; i < creates.length; i++) expect(creates[i]! - creates[i - 1]!).toBeGreaterThanOrEqual(28);
  });

  it('sends at most 70 writes in any minute, even when nothing else holds them back', { timeout: 30_000 }, async () => {
    // No throttling queues: 150 writes back to back would take about a second; the minute is 1.2 s.
    const gh = await github({ secondMs: 20 });
    const results = Array.from({ length: 150 }, (_, i) => staleScan(accountId(i + 1), 1));
    for (const r of results) {
      gh.addIssue({
        title: `Stale AWS access keys in acct-${r.account.id.slice(-4)} (${r.account.id})`,
        labels: [...LABELS, `aws-account:${r.account.id}`],
      });
    }
    const run = await organisationRun(gh, results, { throttle: false, retryUnitMs: 20, deadlineMs: 60_000 });
    expect(run.outcomes.map((o) => o.action)).toEqual(Array(150).fill('updated'));
    expect(gh.writes()).toHaveLength(150);
    expect(gh.requests.filter((r) => r.limited)).toEqual([]);
    const most = gh.maxWritesIn(1_200);
    console.log(`150 writes with no queue: at most ${most} in a minute of the fake; ${run.ms} ms`);
    expect(most).toBeGreaterThanOrEqual(60);
    expect(most).toBeLessThanOrEqual(71);
  });

  it("opens 200 issues on a first run within GitHub's limits and the run's budget", { timeout: 30_000 }, async () => {
    const gh = await github({ secondMs: 3 });
    const results = Array.from({ length: 200 }, (_, i) => staleScan(accountId(i + 1), 1));
    const run = await organisationRun(gh, results, { throttle: false, retryUnitMs: 3, deadlineMs: 60_000 });
    expect(run.outcomes.map((o) => o.action)).toEqual(Array(200).fill('created'));
    // The issue labels, then each account's label and issue: 402 of the 450 the run may send.
    expect(gh.writes()).toHaveLength(402);
    expect(gh.requests.filter((r) => r.limited)).toEqual([]);
    expect(gh.maxWritesIn(180)).toBeLessThanOrEqual(80);
  });

  it('waits out the secondary limit GitHub enforces when it says no retry-after, and finishes', async () => {
    const gh = await github({ secondMs: 4, writesPerMinute: 6, secondaryRetryAfter: false });
    const results = Array.from({ length: 5 }, (_, i) => staleScan(accountId(i + 1), 1));
    const run = await organisationRun(gh, results, { throttle: true, retryUnitMs: 4, deadlineMs: 60_000 });
    expect(run.outcomes.map((o) => o.action)).toEqual(Array(5).fill('created'));
    const limited = gh.requests.filter((r) => r.limited === 'secondary');
    expect(limited.length).toBeGreaterThan(0);
    // GitHub's advice without retry-after: a minute (240 ms here) before the next try.
    for (const refused of limited) {
      const next = gh.writes().find((w) => w.at > refused.at && !w.limited);
      expect(next!.at - refused.at).toBeGreaterThanOrEqual(230);
    }
    expect(run.warnings).toEqual([]);
  });

  it("stops short of GitHub's rate limit: the rest are deferred, never refused", async () => {
    const gh = await github({ requestsPerHour: 30 });
    const results = Array.from({ length: 10 }, (_, i) => staleScan(accountId(i + 1), 1));
    const run = await organisationRun(gh, results);
    const actions = run.outcomes.map((o) => o.action);
    expect(actions.filter((a) => a === 'created').length).toBeGreaterThan(0);
    expect(actions.filter((a) => a === 'deferred').length).toBeGreaterThan(0);
    expect(actions.every((a) => a === 'created' || a === 'deferred')).toBe(true);
    expect(gh.requests.filter((r) => r.limited)).toEqual([]);
    expect(run.outcomes.find((o) => o.action === 'deferred')!.problem).toMatch(
      /^GitHub's rate limit had \d+ requests? left until \d\d:\d\d UTC: the next run will open it$/,
    );
    expect(run.warnings).toHaveLength(1);
  });

  it('when its time runs out, defers the accounts it did not reach and still reports those up to date', async () => {
    const gh = await github({ latencyMs: 25 });
    const current = Array.from({ length: 3 }, (_, i) => staleScan(accountId(100 + i), 1));
    await organisationRun(gh, current);
    const results = [...current, ...Array.from({ length: 20 }, (_, i) => staleScan(accountId(i + 1), 1))];
    const run = await organisationRun(gh, results, { deadlineMs: 700 });
    const actions = run.outcomes.map((o) => o.action);
    expect(actions.slice(0, 3)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const rest = actions.slice(3);
    expect(rest.filter((a) => a === 'created').length).toBeGreaterThan(0);
    expect(rest.filter((a) => a === 'deferred').length).toBeGreaterThan(0);
    expect(rest.every((a) => ['created', 'failed', 'deferred'].includes(a))).toBe(true);
    expect(run.outcomes.find((o) => o.action === 'deferred')!.problem).toBe(
      'the 700 ms allowed for GitHub in this run ran out: the next run will open it',
    );
    // At most the account cut short, and the one that names the deferred.
    expect(run.warnings.length).toBeLessThanOrEqual(2);
    expect(run.warnings.at(-1)).toMatch(/^The tracking issues of \d+ accounts were not brought up to date/);
  });

  it('says once that the token cannot write issues, and fails every account that needed a write without a request', async () => {
    const gh = await github({ readOnly: true });
    const results = Array.from({ length: 6 }, (_, i) => staleScan(accountId(i + 1), 1));
    const run = await organisationRun(gh, results);
    expect(run.outcomes.map((o) => o.action)).toEqual(Array(6).fill('failed'));
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(/Grant the job "permissions: issues: write"/);
    // The first account's label and issue, refused; nothing for the other five.
    expect(gh.writes().map((w) => [w.route, w.status])).toEqual([
      ['POST /repos/{owner}/{repo}/labels', 403],
      ['POST /repos/{owner}/{repo}/issues', 403],
    ]);
  });
});

describe('a run over many accounts whose index cannot be listed', () => {
  it('says so once and reports every account failed, without a request each', async () => {
    const gh = await github({
      failures: { 'GET /repos/{owner}/{repo}/issues': [{ status: 502 }, { status: 502 }, { status: 502 }] },
    });
    const results = Array.from({ length: 5 }, (_, i) => staleScan(accountId(i + 1), 1));
    const run = await organisationRun(gh, results);
    expect(run.outcomes.map((o) => o.action)).toEqual(Array(5).fill('failed'));
    expect(run.outcomes[0]!.problem).toMatch(/^GitHub answered 502 to GET \/repos\/.+\/issues/);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(/^The tracking issues were not updated: listing them failed \(GitHub answered 502/);
    expect(gh.requests).toHaveLength(3);
  });
});

describe('an account that moves between a matrix and a run over many accounts', () => {
  it('keeps the issue a matrix job opened, and a matrix job finds the issue the run opened', async () => {
    const gh = await github();
    const mine = await matrixJob(gh, two);
    expect(mine.outcomes[0]).toMatchObject({ action: 'created', number: 1 });
    const other = staleScan(accountId(1), 2);

    const org = await organisationRun(gh, [two, other]);
    expect(org.outcomes.map((o) => [o.action, o.number])).toEqual([
      ['unchanged', 1],
      ['created', 2],
    ]);
    const updated = await organisationRun(gh, [changed, other]);
    expect(updated.outcomes.map((o) => [o.action, o.number])).toEqual([
      ['updated', 1],
      ['unchanged', 2],
    ]);

    const from = gh.requests.length;
    const back = await matrixJob(gh, other);
    expect(back.outcomes[0]).toMatchObject({ action: 'unchanged', number: 2 });
    expect(since(gh, from)).toHaveLength(1);
    expect(open(gh)).toHaveLength(2);
    expect(gh.issues).toHaveLength(2);
  });

  it('keeps an issue opened before account labels, and labels it with what the budget has left', async () => {
    const gh = await github();
    await matrixJob(gh, two);
    gh.issues[0]!.labels = [...LABELS];
    const run = await organisationRun(gh, [two, staleScan(accountId(1), 1)]);
    expect(run.outcomes.map((o) => [o.action, o.number])).toEqual([
      ['unchanged', 1],
      ['created', 2],
    ]);
    expect(gh.issues[0]!.labels).toEqual([...LABELS, MY_LABEL]);
    expect(run.info).toContain('Labelled 1 of 1 tracking issues opened before account labels.');

    // With no budget left for it, the label waits for a later run; the issue is still kept.
    gh.issues[0]!.labels = [...LABELS];
    const tight = await organisationRun(gh, [changed], { writeBudget: 2 });
    expect(tight.outcomes[0]).toMatchObject({ action: 'updated', number: 1 });
    expect(gh.issues[0]!.labels).toEqual([...LABELS]);
    expect(tight.info).toContain(
      'Labelled 0 of 1 tracking issues opened before account labels; a later run labels the other 1.',
    );
  });
});

describe('the benchmark of lookups', () => {
  it('counts what a matrix job and a run over every account cost', async () => {
    const rows = await measureTrackingLookups([10, 150], 2);
    expect(rows).toEqual([
      {
        accounts: 10,
        openIssues: 10,
        closedIssues: 20,
        matrixJob: 1,
        matrixJobNoIssue: 2,
        matrixJobBefore: 1,
        matrixRun: 10,
        matrixRunBefore: 10,
        organisationRun: 1,
        writes: 0,
      },
      {
        accounts: 150,
        openIssues: 150,
        closedIssues: 300,
        matrixJob: 1,
        matrixJobNoIssue: 2,
        matrixJobBefore: 2,
        matrixRun: 150,
        matrixRunBefore: 300,
        organisationRun: 2,
        writes: 0,
      },
    ]);
  });
});
