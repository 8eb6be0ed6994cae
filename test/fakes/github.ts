/**
 * A loopback fake of the slice of the GitHub REST API an action uses to track findings in one
 * issue: the repository, issues (and the pull requests GitHub lists with them), locking, issue
 * comments and labels. Faults: scripted answers per route (also after the request took effect, or
 * none at all), and a GitHub that accepts connections and never answers. It answers with GitHub's JSON shapes, status codes, validation errors and `Link`
 * pagination so a real Octokit (`getOctokit(token, { baseUrl: fake.url })`) can drive it, and it
 * records every request so end-to-end tests can assert on what the action did.
 *
 * It enforces GitHub's documented limits, per token, on a clock whose second tests can shrink
 * (`secondMs`): the primary rate limit (1,000 requests an hour, GITHUB_TOKEN's in a repository,
 * with `x-ratelimit-*` headers on every answer and GitHub's 403 when spent), and the secondary
 * limits on content-creating requests (80 a minute, 500 an hour: GitHub's 403 "You have exceeded a
 * secondary rate limit", with `retry-after` or, as GitHub sometimes answers, without it).
 *
 * State changes are atomic per request: a request's body is read and its latency waited out
 * first, then it is handled synchronously, so concurrent clients never see a half-applied write.
 */
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGithubOptions {
  /** Default 'octo-org' / 'security'. */
  owner?: string;
  repo?: string;
  /** Default false. */
  private?: boolean;
  /**
   * Scripted answers served before the real one, per route key 'METHOD /path-template' (see
   * `FAKE_GITHUB_ROUTES`), e.g. 'POST /repos/{owner}/{repo}/issues': [{ status: 502 }, { status:
   * 403, body: { message: 'You have exceeded a secondary rate limit…' }, headers: { 'retry-after':
   * '1' } }]. A string body is sent as is; anything else as JSON. Unknown keys are rejected.
   */
  failures?: Record<string, Array<ScriptedFailure>>;
  /** Every write answers 403 "Resource not accessible by integration" (no issues: write). */
  readOnly?: boolean;
  /**
   * No push access: label creation answers 403, and labels (and assignees) sent with
   * POST/PATCH of an issue are silently dropped, as GitHub does.
   */
  noLabelPermission?: boolean;
  /** Unknown label names in POST/PATCH of an issue answer 422 instead of being auto-created. */
  refuseUnknownLabels?: boolean;
  /** Issues are turned off for the repository: every issue/comment route answers 410. */
  issuesDisabled?: boolean;
  /** Delay every response by this many ms (for concurrency tests). */
  latencyMs?: number;

  /**
   * One second of the limits' clock, in ms (default 1000): their hours and minutes are counted in
   * it, and so are `retry-after` and `x-ratelimit-reset` (now plus that many of these seconds, as
   * epoch seconds), so that a client whose second is as long waits as long as it must.
   */
  secondMs?: number;
  /** The primary rate limit: requests an hour per token (default 1,000); `false`: not enforced. */
  requestsPerHour?: number | false;
  /**
   * The secondary limits: content-creating requests (POST, PATCH, PUT, DELETE) per token, a
   * minute (default 80) and an hour (default 500); `false`: not enforced. Only writes let through
   * count.
   */
  writesPerMinute?: number | false;
  writesPerHour?: number | false;
  /** Whether a secondary limit's 403 says `retry-after` (default true). */
  secondaryRetryAfter?: boolean;

  /**
   * A GitHub that accepts connections, reads every request and never answers: no status line,
   * no headers, the socket left open until the client gives up or the fake closes.
   */
  neverAnswer?: boolean;
}

/**
 * A scripted answer. `status` answers instead of the real handler, unless `afterHandling`: then the
 * request takes effect first and its answer is replaced (a gateway that lost GitHub's answer).
 * `hang: true` never answers that request (`status` is then ignored and recorded as 0).
 */
export interface ScriptedFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  afterHandling?: boolean;
  hang?: boolean;
  /** Answer this one as usual: a placeholder to script a later request of the route. */
  pass?: boolean;
}

export interface RecordedGithubRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Route key, e.g. 'POST /repos/{owner}/{repo}/issues'; 'METHOD /path' when nothing matched. */
  route: string;
  /** Parsed JSON body (the raw text when it is not JSON); absent when there was none. */
  body?: unknown;
  /** 0 when the fake never answered. */
  status: number;
  /** `Date.now()` when the request was handled. */
  at: number;
  /** The limit that refused it, if one did. */
  limited?: 'primary' | 'secondary';
}

export type StateReason = 'completed' | 'not_planned' | 'duplicate' | 'reopened';

