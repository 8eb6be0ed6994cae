/**
 * Drives the loopback GitHub fake with a real Octokit (the one the action uses) to prove it
 * behaves like GitHub: shapes, pagination, validation errors and the injected faults.
 */
import { getOctokit } from '@actions/github';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGithub } from '../fakes/github.js';
import type { FakeGithub, FakeGithubOptions } from '../fakes/github.js';

type Octokit = ReturnType<typeof getOctokit>;

let fake: FakeGithub | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  opts: FakeGithubOptions = {},
): Promise<{ gh: FakeGithub; octokit: Octokit; repo: { owner: string; repo: string } }> {
  fake = await startFakeGithub(opts);
  const octokit = getOctokit('ghs_fake-token', { baseUrl: fake.url });
  return { gh: fake, octokit, repo: { owner: fake.owner, repo: fake.repo } };
}

/** The parts of Octokit's RequestError the tests look at. */
interface CaughtRequestError {
  status: number;
  message: string;
  response?: {
    data: { message?: string; documentation_url?: string; errors?: unknown[]; status?: string };
    headers: Record<string, string | undefined>;
  };
}

/** Awaits a promise expected to reject with Octokit's RequestError and returns it. */
async function requestError(promise: Promise<unknown>): Promise<CaughtRequestError> {
  const err: unknown = await promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).name).toBe('HttpError');
  return err as CaughtRequestError;
}

