/**
 * The bounded GitHub client (src/tracking-issue/github-client.ts via the issues API) against the loopback fake:
 * time-outs, the deadline, bounded retries, rate limits and the write queue, with small units so
 * the tests run in about a second each.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createIssuesApi, type IssuesApi, type IssuesApiOptions } from '../../src/tracking-issue/issues-api.js';
import { DeadlineError, WriteBudgetError } from '../../src/tracking-issue/github-client.js';
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from '../fakes/github.js';

const TOKEN = 'ghs_integrationToken000000000000000000';
let fake: FakeGithub | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  github: FakeGithubOptions = {},
  client: Partial<IssuesApiOptions> = {},
): Promise<{ gh: FakeGithub; api: IssuesApi; log: string[] }> {
  fake = await startFakeGithub(github);
  const log: string[] = [];
  const api = createIssuesApi({
    token: TOKEN,
    owner: fake.owner,
    repo: fake.repo,
    baseUrl: fake.url,
    requestTimeoutMs: 200,
    retryUnitMs: 10,
    deadlineMs: 5_000,
    info: (m) => log.push(m),
    ...client,
  });
  return { gh: fake, api, log };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as Error,
  );
}

describe('a GitHub that accepts connections and never answers', () => {
  it('gets a bounded number of timed-out attempts, said as what happened', async () => {
    const { gh, api, log } = await setup({ neverAnswer: true });
    const started = Date.now();
    const err = await failure(api.listOpen(['security']));
    const elapsed = Date.now() - started;
    // 3 attempts of 200 ms, with pauses of 10 and 40 ms between them.
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(elapsed).toBeLessThan(1_500);
    expect(err.message).toBe(`GitHub gave no answer in 200 ms to GET /repos/${gh.owner}/${gh.repo}/issues`);
    expect(gh.requests.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(log).toEqual([
      `GitHub gave no answer in 200 ms to GET /repos/${gh.owner}/${gh.repo}/issues; trying again in 10 ms.`,
      `GitHub gave no answer in 200 ms to GET /repos/${gh.owner}/${gh.repo}/issues; trying again in 40 ms.`,
    ]);
    expect(api.lastProblem()).toBe(`GitHub gave no answer in 200 ms to GET /repos/${gh.owner}/${gh.repo}/issues`);
    expect(log.join('\n')).not.toMatch(/answered 500|ghs_/);
    expect(gh.waiting()).toBe(0);
  });

  it('stops at the deadline, aborting the request in flight, and sends nothing after it', async () => {
    const { gh, api } = await setup({ neverAnswer: true }, { requestTimeoutMs: 30_000, deadlineMs: 300 });
    const started = Date.now();
    const err = await failure(api.deadline.race(api.listOpen(['security'])));
    expect(Date.now() - started).toBeLessThan(800);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err.message).toBe('the 300 ms allowed for GitHub ran out');
    // The aborted request's connection is closed: nothing keeps the process alive.
    await new Promise((r) => setTimeout(r, 50));
    expect(gh.waiting()).toBe(0);
    const late = await failure(api.listOpen(['security']));
    expect(late).toBeInstanceOf(DeadlineError);
    expect(late.message).toMatch(/ran out; GET \/repos\/.+\/issues was not sent$/);
    expect(gh.requests).toHaveLength(1);
  });

  it('does not retry when the pause would not leave time for another attempt', async () => {
    const { gh, api, log } = await setup({ neverAnswer: true }, { retryUnitMs: 1_000, deadlineMs: 1_500 });
    const started = Date.now();
    const err = await failure(api.deadline.race(api.listOpen([])));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.message).toMatch(/^GitHub gave no answer in 200 ms/);
    expect(gh.requests).toHaveLength(1);
    expect(log.at(-1)).toMatch(/; no time left to try again\.$/);
  });
});

describe('answers that fail', () => {
  it('retries a 5xx a bounded number of times', async () => {
    const { gh, api } = await setup({
      failures: {
        'GET /repos/{owner}/{repo}/issues': [{ status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }],
      },
    });
    const err = await failure(api.listOpen([]));
    expect(err.message).toMatch(/^Bad Gateway/);
    expect(gh.requests.map((r) => r.status)).toEqual([502, 502, 502]);
    expect(await api.listOpen([])).toEqual([]);
  });

  it('never retries creating an issue or a comment: GitHub may have done it', async () => {
    const { gh, api } = await setup(
      {
        failures: {
          'POST /repos/{owner}/{repo}/issues': [{ status: 502, afterHandling: true }],
          'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': [{ status: 504, afterHandling: true }],
        },
      },
      { throttle: false },
    );
    await failure(api.createIssue({ title: 't', body: 'b', labels: [], assignees: [] }));
    expect(gh.issues).toHaveLength(1);
    await failure(api.addComment(1, 'hello'));
    expect(gh.comments.get(1)).toHaveLength(1);
    expect(gh.writes().map((w) => w.status)).toEqual([502, 504]);
  });

  it('waits out a secondary rate limit without retry-after for the minute GitHub asks', async () => {
    const { gh, api, log } = await setup({
      failures: {
        'PATCH /repos/{owner}/{repo}/issues/{issue_number}': [
          { status: 403, body: { message: 'You have exceeded a secondary rate limit.' } },
        ],
      },
    });
    gh.addIssue({ title: 't' });
    const started = Date.now();
    await api.updateIssue(1, { body: 'new' });
    // 60 "seconds" of 10 ms each.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(gh.issues[0]!.body).toBe('new');
    expect(log).toContain(
      `GitHub's secondary rate limit stopped PATCH /repos/${gh.owner}/${gh.repo}/issues/1; waiting 600 ms as GitHub asks, then trying again.`,
    );
  });

  it('honours x-ratelimit-reset when it fits, and gives up at once when it does not', async () => {
    const reset = () => String(Math.floor(Date.now() / 1000) + 3_600);
    const { gh, api } = await setup({
      failures: {
        'GET /repos/{owner}/{repo}/labels/{name}': [
          {
            status: 403,
            body: { message: 'API rate limit exceeded for installation.' },
            headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset() },
          },
        ],
      },
    });
    const started = Date.now();
    const err = await failure(api.ensureLabel('security'));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.message).toMatch(/API rate limit exceeded/);
    expect(api.lastProblem()).toMatch(
      /^GitHub's rate limit stopped GET \/repos\/.+\/labels\/security and asks to wait 36(\.\d)? s, more than the [\d.]+ s left$/,
    );
    expect(gh.requests).toHaveLength(1);
  });

  it('waits for x-ratelimit-reset when it fits in the time left', async () => {
    const { gh, api, log } = await setup({
      failures: {
        'GET /repos/{owner}/{repo}/labels/{name}': [
          {
            status: 403,
            body: { message: 'API rate limit exceeded for installation.' },
            headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 20) },
          },
        ],
      },
    });
    gh.addLabel({ name: 'security' });
    await api.ensureLabel('security');
    expect(gh.requests.map((r) => r.status)).toEqual([403, 200]);
    // About 21 "seconds" of 10 ms each, as GitHub's reset time says.
    expect(gh.requests[1]!.at - gh.requests[0]!.at).toBeGreaterThanOrEqual(150);
    expect(log[0]).toMatch(
      /^GitHub's rate limit stopped GET \/repos\/.+\/labels\/security; waiting 2\d\d ms as GitHub asks/,
    );
  });

  it('waits out a rate limit twice at most', async () => {
    const limited = {
      status: 429,
      body: { message: 'You have exceeded a secondary rate limit.' },
      headers: { 'retry-after': '1' },
    };
    const { gh, api } = await setup({
      failures: { 'GET /repos/{owner}/{repo}/issues': [limited, limited, limited, limited] },
    });
    const err = await failure(api.listOpen([]));
    expect(err.message).toMatch(/secondary rate limit/);
    expect(gh.requests.map((r) => r.status)).toEqual([429, 429, 429]);
    expect(api.lastProblem()).toBe(
      `GitHub's secondary rate limit stopped GET /repos/${gh.owner}/${gh.repo}/issues 3 times`,
    );
  });

  it('queues writes one at a time, a second apart', async () => {
    const { gh, api } = await setup({}, { retryUnitMs: 1_000 });
    gh.addIssue({ title: 't' });
    await Promise.all([api.updateIssue(1, { body: 'x' }), api.updateIssue(1, { body: 'y' }), api.listOpen([])]);
    const writes = gh.writes().map((w) => w.at);
    expect(writes).toHaveLength(2);
    expect(writes[1]! - writes[0]!).toBeGreaterThanOrEqual(950);
    // Reads do not wait for the write queue.
    expect(gh.requests.find((r) => r.method === 'GET')!.at).toBeLessThan(writes[1]!);
  });
});

describe('bounded reads', () => {
  it('reads the newest comments of a long issue in at most three requests', async () => {
    const { gh, api } = await setup();
    gh.addIssue({ title: 't' });
    for (let i = 1; i <= 1_030; i++) gh.addComment(1, `c${i}`);
    const newest = await api.newestComments(1, 1_000); // the count is behind: the last page moved on
    expect(newest.at(-1)?.body).toBe('c1030');
    expect(newest.length).toBeGreaterThanOrEqual(50);
    expect(newest.map((c) => c.body)).toContain('c1000');
    expect(gh.requests.length).toBeLessThanOrEqual(3);

    gh.requests.length = 0;
    const shorter = await api.newestComments(1, 2_000); // the count is ahead: comments were deleted
    expect(shorter.at(-1)?.body).toBe('c1030');
    expect(gh.requests.length).toBeLessThanOrEqual(3);
  });
});

describe("the write budget and GitHub's rate limit", () => {
  it("sends no write once the run's budget is spent, and says so; reads go on", async () => {
    const { gh, api } = await setup({}, { writeBudget: 3, throttle: false });
    gh.addIssue({ title: 't' });
    for (const body of ['a', 'b', 'c']) await api.updateIssue(1, { body });
    expect(api.writes.sent()).toBe(3);
    expect(api.writes.remaining()).toBe(0);
    const err = await failure(api.updateIssue(1, { body: 'd' }));
    expect(err).toBeInstanceOf(WriteBudgetError);
    expect(err.message).toBe(
      `the write budget of this run (3 content-creating requests) was spent; PATCH /repos/${gh.owner}/${gh.repo}/issues/1 was not sent`,
    );
    expect(gh.writes()).toHaveLength(3);
    expect(gh.issues[0]!.body).toBe('c');
    expect(await api.listOpen([])).toHaveLength(1);
  });

  it('counts a retried write against the budget: GitHub saw it', async () => {
    const { gh, api } = await setup(
      { failures: { 'PATCH /repos/{owner}/{repo}/issues/{issue_number}': [{ status: 502 }] } },
      { writeBudget: 5, throttle: false },
    );
    gh.addIssue({ title: 't' });
    await api.updateIssue(1, { body: 'x' });
    expect(gh.writes().map((w) => w.status)).toEqual([502, 200]);
    expect(api.writes.sent()).toBe(2);
  });

  it('knows what is left of the rate limit from every answer', async () => {
    const { api } = await setup({ requestsPerHour: 10 });
    expect(api.rateLimit()).toBeNull();
    await api.listOpen([]);
    await api.listOpen([]);
    const rate = api.rateLimit()!;
    expect(rate.remaining).toBe(8);
    expect(rate.resetAt).toBeGreaterThan(Date.now());
  });

  it("gives up at once when the hour's requests are spent and the reset is far", async () => {
    const { gh, api } = await setup({ requestsPerHour: 2 }, { retryUnitMs: 1_000 });
    await api.listOpen([]);
    await api.listOpen([]);
    const err = await failure(api.listOpen([]));
    expect(err.message).toMatch(/^API rate limit exceeded for installation ID \d+\./);
    expect(api.lastProblem()).toMatch(/^GitHub's rate limit stopped GET \/repos\/.+\/issues and asks to wait/);
    expect(gh.requests.map((r) => r.limited ?? r.status)).toEqual([200, 200, 'primary']);
  });
});