/** Live state of an issue or pull request; `labels` hold names of entries in `FakeGithub.labels`. */
export interface FakeIssue {
  id: number;
  node_id: string;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: StateReason | null;
  labels: string[];
  assignees: string[];
  isPullRequest: boolean;
  /** A locked conversation: comments answer 403, edits and state changes still work. */
  locked: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface FakeComment {
  id: number;
  node_id: string;
  issue_number: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface FakeGithub {
  /** GITHUB_API_URL value, e.g. 'http://127.0.0.1:41234'. */
  url: string;
  owner: string;
  repo: string;
  requests: RecordedGithubRequest[];
  /** Writes only (POST/PATCH/PUT/DELETE). */
  writes(): RecordedGithubRequest[];
  /**
   * The most writes let through (not refused by a limit) in any window of `ms`, by the time they
   * were handled: what GitHub's secondary limit sees.
   */
  maxWritesIn(ms: number): number;
  /** Live state, including pull requests (`isPullRequest`). */
  issues: FakeIssue[];
  /** By issue number. */
  comments: Map<number, FakeComment[]>;
  /** Keyed by lower-cased name (GitHub label names are case-insensitive). */
  labels: Map<string, FakeLabel>;
  /** 422s answered for bodies over the 65,536-character limit. */
  tooLong: number;
  /** Seeds an issue (or pull request) without recording a request; unknown labels are created. */
  addIssue(i: {
    title: string;
    body?: string;
    labels?: string[];
    state?: 'open' | 'closed';
    pullRequest?: boolean;
    locked?: boolean;
  }): FakeIssue;
  /** Seeds a comment on an existing issue. */
  addComment(issueNumber: number, body: string): FakeComment;
  /** Seeds a label (replacing one of the same name). */
  addLabel(l: { name: string; color?: string; description?: string | null }): FakeLabel;
  /** Requests the fake did not answer whose client is still connected, waiting. */
  waiting(): number;
  /**
   * Overlap on purpose: the next `n` requests of `route` are held until all `n` have arrived (10 s
   * at most), then handled in arrival order, so that `n` clients are sure to have read the same
   * state before any of them acts on it.
   */
  holdNext(route: FakeGithubRoute, n: number): void;
  close(): Promise<void>;
}

/** Every route the fake serves, as used in `RecordedGithubRequest.route` and `failures` keys. */
export const FAKE_GITHUB_ROUTES = [
  'GET /repos/{owner}/{repo}',
  'GET /repos/{owner}/{repo}/issues',
  'POST /repos/{owner}/{repo}/issues',
  'GET /repos/{owner}/{repo}/issues/{issue_number}',
  'PATCH /repos/{owner}/{repo}/issues/{issue_number}',
  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/labels',
  'GET /repos/{owner}/{repo}/labels',
  'POST /repos/{owner}/{repo}/labels',
  'GET /repos/{owner}/{repo}/labels/{name}',
  'PUT /repos/{owner}/{repo}/issues/{issue_number}/lock',
  'DELETE /repos/{owner}/{repo}/issues/{issue_number}/lock',
  'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}',
] as const;
export type FakeGithubRoute = (typeof FAKE_GITHUB_ROUTES)[number];

/** GitHub's limit for issue and comment bodies, in characters (Unicode code points). */
export const GITHUB_BODY_LIMIT = 65_536;

export async function startFakeGithub(opts: FakeGithubOptions = {}): Promise<FakeGithub> {
  const fake = new FakeGithubServer(opts);
  await fake.listen();
  return fake;
}

// ---------------------------------------------------------------------------------------------

const DOCS = 'https://docs.github.com/rest';
const LIMITS_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const INSTALLATION_ID = 4_242_424;
const BOT = 'github-actions[bot]';
const DEFAULT_LABEL_COLOR = 'ededed';
const STATE_REASONS: readonly StateReason[] = ['completed', 'not_planned', 'duplicate', 'reopened'];

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer: the socket stays open until the client gives up or the fake closes. */
  hang?: boolean;
}

/** Thrown by handlers to answer with an error. */
class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

function fail(status: number, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpError({
    status,
    body: { message, ...extra, documentation_url: DOCS, status: String(status) },
  });
}

function validationFailed(errors: Array<Record<string, unknown>>): never {
  fail(422, 'Validation Failed', { errors });
}

function invalidRequest(detail: string): never {
  fail(422, `Invalid request.\n\n${detail}`);
}

interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

type Handler = (ctx: Ctx) => Reply;

interface Route {
  key: FakeGithubRoute;
  method: string;
  pattern: RegExp;
  names: string[];
}

const ROUTES: Route[] = FAKE_GITHUB_ROUTES.map((key) => {
  const [method = '', template = ''] = key.split(' ');
  const names: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { key, method, pattern: new RegExp(`^${source}/?$`), names };
});

function isWrite(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** Length in Unicode code points, as GitHub counts characters (not UTF-16 units). */
function charCount(s: string): number {
  return Array.from(s).length;
}

function scriptedReply(scripted: ScriptedFailure): Reply {
  if (scripted.hang) return { status: 0, hang: true };
  return {
    status: scripted.status,
    body: scripted.body ?? { message: STATUS_CODES[scripted.status] ?? 'Error' },
    ...(scripted.headers ? { headers: scripted.headers } : {}),
  };
}

function intParam(value: string | null, fallback: number): number {
  const n = value === null ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) && n >= 1 ? n : fallback;
}

class FakeGithubServer implements FakeGithub {
  url = '';
  readonly owner: string;
  readonly repo: string;
  readonly requests: RecordedGithubRequest[] = [];
  readonly issues: FakeIssue[] = [];
  readonly comments = new Map<number, FakeComment[]>();
  readonly labels = new Map<string, FakeLabel>();
  tooLong = 0;