describe('fake GitHub: repository', () => {
  it('answers the repository with GitHub fields', async () => {
    const { octokit, repo } = await setup({ owner: 'acme', repo: 'infra', private: true });
    const { data } = await octokit.rest.repos.get(repo);
    expect(data).toMatchObject({
      name: 'infra',
      full_name: 'acme/infra',
      private: true,
      visibility: 'private',
      html_url: 'https://github.com/acme/infra',
      owner: { login: 'acme' },
    });
    expect(typeof data.id).toBe('number');
    expect(typeof data.owner.id).toBe('number');
  });

  it('answers 404 for another repository and 401 without a token', async () => {
    const { gh, octokit } = await setup();
    const err = await requestError(octokit.rest.repos.get({ owner: 'someone', repo: 'else' }));
    expect(err.status).toBe(404);

    const res = await fetch(`${gh.url}/repos/${gh.owner}/${gh.repo}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: 'Requires authentication' });
    const bearer = await fetch(`${gh.url}/repos/${gh.owner}/${gh.repo}`, {
      headers: { authorization: 'Bearer abc' },
    });
    expect(bearer.status).toBe(200);
  });
});

describe('fake GitHub: listing issues', () => {
  it('paginates 250 issues with octokit.paginate, pull requests included', async () => {
    const { gh, octokit, repo } = await setup();
    for (let n = 1; n <= 250; n++) {
      gh.addIssue({
        title: `finding ${n}`,
        labels: ['stale-keys', ...(n % 2 === 0 ? ['security'] : [])],
        state: n % 5 === 0 ? 'closed' : 'open',
        pullRequest: n % 10 === 0,
      });
    }
    gh.addIssue({ title: 'unrelated', labels: ['bug'] });

    const all = await octokit.paginate(octokit.rest.issues.listForRepo, {
      ...repo,
      labels: 'stale-keys',
      state: 'all',
      per_page: 100,
    });
    expect(all).toHaveLength(250);
    expect(new Set(all.map((i) => i.number)).size).toBe(250);
    const prs = all.filter((i) => i.pull_request !== undefined);
    expect(prs).toHaveLength(25);
    expect(prs[0]?.html_url).toMatch(/\/pull\/\d+$/);
    // Default order: created, newest first.
    expect(all[0]?.title).toBe('finding 250');
    expect(all.at(-1)?.title).toBe('finding 1');

    const pages = gh.requests.filter((r) => r.route === 'GET /repos/{owner}/{repo}/issues');
    expect(pages.map((r) => r.query['page'] ?? '1')).toEqual(['1', '2', '3']);
    expect(pages.every((r) => r.query['labels'] === 'stale-keys')).toBe(true);

    const open = await octokit.paginate(octokit.rest.issues.listForRepo, {
      ...repo,
      labels: 'stale-keys',
      per_page: 100,
    });
    expect(open).toHaveLength(200);
    expect(open.every((i) => i.state === 'open')).toBe(true);
  });

  it('sets GitHub-style Link headers', async () => {
    const { gh, octokit, repo } = await setup();
    for (let n = 1; n <= 7; n++) gh.addIssue({ title: `i${n}`, labels: ['a b'] });

    const first = await octokit.rest.issues.listForRepo({ ...repo, labels: 'a b', per_page: 3 });
    expect(first.data).toHaveLength(3);
    const base = `${gh.url}/repos/${gh.owner}/${gh.repo}/issues?labels=a+b&per_page=3`;
    expect(first.headers.link).toBe(`<${base}&page=2>; rel="next", <${base}&page=3>; rel="last"`);

    const middle = await octokit.rest.issues.listForRepo({ ...repo, per_page: 3, page: 2 });
    expect(middle.headers.link).toMatch(
      /^<[^>]*page=1>; rel="prev", <[^>]*page=3>; rel="next", <[^>]*page=3>; rel="last", <[^>]*page=1>; rel="first"$/,
    );
    const last = await octokit.rest.issues.listForRepo({ ...repo, per_page: 3, page: 3 });
    expect(last.data).toHaveLength(1);
    expect(last.headers.link).not.toContain('rel="next"');

    const single = await octokit.rest.issues.listForRepo({ ...repo, per_page: 100 });
    expect(single.headers.link).toBeUndefined();
    const capped = await octokit.rest.issues.listForRepo({ ...repo, per_page: 500 });
    expect(capped.data).toHaveLength(7);
    const byDefault = await octokit.rest.issues.listForRepo(repo);
    expect(byDefault.data).toHaveLength(7);
  });

  it('requires every requested label (case-insensitively)', async () => {
    const { gh, octokit, repo } = await setup();
    gh.addIssue({ title: 'both', labels: ['stale-keys', 'aws'] });
    gh.addIssue({ title: 'one', labels: ['stale-keys'] });
    gh.addIssue({ title: 'other', labels: ['aws'] });

    const both = await octokit.rest.issues.listForRepo({ ...repo, labels: 'stale-keys,AWS' });
    expect(both.data.map((i) => i.title)).toEqual(['both']);
    const one = await octokit.rest.issues.listForRepo({ ...repo, labels: 'stale-keys' });
    expect(one.data.map((i) => i.title).sort()).toEqual(['both', 'one']);
    const none = await octokit.rest.issues.listForRepo({ ...repo, labels: 'missing' });
    expect(none.data).toEqual([]);
  });

  it('sorts by created or updated, in either direction', async () => {
    const { gh, octokit, repo } = await setup();
    gh.addIssue({ title: 'first' });
    gh.addIssue({ title: 'second' });
    gh.addIssue({ title: 'third' });
    await octokit.rest.issues.update({ ...repo, issue_number: 1, body: 'touched' });

    const asc = await octokit.rest.issues.listForRepo({ ...repo, direction: 'asc' });
    expect(asc.data.map((i) => i.title)).toEqual(['first', 'second', 'third']);
    const updated = await octokit.rest.issues.listForRepo({ ...repo, sort: 'updated' });
    expect(updated.data.map((i) => i.title)).toEqual(['first', 'third', 'second']);
  });
});

describe('fake GitHub: issues', () => {
  it('creates an issue with GitHub fields, auto-creating unknown labels', async () => {
    const { gh, octokit, repo } = await setup();
    gh.addIssue({ title: 'seeded' });
    const { status, data } = await octokit.rest.issues.create({
      ...repo,
      title: 'Stale IAM access keys',
      body: 'report',
      labels: ['stale-keys', 'security'],
      assignees: ['alice'],
    });
    expect(status).toBe(201);
    expect(data).toMatchObject({
      number: 2,
      title: 'Stale IAM access keys',
      body: 'report',
      state: 'open',
      state_reason: null,
      user: { login: 'github-actions[bot]' },
      assignees: [{ login: 'alice' }],
      html_url: `https://github.com/${gh.owner}/${gh.repo}/issues/2`,
      comments: 0,
      closed_at: null,
    });
    expect(data.labels).toEqual([
      expect.objectContaining({ name: 'stale-keys', color: 'ededed', description: null }),
      expect.objectContaining({ name: 'security' }),
    ]);
    expect(data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(data.created_at)).toBeGreaterThan(Date.parse(gh.issues[0]!.created_at));
    expect(gh.labels.get('stale-keys')?.name).toBe('stale-keys');

    const got = await octokit.rest.issues.get({ ...repo, issue_number: 2 });
    expect(got.data).toEqual(data);
    expect(gh.writes()).toHaveLength(1);
    expect(gh.writes()[0]).toMatchObject({
      method: 'POST',
      route: 'POST /repos/{owner}/{repo}/issues',
      status: 201,
      body: { title: 'Stale IAM access keys' },
    });
  });

  it('refuses unknown labels with refuseUnknownLabels', async () => {
    const { gh, octokit, repo } = await setup({ refuseUnknownLabels: true });
    gh.addLabel({ name: 'stale-keys', color: 'd73a4a' });
    const err = await requestError(octokit.rest.issues.create({ ...repo, title: 't', labels: ['stale-keys', 'nope'] }));
    expect(err.status).toBe(422);
    expect(err.response?.data.message).toBe('Validation Failed');
    expect(gh.issues).toHaveLength(0);
    const ok = await octokit.rest.issues.create({ ...repo, title: 't', labels: ['Stale-Keys'] });
    expect(ok.data.labels).toEqual([expect.objectContaining({ name: 'stale-keys', color: 'd73a4a' })]);
  });

  it('drops labels silently without push access, and refuses creating labels', async () => {
    const { gh, octokit, repo } = await setup({ noLabelPermission: true });
    const { data } = await octokit.rest.issues.create({ ...repo, title: 't', labels: ['x'] });
    expect(data.labels).toEqual([]);
    expect(gh.labels.size).toBe(0);
    const err = await requestError(octokit.rest.issues.createLabel({ ...repo, name: 'x' }));
    expect(err.status).toBe(403);
  });

  it('updates, closes with a state_reason and reopens', async () => {
    const { gh, octokit, repo } = await setup();
    const { data: created } = await octokit.rest.issues.create({
      ...repo,
      title: 'a',
      labels: ['x'],
    });
    const n = created.number;

    const edited = await octokit.rest.issues.update({
      ...repo,
      issue_number: n,
      title: 'b',
      body: 'new body',
      labels: ['y', 'x'],
    });
    expect(edited.status).toBe(200);
    expect(edited.data).toMatchObject({ title: 'b', body: 'new body', state: 'open' });
    expect(edited.data.labels.map((l) => (typeof l === 'string' ? l : l.name))).toEqual(['y', 'x']);
    expect(Date.parse(edited.data.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));

    const closed = await octokit.rest.issues.update({
      ...repo,
      issue_number: n,
      state: 'closed',
      state_reason: 'not_planned',
    });
    expect(closed.data).toMatchObject({ state: 'closed', state_reason: 'not_planned' });
    expect(closed.data.closed_at).toBe(closed.data.updated_at);

    const reopened = await octokit.rest.issues.update({ ...repo, issue_number: n, state: 'open' });
    expect(reopened.data).toMatchObject({
      state: 'open',
      state_reason: 'reopened',
      closed_at: null,
    });

    const completed = await octokit.rest.issues.update({
      ...repo,
      issue_number: n,
      state: 'closed',
    });
    expect(completed.data.state_reason).toBe('completed');
    expect(gh.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });

    const bad = await requestError(
      octokit.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
        ...repo,
        issue_number: n,
        state_reason: 'wontfix' as never, // deliberately not a GitHub value
      }),
    );
    expect(bad.status).toBe(422);
    const missing = await requestError(octokit.rest.issues.get({ ...repo, issue_number: 999 }));
    expect(missing.status).toBe(404);
  });

  it('keeps issue numbers unique under concurrent creates', async () => {
    const { gh, octokit, repo } = await setup({ latencyMs: 20 });
    const other = getOctokit('another-token', { baseUrl: gh.url });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, k) => (k % 2 ? other : octokit).rest.issues.create({ ...repo, title: `t${k}` })),
    );
    expect(new Set(results.map((r) => r.data.number)).size).toBe(10);
    expect(gh.issues).toHaveLength(10);
  });
});

