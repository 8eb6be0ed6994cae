/**
 * The tracking-issue stage (src/tracking-issue/sync.ts) on the real client against the loopback
 * fake GitHub: what people do to the issue (unmark, lock), overlapping runs, lost answers, the
 * deadline, and what a run costs. Writes are not queued here (`throttle: false`): these tests are
 * about the protocol; the queue is tested in github-client.test.ts and end to end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fullKeyId } from '../../src/render/present.js';
import type { ScanResult } from '../../src/account/result.js';
import { firstListed, parseAnnouncement, parseMarker, type Marker } from '../../src/tracking-issue/plan.js';
import { createIssuesApi, type IssuesApiOptions } from '../../src/tracking-issue/issues-api.js';
import {
  syncTrackingIssue,
  syncTrackingIssues,
  type SyncContext,
  type TrackingOptions,
  type TrackingOutcome,
} from '../../src/tracking-issue/sync.js';
import type { Coverage } from '../../src/model.js';
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from '../fakes/github.js';
import { key, scanResult } from '../helpers/scan-fixtures.js';

const TOKEN = 'ghs_trackingToken00000000000000000000';
const fakes: FakeGithub[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function github(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const gh = await startFakeGithub(options);
  fakes.push(gh);
  return gh;
}

interface Run {
  outcome: TrackingOutcome;
  info: string[];
  warnings: string[];
  ms: number;
}

async function track(
  gh: FakeGithub,
  result: ScanResult,
  options: Partial<TrackingOptions> = {},
  client: Partial<IssuesApiOptions> = {},
  context: SyncContext = {},
): Promise<Run> {
  const info: string[] = [];
  const warnings: string[] = [];
  const api = createIssuesApi({
    token: TOKEN,
    owner: gh.owner,
    repo: gh.repo,
    baseUrl: gh.url,
    requestTimeoutMs: 1_000,
    retryUnitMs: 5,
    deadlineMs: 10_000,
    throttle: false,
    info: (m) => info.push(m),
    ...client,
  });
  const started = Date.now();
  const outcome = await syncTrackingIssue(
    api,
    result,
    {
      titleTemplate: 'Stale AWS access keys in {account}',
      labels: ['security', 'stale-access-keys'],
      assignees: [],
      closeResolved: true,
      keyId: fullKeyId,
      runUrl: 'https://github.com/octo-org/security/actions/runs/1',
      ...options,
    },
    { info: (m) => info.push(m), warning: (m) => warnings.push(m) },
    context,
  );
  return { outcome, info, warnings, ms: Date.now() - started };
}

const open = (gh: FakeGithub) => gh.issues.filter((i) => i.state === 'open');
const comments = (gh: FakeGithub, n: number) => (gh.comments.get(n) ?? []).map((c) => c.body);
const posts = (gh: FakeGithub, route: string) => gh.requests.filter((r) => r.route === route);
const COMMENT = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
const PATCH = 'PATCH /repos/{owner}/{repo}/issues/{issue_number}';
const CREATE = 'POST /repos/{owner}/{repo}/issues';

const two = scanResult([key('alice', 213), key('bob', 120)]);
const changed = scanResult([key('bob', 120), key('carol', 100)]);
const none = scanResult([]);

describe('what people do to the issue', () => {
  it('finds its issue by labels and title when a person removed the marker, restores it, and keeps one open', async () => {
    const gh = await github();
    await track(gh, two);
    const issue = gh.issues[0]!;
    issue.body = issue.body!.split('\n').slice(1).join('\n').replace('Rotate each key', 'Rotate each key (edited)');
    expect(parseMarker(issue.body)).toBeNull();

    const run = await track(gh, two);
    expect(run.outcome).toMatchObject({ action: 'updated', number: 1, changed: null });
    expect(parseMarker(gh.issues[0]!.body)).toMatchObject({ account: '111111111111', count: 2 });
    expect(open(gh)).toHaveLength(1);
    expect(gh.issues).toHaveLength(1);
    expect(comments(gh, 1)).toEqual([]);
    expect(run.info).toContain('Restored the hidden marker of tracking issue #1: it was missing or broken.');
    expect((await track(gh, two)).outcome.action).toBe('unchanged');
  });

  it('keeps the oldest when an unmarked issue and a marked one are both open', async () => {
    const gh = await github();
    gh.addIssue({
      title: 'Stale AWS access keys in prod (111111111111)',
      body: 'The marker was broken <!-- iam-stale-keys:tracking {"v":1,"acc',
      labels: ['security', 'stale-access-keys'],
    });
    await track(gh, scanResult([key('zed', 300)]), {}, {});
    // Found #1 by its title: no second issue was opened, and #1 now carries the account's label.
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]!.labels).toContain('aws-account:111111111111');
    gh.addIssue({
      title: 'x',
      body: gh.issues[0]!.body!,
      labels: ['security', 'stale-access-keys', 'aws-account:111111111111'],
    });
    const run = await track(gh, two);
    expect(run.outcome).toMatchObject({ number: 1 });
    expect(open(gh).map((i) => i.number)).toEqual([1]);
    expect(gh.issues[1]).toMatchObject({ state: 'closed', state_reason: 'duplicate' });
  });

  it("leaves a person's issue with the same labels alone", async () => {
    const gh = await github();
    gh.addIssue({
      title: 'Rotate the keys of 111111111111 by Friday',
      body: 'please',
      labels: ['security', 'stale-access-keys'],
    });
    const run = await track(gh, two);
    expect(run.outcome).toMatchObject({ action: 'created', number: 2 });
    expect(gh.issues[0]).toMatchObject({ body: 'please', state: 'open' });
  });

  it('on a locked issue, rewrites the body, makes no comment it cannot, and says what it did', async () => {
    const gh = await github();
    await track(gh, two);
    gh.issues[0]!.locked = true;
    const run = await track(gh, changed);
    expect(run.outcome).toMatchObject({ action: 'updated', number: 1, changed: true });
    expect(gh.issues[0]!.body).toContain('carol');
    expect(posts(gh, COMMENT)).toEqual([]);
    expect(run.warnings).toEqual([]);
    expect(run.info).toContain('Tracking issue #1 is locked, so what changed is not commented on; its body has it.');

    const resolved = await track(gh, none);
    expect(resolved.outcome).toMatchObject({ action: 'closed', number: 1, changed: true });
    expect(gh.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(gh.issues[0]!.body).toContain('✅ **No stale access keys remain');
    expect(gh.issues[0]!.body).not.toContain('carol');
    expect(posts(gh, COMMENT)).toEqual([]);
    expect(posts(gh, PATCH).at(-1)!.body).toMatchObject({ state: 'closed', state_reason: 'completed' });
  });

  it('on an issue locked after it was read, still rewrites the body', async () => {
    const gh = await github({
      failures: {
        [COMMENT]: [{ status: 403, body: { message: 'Unable to create comment because issue is locked.' } }],
      },
    });
    gh.addIssue({ title: 'placeholder' }); // the issue below is #2
    gh.issues[0]!.state = 'closed';
    await track(gh, two, {}, {});
    const run = await track(gh, changed);
    expect(run.outcome).toMatchObject({ action: 'updated', number: 2, changed: true });
    expect(gh.issues[1]!.body).toContain('carol');
    expect(run.warnings).toEqual([]);
  });
});

describe('a run that stops part-way', () => {
  it('announces before it rewrites the body, so the next run finishes without announcing twice', async () => {
    const gh = await github({
      failures: { [PATCH]: [{ status: 500 }, { status: 500 }, { status: 500 }] },
    });
    await track(gh, two);
    const first = await track(gh, changed);
    expect(first.outcome).toMatchObject({ action: 'failed', number: 1, changed: true });
    expect(first.outcome.problem).toMatch(/^GitHub answered 500 to PATCH \/repos\/.+\/issues\/1/);
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]).toMatch(
      /^Tracking issue #1 was not updated: GitHub answered 500 to PATCH .*\. The next run will update it; the scan's results are complete\.$/,
    );
    expect(comments(gh, 1)).toHaveLength(1);
    expect(gh.issues[0]!.body).not.toContain('carol');

    const second = await track(gh, changed);
    expect(second.outcome).toMatchObject({ action: 'updated', changed: false });
    expect(comments(gh, 1)).toHaveLength(1);
    expect(gh.issues[0]!.body).toContain('carol');
  });

  it('reports a created issue when GitHub created it and its answer was lost, and opens no second one', async () => {
    const gh = await github({ failures: { [CREATE]: [{ status: 502, afterHandling: true }] } });
    const run = await track(gh, two);
    expect(run.outcome).toMatchObject({ action: 'created', number: 1, changed: true });
    expect(gh.issues).toHaveLength(1);
    expect(posts(gh, CREATE)).toHaveLength(1);
    expect(run.warnings).toEqual([]);
    expect(run.info).toContain('GitHub had opened it: #1.');
  });

  it('the same when the create timed out after GitHub had done it', async () => {
    const gh = await github({ failures: { [CREATE]: [{ status: 0, hang: true, afterHandling: true }] } });
    const run = await track(gh, two, {}, { requestTimeoutMs: 200 });
    expect(run.outcome).toMatchObject({ action: 'created', number: 1 });
    expect(gh.issues).toHaveLength(1);
    expect(run.info.join('\n')).toContain('GitHub gave no answer in 200 ms to POST /repos/octo-org/security/issues');
  });

  it('creates again after looking, when the lost answer hid a failure', async () => {
    const gh = await github({ failures: { [CREATE]: [{ status: 502 }] } });
    const run = await track(gh, two);
    expect(run.outcome).toMatchObject({ action: 'created', number: 1 });
    expect(posts(gh, CREATE).map((r) => r.status)).toEqual([502, 201]);
    expect(gh.issues).toHaveLength(1);
  });

  it('reports the issue it created when GitHub stops answering afterwards', async () => {
    const gh = await github({
      failures: {
        // The lookups before the create answer (by the account's label, among issues opened before
        // account labels, among unlabelled ones, the closed one to link); the one after it never does.
        'GET /repos/{owner}/{repo}/issues': [
          { status: 200, pass: true },
          { status: 200, pass: true },
          { status: 200, pass: true },
          { status: 200, pass: true },
          { status: 0, hang: true },
        ],
      },
    });
    const run = await track(gh, two, {}, { requestTimeoutMs: 5_000, deadlineMs: 1_500 });
    expect(run.outcome).toMatchObject({ action: 'created', number: 1, changed: true });
    expect(run.warnings).toEqual([
      "The run created tracking issue #1 but could not finish: the 1.5 s allowed for GitHub ran out. The next run will finish it; the scan's results are complete.",
    ]);
    expect(run.ms).toBeLessThan(2_500);
  });
});

describe('a GitHub that never answers', () => {
  it('ends the stage within the bound, says nobody answered, and reports that nothing was done', async () => {
    const gh = await github({ neverAnswer: true });
    const run = await track(gh, two, {}, { requestTimeoutMs: 150, deadlineMs: 3_000 });
    // 3 attempts of 150 ms and two short pauses, then one warning.
    expect(run.ms).toBeLessThan(1_500);
    expect(run.outcome).toEqual({
      action: 'failed',
      number: null,
      url: null,
      changed: null,
      problem: 'GitHub gave no answer in 150 ms to GET /repos/octo-org/security/issues',
    });
    expect(run.warnings).toEqual([
      "The tracking issue was not updated: GitHub gave no answer in 150 ms to GET /repos/octo-org/security/issues. The next run will update it; the scan's results are complete.",
    ]);
    expect(gh.waiting()).toBe(0);
  });

  it('stops at the deadline with the requests in flight aborted', async () => {
    const gh = await github({ neverAnswer: true });
    const run = await track(gh, two, {}, { requestTimeoutMs: 30_000, deadlineMs: 400 });
    expect(run.ms).toBeLessThan(1_000);
    expect(run.outcome).toMatchObject({ action: 'failed', changed: null });
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(/^The tracking issue was not updated: the 400 ms allowed for GitHub ran out\./);
    await new Promise((r) => setTimeout(r, 50));
    expect(gh.waiting()).toBe(0);
    expect(gh.requests).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('gives up with a clear message when the wait GitHub asks for does not fit in the time left', async () => {
    const gh = await github({
      failures: {
        'GET /repos/{owner}/{repo}/issues': [
          {
            status: 403,
            body: { message: 'You have exceeded a secondary rate limit.' },
            headers: { 'retry-after': '120' },
          },
        ],
      },
    });
    const run = await track(gh, two, {}, { throttle: true, retryUnitMs: 10, deadlineMs: 1_000 });
    expect(run.ms).toBeLessThan(500);
    expect(run.outcome).toMatchObject({ action: 'failed' });
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(
      /^The tracking issue was not updated: GitHub's secondary rate limit stopped GET \/repos\/octo-org\/security\/issues and asks to wait 1\.2 s, more than the [\d.]+ (ms|s) left\. The next run/,
    );
  });

  it('waits when the wait fits, and carries on', async () => {
    const gh = await github({
      failures: {
        'GET /repos/{owner}/{repo}/issues': [
          {
            status: 403,
            body: { message: 'You have exceeded a secondary rate limit.' },
            headers: { 'retry-after': '20' },
          },
        ],
      },
    });
    const run = await track(gh, two, {}, { throttle: true, retryUnitMs: 10, deadlineMs: 10_000 });
    expect(run.outcome).toMatchObject({ action: 'created' });
    expect(run.warnings).toEqual([]);
    expect(gh.requests[0]).toMatchObject({ status: 403 });
    expect(gh.requests[1]!.at - gh.requests[0]!.at).toBeGreaterThanOrEqual(190);
  });
});

describe('overlapping runs', () => {
  const overlap = (gh: FakeGithub) => {
    gh.holdNext('GET /repos/{owner}/{repo}/issues', 5);
    gh.holdNext('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', 5);
  };

  it('of five whose keys changed leave one announcement, and exactly one says it changed', async () => {
    const gh = await github({ latencyMs: 10 });
    await track(gh, two);
    overlap(gh);
    const runs = await Promise.all(Array.from({ length: 5 }, () => track(gh, changed)));
    expect(runs.map((r) => r.outcome.action)).toEqual(Array(5).fill('updated'));
    expect(runs.filter((r) => r.outcome.changed === true)).toHaveLength(1);
    expect(runs.filter((r) => r.outcome.changed === false)).toHaveLength(4);
    const announced = comments(gh, 1).filter((c) => parseAnnouncement(c) !== null);
    expect(announced).toHaveLength(1);
    // All five posted it; four took theirs back.
    expect(posts(gh, COMMENT)).toHaveLength(5);
    expect(posts(gh, 'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}')).toHaveLength(4);
    expect(open(gh)).toHaveLength(1);
    expect(gh.issues[0]!.body).toContain('carol');
  });

  it('of five that resolve every key close once and announce once', async () => {
    const gh = await github({ latencyMs: 10 });
    await track(gh, two);
    overlap(gh);
    const runs = await Promise.all(Array.from({ length: 5 }, () => track(gh, none)));
    expect(runs.map((r) => r.outcome.action)).toEqual(Array(5).fill('closed'));
    expect(runs.filter((r) => r.outcome.changed === true)).toHaveLength(1);
    expect(comments(gh, 1).filter((c) => c.startsWith('✅'))).toHaveLength(1);
  });
});

describe('incomplete scans', () => {
  it('never close the issue, and keep the keys they could not see', async () => {
    const gh = await github();
    await track(gh, two);
    const coverage: Coverage = {
      gaps: [
        { what: 'The access keys of alice were not checked', fix: 'Grant iam:ListAccessKeys', couldHideStale: true },
      ],
      unseenUsers: new Set(['alice']),
      rootChecked: true,
    };
    const blind: ScanResult = { ...none, inventory: { ...none.inventory, coverage } };
    const run = await track(gh, blind);
    expect(run.outcome).toMatchObject({ action: 'updated', changed: true });
    expect(gh.issues[0]!.state).toBe('open');
    expect(gh.issues[0]!.body).toContain('(`alice`, not checked in the last scan)');
    const [comment] = comments(gh, 1);
    expect(comment).toContain('**Resolved (1):**\n- `AKIA0120BOBQQQQQQQQQ` (`bob`)');
    expect(comment).not.toContain('ALICE');
  });
});

describe('what a run costs', () => {
  it('does not grow with the history of the repository or the length of the issue', async () => {
    const gh = await github();
    for (let i = 0; i < 300; i++) {
      gh.addIssue({
        title: 'Stale AWS access keys in prod (111111111111)',
        body: '<!-- iam-stale-keys:tracking {"v":1,"account":"111111111111","digest":"x","count":1,"keys":{}} -->',
        labels: ['security', 'stale-access-keys'],
        state: 'closed',
      });
    }
    const first = await track(gh, two);
    expect(first.outcome).toMatchObject({ action: 'created', number: 301 });
    expect(gh.issues[300]!.body).toContain('Previously tracked in #300.');
    for (let i = 0; i < 1_000; i++) gh.addComment(301, `a person's comment ${i}`);

    gh.requests.length = 0;
    expect((await track(gh, two)).outcome.action).toBe('unchanged');
    expect(gh.requests).toHaveLength(1);

    gh.requests.length = 0;
    expect((await track(gh, changed)).outcome).toMatchObject({ action: 'updated', changed: true });
    // List, newest comments, comment, newest comments again, body.
    expect(gh.requests.length).toBeLessThanOrEqual(7);
  });
});

describe('the hook before the body is rendered', () => {
  /** A hook that records what it was given and returns `then(result)`. */
  function hook(then: (r: ScanResult) => ScanResult = (r) => r) {
    const calls: Array<{ result: ScanResult; previous: Marker | null; days: Map<string, string> }> = [];
    const beforeRender = async (result: ScanResult, previous: Marker | null) => {
      calls.push({ result, previous, days: firstListed(previous, result) });
      return then(result);
    };
    return { calls, beforeRender };
  }

  it('learns the marker of the issue it read, and what it returns is what the issue shows', async () => {
    const gh = await github();
    const opening = hook();
    await track(gh, two, {}, {}, { beforeRender: opening.beforeRender });
    // No issue yet: no marker, every key listed from today.
    expect(opening.calls).toHaveLength(1);
    expect(opening.calls[0]!.previous).toBeNull();
    expect([...opening.calls[0]!.days.values()]).toEqual(['2026-11-21', '2026-11-21']);

    const written = parseMarker(gh.issues[0]!.body);
    // The run acted on the notice: carol's key is gone from what it reports.
    const acting = hook(() => scanResult([key('bob', 120)]));
    const run = await track(gh, changed, {}, {}, { beforeRender: acting.beforeRender });
    expect(acting.calls).toHaveLength(1);
    expect(acting.calls[0]!.previous).toEqual(written);
    expect(acting.calls[0]!.result).toBe(changed);
    expect(run.outcome).toMatchObject({ action: 'updated', changed: true });
    const body = gh.issues[0]!.body!;
    expect(body).toContain('`AKIA0120BOBQQQQQQQQQ`');
    expect(body).not.toMatch(/CAROL|ALICE/);
    expect(parseMarker(body)).toMatchObject({ count: 1 });
    expect(comments(gh, 1).at(-1)).toContain('**Resolved (1):**\n- `AKIA0213ALICEQQQQQQQ` (`alice`)');
  });

  it('is not called for an account with nothing listed and no issue', async () => {
    const gh = await github();
    const h = hook();
    expect((await track(gh, none, {}, {}, { beforeRender: h.beforeRender })).outcome.action).toBe('none');
    expect(h.calls).toEqual([]);
  });

  it('is called for each account of a run over many, with its own marker', async () => {
    const gh = await github();
    await track(gh, two);
    const h = hook();
    const api = createIssuesApi({
      token: TOKEN,
      owner: gh.owner,
      repo: gh.repo,
      baseUrl: gh.url,
      retryUnitMs: 5,
      deadlineMs: 10_000,
      throttle: false,
      info: () => {},
    });
    const other = { ...changed, account: { ...changed.account, id: '222222222222', alias: null } };
    const outcomes = await syncTrackingIssues(
      api,
      [changed, other],
      {
        titleTemplate: 'Stale AWS access keys in {account}',
        labels: ['security', 'stale-access-keys'],
        assignees: [],
        closeResolved: true,
        keyId: fullKeyId,
        runUrl: null,
      },
      { info: () => {}, warning: () => {} },
      { beforeRender: h.beforeRender },
    );
    expect(outcomes.map((o) => o.action)).toEqual(['updated', 'created']);
    const byAccount = new Map(h.calls.map((c) => [c.result.account.id, c.previous]));
    expect(byAccount.get('111111111111')).toMatchObject({ account: '111111111111', count: 2 });
    expect(byAccount.get('222222222222')).toBeNull();
  });
});