  private readonly opts: FakeGithubOptions;
  private readonly failures = new Map<string, ScriptedFailure[]>();
  private readonly server = createServer((req, res) => {
    // A client that hangs up mid-request just loses its answer.
    this.onRequest(req, res).catch(() => res.destroy());
  });
  private readonly handlers: Record<FakeGithubRoute, Handler>;
  private readonly repoId = 700_000_001;
  /** Fake clock: every state change moves it one second forward, so timestamps are unique. */
  private clock = Date.parse('2024-01-01T00:00:00Z');
  private nextNumber = 1;
  private nextId = 1_000;
  private nextRequestId = 1;
  private readonly hung = new Set<ServerResponse>();
  private readonly held = new Map<string, { want: number; waiting: Array<() => void> }>();
  /** Per token: the primary limit's window, and the times of the writes let through. */
  private readonly quota = new Map<string, { start: number; used: number; writes: number[] }>();

  constructor(opts: FakeGithubOptions) {
    this.opts = opts;
    this.owner = opts.owner ?? 'octo-org';
    this.repo = opts.repo ?? 'security';
    for (const [key, list] of Object.entries(opts.failures ?? {})) {
      if (!(FAKE_GITHUB_ROUTES as readonly string[]).includes(key)) {
        throw new Error(`startFakeGithub: unknown route key in failures: '${key}'`);
      }
      this.failures.set(key, [...list]);
    }
    this.handlers = {
      'GET /repos/{owner}/{repo}': () => ({ status: 200, body: this.repoJson() }),
      'GET /repos/{owner}/{repo}/issues': (c) => this.listIssues(c),
      'POST /repos/{owner}/{repo}/issues': (c) => this.createIssue(c),
      'GET /repos/{owner}/{repo}/issues/{issue_number}': (c) => ({
        status: 200,
        body: this.issueJson(this.findIssue(c)),
      }),
      'PATCH /repos/{owner}/{repo}/issues/{issue_number}': (c) => this.updateIssue(c),
      'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': (c) => this.listComments(c),
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': (c) => this.createComment(c),
      'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': (c) => this.addLabels(c),
      'GET /repos/{owner}/{repo}/labels': (c) => this.listLabels(c),
      'POST /repos/{owner}/{repo}/labels': (c) => this.createLabel(c),
      'GET /repos/{owner}/{repo}/labels/{name}': (c) => this.getLabel(c),
      'PUT /repos/{owner}/{repo}/issues/{issue_number}/lock': (c) => this.setLock(c, true),
      'DELETE /repos/{owner}/{repo}/issues/{issue_number}/lock': (c) => this.setLock(c, false),
      'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}': (c) => this.deleteComment(c),
    };
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
  }

  waiting(): number {
    return this.hung.size;
  }

  writes(): RecordedGithubRequest[] {
    return this.requests.filter((r) => isWrite(r.method));
  }

  maxWritesIn(ms: number): number {
    const at = this.writes()
      .filter((w) => !w.limited)
      .map((w) => w.at)
      .sort((a, b) => a - b);
    let most = 0;
    for (let first = 0, last = 0; last < at.length; last++) {
      while (at[first]! <= at[last]! - ms) first++;
      most = Math.max(most, last - first + 1);
    }
    return most;
  }

  // ----- seeding ------------------------------------------------------------------------------

  addIssue(i: {
    title: string;
    body?: string;
    labels?: string[];
    state?: 'open' | 'closed';
    pullRequest?: boolean;
    locked?: boolean;
  }): FakeIssue {
    const issue = this.newIssue(i.title, i.body ?? null, this.resolveLabels(i.labels ?? [], true), []);
    issue.isPullRequest = i.pullRequest ?? false;
    issue.locked = i.locked ?? false;
    if (issue.isPullRequest) issue.node_id = `PR_fake${issue.id}`;
    if (i.state === 'closed') {
      issue.state = 'closed';
      issue.state_reason = 'completed';
      issue.closed_at = issue.updated_at = this.tick();
    }
    return issue;
  }

  addComment(issueNumber: number, body: string): FakeComment {
    const issue = this.issues.find((i) => i.number === issueNumber);
    if (!issue) throw new Error(`addComment: no issue #${issueNumber}`);
    return this.newComment(issue, body);
  }