describe('fake GitHub: comments', () => {
  it('creates comments, counts them on the issue and paginates them', async () => {
    const { gh, octokit, repo } = await setup();
    const { data: issue } = await octokit.rest.issues.create({ ...repo, title: 't' });
    const created = await octokit.rest.issues.createComment({
      ...repo,
      issue_number: issue.number,
      body: 'first',
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ body: 'first', user: { login: 'github-actions[bot]' } });
    for (let k = 2; k <= 35; k++) gh.addComment(issue.number, `c${k}`);

    const all = await octokit.paginate(octokit.rest.issues.listComments, {
      ...repo,
      issue_number: issue.number,
    });
    expect(all).toHaveLength(35);
    expect(all[0]?.body).toBe('first');
    expect(all.at(-1)?.body).toBe('c35');
    const { data } = await octokit.rest.issues.get({ ...repo, issue_number: issue.number });
    expect(data.comments).toBe(35);
    expect(gh.comments.get(issue.number)).toHaveLength(35);

    const missing = await requestError(octokit.rest.issues.createComment({ ...repo, issue_number: 404, body: 'x' }));
    expect(missing.status).toBe(404);
  });
});

describe('fake GitHub: labels', () => {
  it('creates, reads and lists labels; a duplicate is 422 already_exists', async () => {
    const { octokit, repo } = await setup();
    const created = await octokit.rest.issues.createLabel({
      ...repo,
      name: 'stale-keys',
      color: 'D93F0B',
      description: 'Stale IAM access keys',
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ name: 'stale-keys', color: 'd93f0b', default: false });

    const dup = await requestError(octokit.rest.issues.createLabel({ ...repo, name: 'Stale-Keys' }));
    expect(dup.status).toBe(422);
    expect(dup.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }],
    });

    const got = await octokit.rest.issues.getLabel({ ...repo, name: 'stale-keys' });
    expect(got.data.description).toBe('Stale IAM access keys');
    const spaced = await octokit.rest.issues.createLabel({ ...repo, name: 'needs triage' });
    const gotSpaced = await octokit.rest.issues.getLabel({ ...repo, name: 'needs triage' });
    expect(gotSpaced.data.id).toBe(spaced.data.id);
    const missing = await requestError(octokit.rest.issues.getLabel({ ...repo, name: 'nope' }));
    expect(missing.status).toBe(404);

    for (let k = 0; k < 40; k++) {
      await octokit.rest.issues.createLabel({ ...repo, name: `l${String(k).padStart(2, '0')}` });
    }
    const all = await octokit.paginate(octokit.rest.issues.listLabelsForRepo, repo);
    expect(all).toHaveLength(42);

    const badColor = await requestError(octokit.rest.issues.createLabel({ ...repo, name: 'c', color: '#ff0000' }));
    expect(badColor.status).toBe(422);
  });
});

describe('fake GitHub: faults', () => {
  it('serves scripted failures before the real answer', async () => {
    const { gh, octokit, repo } = await setup({
      failures: {
        'POST /repos/{owner}/{repo}/issues': [
          { status: 502 },
          {
            status: 403,
            body: { message: 'You have exceeded a secondary rate limit.' },
            headers: { 'retry-after': '1' },
          },
        ],
      },
    });
    const first = await requestError(octokit.rest.issues.create({ ...repo, title: 't' }));
    expect(first.status).toBe(502);
    const second = await requestError(octokit.rest.issues.create({ ...repo, title: 't' }));
    expect(second.status).toBe(403);
    expect(second.message).toContain('secondary rate limit');
    expect(second.response?.headers['retry-after']).toBe('1');
    const third = await octokit.rest.issues.create({ ...repo, title: 't' });
    expect(third.status).toBe(201);
    expect(third.data.number).toBe(1);
    expect(gh.writes().map((w) => w.status)).toEqual([502, 403, 201]);
    expect(gh.issues).toHaveLength(1);
  });

  it('rejects unknown route keys in failures', async () => {
    await expect(
      startFakeGithub({ failures: { 'POST /repos/{owner}/{repo}/issue': [{ status: 500 }] } }),
    ).rejects.toThrow(/unknown route key/);
  });

  it('answers every write with 403 when readOnly', async () => {
    const { gh, octokit, repo } = await setup({ readOnly: true });
    gh.addIssue({ title: 'seeded' });
    const err = await requestError(octokit.rest.issues.create({ ...repo, title: 't' }));
    expect(err.status).toBe(403);
    expect(err.response?.data).toMatchObject({
      message: 'Resource not accessible by integration',
      status: '403',
    });
    expect(err.response?.data.documentation_url).toMatch(/^https:\/\/docs\.github\.com\//);
    const comment = await requestError(octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'x' }));
    expect(comment.status).toBe(403);
    const { data } = await octokit.rest.issues.listForRepo(repo);
    expect(data).toHaveLength(1);
    expect(gh.comments.size).toBe(0);
  });

  it('answers 422 for bodies over 65,536 characters and counts them', async () => {
    const { gh, octokit, repo } = await setup();
    const max = 'x'.repeat(65_536);
    const { data } = await octokit.rest.issues.create({ ...repo, title: 't', body: max });
    expect(data.body).toHaveLength(65_536);
    expect(gh.tooLong).toBe(0);

    const issue = await requestError(
      octokit.rest.issues.update({ ...repo, issue_number: data.number, body: `${max}!` }),
    );
    expect(issue.status).toBe(422);
    expect(issue.message).toContain('body is too long (maximum is 65536 characters)');
    expect(gh.issues[0]?.body).toBe(max);

    const comment = await requestError(
      octokit.rest.issues.createComment({ ...repo, issue_number: data.number, body: `${max}!` }),
    );
    expect(comment.status).toBe(422);
    expect(comment.message).toContain('Body is too long (maximum is 65536 characters)');
    expect(gh.tooLong).toBe(2);
    expect(gh.comments.size).toBe(0);
  });
});