  addLabel(l: { name: string; color?: string; description?: string | null }): FakeLabel {
    const label: FakeLabel = {
      id: this.nextId++,
      name: l.name,
      color: l.color ?? DEFAULT_LABEL_COLOR,
      description: l.description ?? null,
    };
    this.labels.set(l.name.toLowerCase(), label);
    return label;
  }

  // ----- HTTP plumbing ------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    await this.barrier(req);
    if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs));

    // From here on everything is synchronous: the request is handled atomically.
    const raw = Buffer.concat(chunks).toString('utf8');
    const reply = this.handle(req, raw);
    if (reply.hang && !res.destroyed) {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
    }
    if (res.destroyed || reply.hang) return;
    const headers: Record<string, string> = {
      'x-github-request-id': `FAKE:${this.nextRequestId++}`,
      'x-github-api-version-selected': '2022-11-28',
      ...this.rateHeaders(req.headers.authorization ?? ''),
      ...reply.headers,
    };
    let payload = '';
    if (typeof reply.body === 'string') {
      payload = reply.body;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  holdNext(route: FakeGithubRoute, n: number): void {
    this.held.set(route, { want: n, waiting: [] });
  }

  /** Waits, for a held route, until as many requests as asked for have arrived. */
  private async barrier(req: IncomingMessage): Promise<void> {
    const route = this.match((req.method ?? 'GET').toUpperCase(), new URL(req.url ?? '/', 'http://fake').pathname)
      ?.route.key;
    const hold = route ? this.held.get(route) : undefined;
    if (!route || !hold) return;
    const { want, waiting } = hold;
    if (waiting.length + 1 >= want) this.held.delete(route); // the barrier opens: later requests pass
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (waiting.length === want) for (const release of waiting) release();
    });
  }

  /** Routes, authenticates, applies faults, runs the handler and records the request. */
  private handle(req: IncomingMessage, raw: string): Reply {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }

    let routeKey = `${method} ${url.pathname}`;
    let reply: Reply;
    const match = this.match(method, url.pathname);
    if (match) routeKey = match.route.key;
    const limited = this.opts.neverAnswer ? null : this.limit(req.headers.authorization ?? '', method);
    if (this.opts.neverAnswer) {
      reply = { status: 0, hang: true };
    } else if (limited) {
      reply = limited.reply;
    } else {
      const next = match ? this.failures.get(match.route.key)?.shift() : undefined;
      const scripted = next?.pass ? undefined : next;
      if (scripted && !scripted.afterHandling) {
        reply = scriptedReply(scripted);
      } else {
        reply = this.answer(req, method, url, body, match);
        if (scripted) reply = scriptedReply(scripted);
      }
    }

    const record: RecordedGithubRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      route: routeKey,
      status: reply.hang ? 0 : reply.status,
      at: Date.now(),
    };
    if (limited) record.limited = limited.by;
    if (body !== undefined) record.body = body;
    this.requests.push(record);
    return reply;
  }

  // ----- limits -------------------------------------------------------------------------------

  private get second(): number {
    return this.opts.secondMs ?? 1_000;
  }

  /** The token's quota, its primary window renewed when an hour has passed. */
  private quotaOf(token: string): { start: number; used: number; writes: number[] } {
    const now = Date.now();
    let q = this.quota.get(token);
    if (!q || now >= q.start + 3_600 * this.second) {
      q = { start: now, used: 0, writes: q?.writes ?? [] };
      this.quota.set(token, q);
    }
    return q;
  }

  /** Epoch seconds that are `ms` of the limits' clock from now. */
  private epochIn(ms: number): number {
    return Math.floor(Date.now() / 1000) + Math.ceil(Math.max(0, ms) / this.second);
  }

  private rateHeaders(token: string): Record<string, string> {
    const q = this.quotaOf(token);
    const limit = this.opts.requestsPerHour === false ? 5_000 : (this.opts.requestsPerHour ?? 1_000);
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - q.used)),
      'x-ratelimit-used': String(Math.min(q.used, limit)),
      'x-ratelimit-reset': String(this.epochIn(q.start + 3_600 * this.second - Date.now())),
      'x-ratelimit-resource': 'core',
    };
  }

  /** Counts the request against the token's limits; GitHub's refusal when one is spent. */
  private limit(token: string, method: string): { by: 'primary' | 'secondary'; reply: Reply } | null {
    const q = this.quotaOf(token);
    const now = Date.now();
    const support = `If you reach out to GitHub Support for help, please include the request ID FAKE:${this.nextRequestId} and timestamp ${new Date(now).toISOString().replace('T', ' ').slice(0, 19)} UTC.`;
    const perHour = this.opts.requestsPerHour ?? 1_000;
    if (perHour !== false && q.used >= perHour) {
      return {
        by: 'primary',
        reply: {
          status: 403,
          body: {
            message: `API rate limit exceeded for installation ID ${INSTALLATION_ID}. ${support}`,
            documentation_url: LIMITS_DOCS,
            status: '403',
          },
        },
      };
    }
    q.used++;
    if (!isWrite(method)) return null;
    const windows: Array<[number | false, number]> = [
      [this.opts.writesPerMinute ?? 80, 60 * this.second],
      [this.opts.writesPerHour ?? 500, 3_600 * this.second],
    ];
    while (q.writes.length > 0 && q.writes[0]! <= now - 3_600 * this.second) q.writes.shift();
    for (const [max, span] of windows) {
      if (max === false) continue;
      const inWindow = q.writes.filter((t) => t > now - span);
      if (inWindow.length < max) continue;
      const wait = inWindow[0]! + span - now;
      return {
        by: 'secondary',
        reply: {
          status: 403,
          body: {
            message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ${support}`,
            documentation_url: `${LIMITS_DOCS}#about-secondary-rate-limits`,
            status: '403',
          },
          ...(this.opts.secondaryRetryAfter === false
            ? {}
            : { headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / this.second))) } }),
        },
      };
    }
    q.writes.push(now);
    return null;
  }

  /** The real answer: the handler's, or the error it threw. */
  private answer(
    req: IncomingMessage,
    method: string,
    url: URL,
    body: unknown,
    match: { route: Route; params: Record<string, string> } | null,
  ): Reply {
    try {
      return this.dispatch(req, method, url, body, match);
    } catch (err) {
      return err instanceof HttpError ? err.reply : { status: 500, body: { message: `fake github: ${String(err)}` } };
    }
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | null {
    for (const route of ROUTES) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      return { route, params };
    }
    return null;
  }

  private dispatch(
    req: IncomingMessage,
    method: string,
    url: URL,
    body: unknown,
    match: { route: Route; params: Record<string, string> } | null,
  ): Reply {
    const auth = req.headers.authorization ?? '';
    if (!auth) fail(401, 'Requires authentication');
    if (!/^(token|bearer)\s+\S+$/i.test(auth)) fail(401, 'Bad credentials');
    if (!match) fail(404, 'Not Found');

    const { params } = match;
    if (
      params['owner']?.toLowerCase() !== this.owner.toLowerCase() ||
      params['repo']?.toLowerCase() !== this.repo.toLowerCase()
    ) {
      fail(404, 'Not Found');
    }
    if (this.opts.issuesDisabled && match.route.key.includes('/issues')) {
      fail(410, 'Issues are disabled for this repo');
    }
    if (this.opts.readOnly && isWrite(method)) fail(403, 'Resource not accessible by integration');
    if (typeof body === 'string') fail(400, 'Problems parsing JSON');
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      invalidRequest(`${JSON.stringify(body)} is not an object.`);
    }
    const ctx: Ctx = {
      params,
      query: url.searchParams,
      body: (body ?? {}) as Record<string, unknown>,
    };
    return this.handlers[match.route.key](ctx);
  }

  /** Slices `items` for `per_page`/`page` and builds GitHub's `Link` header. */
  private paginate<T>(items: T[], query: URLSearchParams, path: string): Reply {
    const perPage = Math.min(100, intParam(query.get('per_page'), 30));
    const page = intParam(query.get('page'), 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const pageUrl = (n: number): string => {
      const u = new URL(path, this.url);
      for (const [k, v] of query) u.searchParams.append(k, v);
      u.searchParams.set('page', String(n));
      return `<${u.toString()}>`;
    };
    const links: string[] = [];
    if (page > 1) links.push(`${pageUrl(Math.min(page - 1, last))}; rel="prev"`);
    if (page < last) {
      links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`);
    }
    if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
    return {
      status: 200,
      body: items.slice((page - 1) * perPage, page * perPage),
      ...(links.length > 0 ? { headers: { link: links.join(', ') } } : {}),
    };
  }

  // ----- state helpers ------------------------------------------------------------------------

  private tick(): string {
    this.clock += 1_000;
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private get apiBase(): string {
    return `${this.url}/repos/${this.owner}/${this.repo}`;
  }

  private get htmlBase(): string {
    return `https://github.com/${this.owner}/${this.repo}`;
  }

  private newIssue(title: string, body: string | null, labels: string[], assignees: string[]): FakeIssue {
    const now = this.tick();
    const id = this.nextId++;
    const issue: FakeIssue = {
      id,
      node_id: `I_fake${id}`,
      number: this.nextNumber++,
      title,
      body,
      state: 'open',
      state_reason: null,
      labels,
      assignees,
      isPullRequest: false,
      locked: false,
      created_at: now,
      updated_at: now,
      closed_at: null,
    };
    this.issues.push(issue);
    return issue;
  }

  private newComment(issue: FakeIssue, body: string): FakeComment {
    const now = this.tick();
    const id = this.nextId++;
    const comment: FakeComment = {
      id,
      node_id: `IC_fake${id}`,
      issue_number: issue.number,
      body,
      user: BOT,
      created_at: now,
      updated_at: now,
    };
    const list = this.comments.get(issue.number) ?? [];
    list.push(comment);
    this.comments.set(issue.number, list);
    issue.updated_at = now;
    return comment;
  }

  /**
   * Turns requested label names into canonical names, creating unknown ones as GitHub does
   * for a token with push access (or refusing them with 422 when `refuseUnknownLabels`).
   */
  private resolveLabels(requested: unknown[], seeding = false): string[] {
    const names: string[] = [];
    for (const entry of requested) {
      const name =
        typeof entry === 'string'
          ? entry
          : typeof entry === 'object' && entry !== null && 'name' in entry
            ? String((entry as { name: unknown }).name)
            : null;
      if (name === null || name.trim() === '') {
        validationFailed([{ resource: 'Label', code: 'invalid', field: 'name', value: entry }]);
      }
      const existing = this.labels.get(name.trim().toLowerCase());
      if (!existing && this.opts.refuseUnknownLabels && !seeding) {
        validationFailed([{ resource: 'Label', code: 'invalid', field: 'name', value: name }]);
      }
      const label = existing ?? this.addLabel({ name: name.trim() });
      if (!names.includes(label.name)) names.push(label.name);
    }
    return names;
  }

  private findIssue(c: Ctx): FakeIssue {
    const raw = c.params['issue_number'] ?? '';
    const issue = /^\d+$/.test(raw) ? this.issues.find((i) => i.number === Number(raw)) : undefined;
    if (!issue) fail(404, 'Not Found');
    return issue;
  }

  private checkBody(value: unknown, resource: 'Issue' | 'IssueComment'): void {
    if (typeof value !== 'string' || charCount(value) <= GITHUB_BODY_LIMIT) return;
    this.tooLong++;
    validationFailed(
      resource === 'Issue'
        ? [
            {
              resource,
              code: 'custom',
              field: 'body',
              message: `body is too long (maximum is ${GITHUB_BODY_LIMIT} characters)`,
            },
          ]
        : [
            {
              resource,
              code: 'unprocessable',
              field: 'data',
              message: `Body is too long (maximum is ${GITHUB_BODY_LIMIT} characters)`,
            },
          ],
    );
  }

  // ----- JSON shapes --------------------------------------------------------------------------

  private repoJson(): Record<string, unknown> {
    const priv = this.opts.private ?? false;
    return {
      id: this.repoId,
      node_id: `R_fake${this.repoId}`,
      name: this.repo,
      full_name: `${this.owner}/${this.repo}`,
      private: priv,
      visibility: priv ? 'private' : 'public',
      html_url: this.htmlBase,
      url: this.apiBase,
      owner: { login: this.owner, id: 9_000_001, type: 'Organization' },
      fork: false,
      archived: false,
      disabled: false,
      has_issues: !this.opts.issuesDisabled,
      default_branch: 'main',
    };
  }

  private labelJson(label: FakeLabel): Record<string, unknown> {
    return {
      id: label.id,
      node_id: `LA_fake${label.id}`,
      url: `${this.apiBase}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      default: false,
      description: label.description,
    };
  }

  private issueJson(issue: FakeIssue): Record<string, unknown> {
    const url = `${this.apiBase}/issues/${issue.number}`;
    const user = (login: string): Record<string, unknown> => ({ login, type: 'User' });
    const json: Record<string, unknown> = {
      id: issue.id,
      node_id: issue.node_id,
      url,
      repository_url: this.apiBase,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.htmlBase}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`,
      number: issue.number,
      state: issue.state,
      state_reason: issue.state_reason,
      title: issue.title,
      body: issue.body,
      user: { login: BOT, id: 41898282, type: 'Bot' },
      labels: issue.labels.flatMap((name) => {
        const label = this.labels.get(name.toLowerCase());
        return label ? [this.labelJson(label)] : [];
      }),
      assignee: issue.assignees[0] ? user(issue.assignees[0]) : null,
      assignees: issue.assignees.map(user),
      milestone: null,
      locked: issue.locked,
      active_lock_reason: issue.locked ? 'resolved' : null,
      comments: this.comments.get(issue.number)?.length ?? 0,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      author_association: 'NONE',
    };
    if (issue.isPullRequest) {
      const pr = `${this.htmlBase}/pull/${issue.number}`;
      json['pull_request'] = {
        url: `${this.apiBase}/pulls/${issue.number}`,
        html_url: pr,
        diff_url: `${pr}.diff`,
        patch_url: `${pr}.patch`,
        merged_at: null,
      };
    }
    return json;
  }

  private commentJson(comment: FakeComment): Record<string, unknown> {
    return {
      id: comment.id,
      node_id: comment.node_id,
      url: `${this.apiBase}/issues/comments/${comment.id}`,
      html_url: `${this.htmlBase}/issues/${comment.issue_number}#issuecomment-${comment.id}`,
      issue_url: `${this.apiBase}/issues/${comment.issue_number}`,
      body: comment.body,
      user: { login: comment.user, id: 41898282, type: 'Bot' },
      created_at: comment.created_at,
      updated_at: comment.updated_at,
      author_association: 'NONE',
    };
  }

  // ----- handlers -----------------------------------------------------------------------------

  private listIssues(c: Ctx): Reply {
    const q = c.query;
    const state = q.get('state') ?? 'open';
    const wanted = (q.get('labels') ?? '')
      .split(',')
      .map((l) => l.trim().toLowerCase())
      .filter((l) => l.length > 0);
    const since = q.get('since');
    const sinceMs = since ? Date.parse(since) : NaN;
    const sort = q.get('sort') ?? 'created';
    const asc = q.get('direction') === 'asc';

    const selected = this.issues.filter((i) => {
      if (state !== 'all' && i.state !== state) return false;
      const have = i.labels.map((l) => l.toLowerCase());
      if (!wanted.every((l) => have.includes(l))) return false;
      return Number.isNaN(sinceMs) || Date.parse(i.updated_at) >= sinceMs;
    });
    const key = (i: FakeIssue): number =>
      sort === 'updated'
        ? Date.parse(i.updated_at)
        : sort === 'comments'
          ? (this.comments.get(i.number)?.length ?? 0)
          : Date.parse(i.created_at);
    selected.sort((a, b) => (key(a) - key(b) || a.number - b.number) * (asc ? 1 : -1));
    return this.paginate(
      selected.map((i) => this.issueJson(i)),
      q,
      `/repos/${this.owner}/${this.repo}/issues`,
    );
  }

  private createIssue(c: Ctx): Reply {
    const { title, body, labels, assignees } = c.body;
    if (title === undefined || title === null) invalidRequest('"title" wasn\'t supplied.');
    if (typeof title !== 'string' && typeof title !== 'number') {
      invalidRequest(`For 'properties/title', ${JSON.stringify(title)} is not a string or integer.`);
    }
    if (String(title).trim() === '') {
      validationFailed([{ resource: 'Issue', code: 'missing_field', field: 'title' }]);
    }
    if (body !== undefined && body !== null && typeof body !== 'string') {
      invalidRequest(`For 'properties/body', ${JSON.stringify(body)} is not a string or null.`);
    }
    this.checkBody(body, 'Issue');
    const pushAccess = !this.opts.noLabelPermission;
    const issue = this.newIssue(
      String(title),
      typeof body === 'string' ? body : null,
      pushAccess ? this.resolveLabels(this.arrayField(labels, 'labels')) : [],
      pushAccess ? this.loginList(assignees) : [],
    );
    return {
      status: 201,
      body: this.issueJson(issue),
      headers: { location: `${this.apiBase}/issues/${issue.number}` },
    };
  }

  private updateIssue(c: Ctx): Reply {
    const issue = this.findIssue(c);
    const { title, body, state, state_reason: reason, labels, assignees } = c.body;
    if (title !== undefined && (typeof title !== 'string' || title.trim() === '')) {
      validationFailed([{ resource: 'Issue', code: 'missing_field', field: 'title' }]);
    }
    if (body !== undefined && body !== null && typeof body !== 'string') {
      invalidRequest(`For 'properties/body', ${JSON.stringify(body)} is not a string or null.`);
    }
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      invalidRequest(`For 'properties/state', ${JSON.stringify(state)} is not one of ["open", "closed"].`);
    }
    if (reason !== undefined && reason !== null && !STATE_REASONS.includes(reason as StateReason)) {
      invalidRequest(
        `For 'properties/state_reason', ${JSON.stringify(reason)} is not one of ` +
          `${JSON.stringify(STATE_REASONS)} or null.`,
      );
    }
    this.checkBody(body, 'Issue');
    // Validate everything before changing anything, so a 422 leaves the issue untouched.
    const pushAccess = !this.opts.noLabelPermission;
    const newLabels = labels !== undefined && pushAccess ? this.resolveLabels(this.arrayField(labels, 'labels')) : null;
    const newAssignees = assignees !== undefined && pushAccess ? this.loginList(assignees) : null;

    const now = this.tick();
    if (typeof title === 'string') issue.title = title;
    if (body !== undefined) issue.body = body as string | null;
    if (newLabels) issue.labels = newLabels;
    if (newAssignees) issue.assignees = newAssignees;
    const closing = state === 'closed' && issue.state === 'open';
    const reopening = state === 'open' && issue.state === 'closed';
    if (closing) {
      issue.state = 'closed';
      issue.closed_at = now;
    } else if (reopening) {
      issue.state = 'open';
      issue.closed_at = null;
    }
    if (reason !== undefined) issue.state_reason = reason as StateReason | null;
    else if (closing) issue.state_reason = 'completed';
    else if (reopening) issue.state_reason = 'reopened';
    issue.updated_at = now;
    return { status: 200, body: this.issueJson(issue) };
  }

  private listComments(c: Ctx): Reply {
    const issue = this.findIssue(c);
    const since = c.query.get('since');
    const sinceMs = since ? Date.parse(since) : NaN;
    const list = (this.comments.get(issue.number) ?? []).filter(
      (cm) => Number.isNaN(sinceMs) || Date.parse(cm.updated_at) >= sinceMs,
    );
    return this.paginate(
      list.map((cm) => this.commentJson(cm)),
      c.query,
      `/repos/${this.owner}/${this.repo}/issues/${issue.number}/comments`,
    );
  }

  private createComment(c: Ctx): Reply {
    const issue = this.findIssue(c);
    // GitHub's answer to a comment on a locked conversation, for the job token too.
    if (issue.locked) fail(403, 'Unable to create comment because issue is locked.');
    const { body } = c.body;
    if (typeof body !== 'string') invalidRequest('"body" wasn\'t supplied.');
    if (body.trim() === '') {
      validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
    }
    this.checkBody(body, 'IssueComment');
    const comment = this.newComment(issue, body);
    return {
      status: 201,
      body: this.commentJson(comment),
      headers: { location: `${this.apiBase}/issues/comments/${comment.id}` },
    };
  }

  /** Adds labels, keeping the issue's; unknown names are created as for POST/PATCH of an issue. */
  private addLabels(c: Ctx): Reply {
    const issue = this.findIssue(c);
    if (this.opts.noLabelPermission) fail(403, 'Resource not accessible by integration');
    const added = this.resolveLabels(this.arrayField(c.body['labels'], 'labels'));
    if (added.length === 0) invalidRequest('"labels" wasn\'t supplied.');
    for (const name of added) if (!issue.labels.includes(name)) issue.labels.push(name);
    issue.updated_at = this.tick();
    return {
      status: 200,
      body: issue.labels.flatMap((name) => {
        const label = this.labels.get(name.toLowerCase());
        return label ? [this.labelJson(label)] : [];
      }),
    };
  }

  private deleteComment(c: Ctx): Reply {
    const raw = c.params['comment_id'] ?? '';
    for (const [number, list] of this.comments) {
      const at = list.findIndex((cm) => String(cm.id) === raw);
      if (at < 0) continue;
      list.splice(at, 1);
      const issue = this.issues.find((i) => i.number === number);
      if (issue) issue.updated_at = this.tick();
      return { status: 204 };
    }
    fail(404, 'Not Found');
  }

  /** Locking answers 204 either way, as GitHub does for an issue already (un)locked. */
  private setLock(c: Ctx, locked: boolean): Reply {
    const issue = this.findIssue(c);
    issue.locked = locked;
    issue.updated_at = this.tick();
    return { status: 204 };
  }

  private listLabels(c: Ctx): Reply {
    const sorted = [...this.labels.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    return this.paginate(
      sorted.map((l) => this.labelJson(l)),
      c.query,
      `/repos/${this.owner}/${this.repo}/labels`,
    );
  }

  private getLabel(c: Ctx): Reply {
    const label = this.labels.get((c.params['name'] ?? '').toLowerCase());
    if (!label) fail(404, 'Not Found');
    return { status: 200, body: this.labelJson(label) };
  }

  private createLabel(c: Ctx): Reply {
    if (this.opts.noLabelPermission) fail(403, 'Resource not accessible by integration');
    const { name, color, description } = c.body;
    if (typeof name !== 'string') invalidRequest('"name" wasn\'t supplied.');
    if (name.trim() === '') validationFailed([{ resource: 'Label', code: 'missing_field', field: 'name' }]);
    if (color !== undefined && (typeof color !== 'string' || !/^[0-9a-f]{6}$/i.test(color))) {
      validationFailed([{ resource: 'Label', code: 'invalid', field: 'color' }]);
    }
    if (description !== undefined && description !== null) {
      if (typeof description !== 'string' || charCount(description) > 100) {
        validationFailed([{ resource: 'Label', code: 'invalid', field: 'description' }]);
      }
    }
    if (this.labels.has(name.trim().toLowerCase())) {
      validationFailed([{ resource: 'Label', code: 'already_exists', field: 'name' }]);
    }
    const label = this.addLabel({
      name: name.trim(),
      color: typeof color === 'string' ? color.toLowerCase() : DEFAULT_LABEL_COLOR,
      description: typeof description === 'string' ? description : null,
    });
    return {
      status: 201,
      body: this.labelJson(label),
      headers: { location: `${this.apiBase}/labels/${encodeURIComponent(label.name)}` },
    };
  }

  // ----- input helpers ------------------------------------------------------------------------

  private arrayField(value: unknown, field: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      invalidRequest(`For 'properties/${field}', ${JSON.stringify(value)} is not an array.`);
    }
    return value;
  }

  private loginList(value: unknown): string[] {
    return this.arrayField(value, 'assignees').map((a) => {
      if (typeof a !== 'string') {
        invalidRequest(`For 'items', ${JSON.stringify(a)} is not a string.`);
      }
      return a;
    });
  }
}