describe('fake GitHub: locked issues and deleted comments', () => {
  it('refuses comments on a locked issue as GitHub does, and still takes edits and state changes', async () => {
    const { gh, octokit, repo } = await setup();
    gh.addIssue({ title: 't' });
    expect((await octokit.rest.issues.lock({ ...repo, issue_number: 1 })).status).toBe(204);
    const { data } = await octokit.rest.issues.get({ ...repo, issue_number: 1 });
    expect(data).toMatchObject({ locked: true, active_lock_reason: 'resolved' });
    const err = await requestError(octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'x' }));
    expect(err.status).toBe(403);
    expect(err.response?.data.message).toBe('Unable to create comment because issue is locked.');
    await octokit.rest.issues.update({ ...repo, issue_number: 1, body: 'edited', state: 'closed' });
    expect(gh.issues[0]).toMatchObject({ body: 'edited', state: 'closed', locked: true });
    await octokit.rest.issues.unlock({ ...repo, issue_number: 1 });
    expect((await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'x' })).status).toBe(201);
  });

  it('deletes a comment once; a second delete is 404', async () => {
    const { gh, octokit, repo } = await setup();
    gh.addIssue({ title: 't' });
    const keep = gh.addComment(1, 'keep');
    const drop = gh.addComment(1, 'drop');
    expect((await octokit.rest.issues.deleteComment({ ...repo, comment_id: drop.id })).status).toBe(204);
    expect(gh.comments.get(1)!.map((c) => c.id)).toEqual([keep.id]);
    const again = await requestError(octokit.rest.issues.deleteComment({ ...repo, comment_id: drop.id }));
    expect(again.status).toBe(404);
  });
});

describe('fake GitHub: answers lost or never given', () => {
  it('can take a request into account and answer it with a failure, or pass one through', async () => {
    const { gh, octokit, repo } = await setup({
      failures: {
        'POST /repos/{owner}/{repo}/issues': [
          { status: 200, pass: true },
          { status: 502, afterHandling: true },
        ],
      },
    });
    expect((await octokit.rest.issues.create({ ...repo, title: 'a' })).status).toBe(201);
    const lost = await requestError(octokit.rest.issues.create({ ...repo, title: 'b' }));
    expect(lost.status).toBe(502);
    expect(gh.issues.map((i) => i.title)).toEqual(['a', 'b']);
  });

  it('never answers with neverAnswer or a hung script, and counts who still waits', async () => {
    const { gh } = await setup({ neverAnswer: true });
    const controller = new AbortController();
    const pending = fetch(`${gh.url}/repos/${gh.owner}/${gh.repo}`, {
      headers: { authorization: 'token x' },
      signal: controller.signal,
    }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    expect(gh.requests).toMatchObject([{ route: 'GET /repos/{owner}/{repo}', status: 0 }]);
    expect(gh.waiting()).toBe(1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    expect(gh.waiting()).toBe(0);
  });

  it('holds the next n requests of a route until all have arrived', async () => {
    const { gh, octokit, repo } = await setup();
    gh.holdNext('GET /repos/{owner}/{repo}/issues', 2);
    let first = false;
    const a = octokit.rest.issues.listForRepo(repo).then(() => (first = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(first).toBe(false);
    await Promise.all([a, octokit.rest.issues.listForRepo(repo)]);
    const started = Date.now();
    await octokit.rest.issues.listForRepo(repo); // the barrier has opened
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("fake GitHub: GitHub's rate limits", () => {
  it('counts every request against the hour of the token, says so in headers, and refuses the one too many', async () => {
    const { gh, octokit, repo } = await setup({ requestsPerHour: 3 });
    const first = await octokit.rest.issues.listForRepo(repo);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    expect(first.headers['x-ratelimit-used']).toBe('1');
    const reset = Number(first.headers['x-ratelimit-reset']);
    expect(reset * 1000).toBeGreaterThan(Date.now() + 3_500_000);
    await octokit.rest.issues.listForRepo(repo);
    await octokit.rest.issues.listForRepo(repo);
    const refused = await requestError(octokit.rest.issues.listForRepo(repo));
    expect(refused.status).toBe(403);
    expect(refused.response?.data.message).toMatch(
      /^API rate limit exceeded for installation ID \d+\. If you reach out to GitHub Support for help, please include the request ID FAKE:\d+ and timestamp \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/,
    );
    expect(refused.response?.headers['x-ratelimit-remaining']).toBe('0');
    expect(gh.requests.map((r) => r.limited ?? null)).toEqual([null, null, null, 'primary']);
    // Another token has its own hour.
    const other = getOctokit('ghs_another-token', { baseUrl: gh.url });
    expect((await other.rest.issues.listForRepo(repo)).status).toBe(200);
  });

  it('starts a new hour when the last one has passed, on its own clock', async () => {
    const { octokit, repo } = await setup({ requestsPerHour: 1, secondMs: 0.05 });
    await octokit.rest.issues.listForRepo(repo);
    await requestError(octokit.rest.issues.listForRepo(repo));
    // An hour of 3,600 × 0.05 ms = 180 ms.
    await new Promise((r) => setTimeout(r, 200));
    expect((await octokit.rest.issues.listForRepo(repo)).status).toBe(200);
  });

  it('refuses the 81st content-creating request of a minute with retry-after, and takes writes again after it', async () => {
    const { gh, octokit, repo } = await setup({ secondMs: 5 });
    gh.addIssue({ title: 't' });
    for (let i = 0; i < 80; i++) await octokit.rest.issues.update({ ...repo, issue_number: 1, body: String(i) });
    const refused = await requestError(octokit.rest.issues.update({ ...repo, issue_number: 1, body: 'x' }));
    expect(refused.status).toBe(403);
    expect(refused.response?.data.message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\. If you reach out/,
    );
    expect(refused.response?.data.documentation_url).toMatch(/#about-secondary-rate-limits$/);
    const wait = Number(refused.response?.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    // Reads are not content-creating.
    expect((await octokit.rest.issues.get({ ...repo, issue_number: 1 })).status).toBe(200);
    expect(gh.issues[0]!.body).toBe('79');
    await new Promise((r) => setTimeout(r, wait * 5 + 10));
    expect((await octokit.rest.issues.update({ ...repo, issue_number: 1, body: 'y' })).status).toBe(200);
    expect(gh.writes().filter((w) => w.limited === 'secondary')).toHaveLength(1);
    expect(gh.maxWritesIn(300)).toBe(80);
  });

  it("refuses without retry-after when told, and limits the hour's writes", async () => {
    const { gh, octokit, repo } = await setup({ secondaryRetryAfter: false, writesPerMinute: false, writesPerHour: 5 });
    gh.addIssue({ title: 't' });
    for (let i = 0; i < 5; i++) await octokit.rest.issues.update({ ...repo, issue_number: 1, body: String(i) });
    const refused = await requestError(octokit.rest.issues.update({ ...repo, issue_number: 1, body: 'x' }));
    expect(refused.status).toBe(403);
    expect(refused.response?.data.message).toMatch(/^You have exceeded a secondary rate limit/);
    expect(refused.response?.headers['retry-after']).toBeUndefined();
  });

  it('adds labels to an issue, keeping its own and creating unknown ones', async () => {
    const { gh, octokit, repo } = await setup();
    gh.addIssue({ title: 't', labels: ['security'] });
    const added = await octokit.rest.issues.addLabels({ ...repo, issue_number: 1, labels: ['aws-account:1'] });
    expect(added.data.map((l) => l.name)).toEqual(['security', 'aws-account:1']);
    expect(gh.issues[0]!.labels).toEqual(['security', 'aws-account:1']);
    expect(gh.labels.has('aws-account:1')).toBe(true);
  });
});
