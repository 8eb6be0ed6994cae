/**
 * The GitHub issues API, behind a narrow interface for the tracking issues, on the bounded client
 * of ./client.ts. Every call's cost is bounded: no call pages through the repository's history.
 * Creating an issue or a comment is never retried blindly (a lost answer may hide a success): the
 * caller looks before trying again.
 */
import {
  createGithubClient,
  type Deadline,
  type GithubClientOptions,
  type RateLimitState,
  type WriteCount,
} from './github-client.js';

export interface IssueRecord {
  number: number;
  url: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  /** A locked conversation takes no comments from the job token. */
  locked: boolean;
  /** How many comments the issue had when it was read. */
  comments: number;
  /** Its labels' names. */
  labels: string[];
}

/** One page of a listing: 100 issues at most, pull requests dropped. */
export interface IssuePage {
  issues: IssueRecord[];
  /** GitHub has a further page. */
  more: boolean;
}

export interface CommentRecord {
  id: number;
  body: string;
}

export interface IssuesApi {
  /** The one deadline of every request this API makes. */
  readonly deadline: Deadline;
  /** What last went wrong with a request. */
  lastProblem(): string | null;
  /** The run's writes and their budget. */
  readonly writes: WriteCount;
  /** GitHub's primary rate limit as its last answer said it; `null` before any did. */
  rateLimit(): RateLimitState | null;
  /** Open issues carrying all `labels` (any issue when none), oldest first, pull requests dropped; at most 1,000. */
  listOpen(labels: readonly string[]): Promise<IssueRecord[]>;
  /** The newest issues in `state` carrying all `labels`, newest first: `pages` requests at most, 100 issues each. */
  listNewest(labels: readonly string[], state: 'open' | 'closed', pages: number): Promise<IssueRecord[]>;
  /** One page (1-based) of the issues in `state` carrying all `labels`, by creation: one request. */
  listPage(
    labels: readonly string[],
    state: 'open' | 'closed' | 'all',
    direction: 'asc' | 'desc',
    page: number,
  ): Promise<IssuePage>;
  /** Creates the label unless it exists: once per name for the life of the API. */
  ensureLabel(name: string): Promise<void>;
  /**
   * Creates the label without asking first whether it exists: one request, and none for a name
   * this API already created or found. A label that exists already (422) is fine.
   */
  createLabel(name: string, description: string): Promise<void>;
  /** Adds labels to an issue, keeping those it has. */
  addLabels(number: number, labels: readonly string[]): Promise<void>;
  /** Not retried after a 5xx or a time-out: GitHub may have created it. */
  createIssue(issue: { title: string; body: string; labels: string[]; assignees: string[] }): Promise<IssueRecord>;
  updateIssue(
    number: number,
    patch: { body?: string; state?: 'open' | 'closed'; stateReason?: 'completed' | 'not_planned' | 'duplicate' },
  ): Promise<void>;
  /**
   * The issue's newest comments, oldest first: the last page, and the one before when the last is
   * short, so at least the newest 50 when there are that many. Three requests at most, however
   * long the issue. `countHint` is the comment count last seen.
   */
  newestComments(number: number, countHint: number): Promise<CommentRecord[]>;
  /** Not retried after a 5xx or a time-out: GitHub may have posted it. */
  addComment(number: number, body: string): Promise<CommentRecord>;
  /** Deletes a comment; one already gone is fine. */
  deleteComment(id: number): Promise<void>;
}

export interface IssuesApiOptions extends GithubClientOptions {
  owner: string;
  repo: string;
}

const PER_PAGE = 100;
const MAX_OPEN_PAGES = 10;

export function createIssuesApi(options: IssuesApiOptions): IssuesApi {
  const client = createGithubClient(options);
  const { octokit } = client;
  const repo = { owner: options.owner, repo: options.repo };
  const once = { request: { retries: 0 } };
  // Labels known to exist, by lower-cased name (GitHub's label names are case-insensitive).
  const known = new Set<string>();

  async function createLabel(name: string, description: string): Promise<void> {
    if (known.has(name.toLowerCase())) return;
    try {
      await octokit.rest.issues.createLabel({
        ...repo,
        name,
        color: labelColor(name),
        ...(description ? { description } : {}),
      });
    } catch (err) {
      // It exists: created before, or meanwhile by a concurrent run.
      if (status(err) !== 422) throw err;
    }
    known.add(name.toLowerCase());
  }

  const listComments = (number: number, page: number) =>
    octokit.rest.issues.listComments({ ...repo, issue_number: number, per_page: PER_PAGE, page });

  return {
    deadline: client.deadline,
    lastProblem: client.lastProblem,
    writes: client.writes,
    rateLimit: client.rateLimit,

    async listOpen(labels) {
      const found: IssueRecord[] = [];
      let pages = 0;
      for await (const { data } of octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
        ...repo,
        ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
        state: 'open',
        sort: 'created',
        direction: 'asc',
        per_page: PER_PAGE,
      })) {
        found.push(...data.filter((i) => !i.pull_request).map(toRecord));
        if (++pages >= MAX_OPEN_PAGES) break;
      }
      return found;
    },

    async listNewest(labels, state, pages) {
      const found: IssueRecord[] = [];
      for (let page = 1; page <= pages; page++) {
        const { data } = await octokit.rest.issues.listForRepo({
          ...repo,
          ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
          state,
          sort: 'created',
          direction: 'desc',
          per_page: PER_PAGE,
          page,
        });
        found.push(...data.filter((i) => !i.pull_request).map(toRecord));
        if (data.length < PER_PAGE) break;
      }
      return found;
    },

    async listPage(labels, state, direction, page) {
      const { data, headers } = await octokit.rest.issues.listForRepo({
        ...repo,
        ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
        state,
        sort: 'created',
        direction,
        per_page: PER_PAGE,
        page,
      });
      return {
        issues: data.filter((i) => !i.pull_request).map(toRecord),
        more: linkPage(headers.link, 'next') !== null,
      };
    },

    async ensureLabel(name) {
      if (known.has(name.toLowerCase())) return;
      try {
        await octokit.rest.issues.getLabel({ ...repo, name });
        known.add(name.toLowerCase());
        return;
      } catch (err) {
        if (status(err) !== 404) throw err;
      }
      await createLabel(name, '');
    },

    createLabel,

    async addLabels(number, labels) {
      await octokit.rest.issues.addLabels({ ...repo, issue_number: number, labels: [...labels] });
    },

    async createIssue(issue) {
      const { data } = await octokit.rest.issues.create({ ...repo, ...issue, ...once });
      return toRecord(data);
    },

    async updateIssue(number, patch) {
      await octokit.rest.issues.update({
        ...repo,
        issue_number: number,
        body: patch.body,
        state: patch.state,
        state_reason: patch.stateReason,
      });
    },

    async newestComments(number, countHint) {
      let page = Math.max(1, Math.ceil(countHint / PER_PAGE));
      let res = await listComments(number, page);
      // More comments than last seen: the last page is further on. Fewer: it is before.
      const jump =
        res.data.length === 0 && page > 1 ? linkPage(res.headers.link, 'prev') : linkPage(res.headers.link, 'last');
      if (jump !== null && jump !== page) {
        page = jump;
        res = await listComments(number, page);
      }
      let items = res.data;
      if (items.length < PER_PAGE / 2 && page > 1) items = [...(await listComments(number, page - 1)).data, ...items];
      return items.map((c) => ({ id: c.id, body: c.body ?? '' }));
    },

    async addComment(number, body) {
      const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: number, body, ...once });
      return { id: data.id, body: data.body ?? '' };
    },

    async deleteComment(id) {
      try {
        await octokit.rest.issues.deleteComment({ ...repo, comment_id: id });
      } catch (err) {
        if (status(err) !== 404) throw err;
      }
    },
  };
}

/** The page number of a `Link` header's `rel`, or `null`. */
function linkPage(link: string | undefined, rel: string): number | null {
  for (const part of (link ?? '').split(',')) {
    const m = /<([^<>]+)>;\s*rel="([^"]+)"/.exec(part);
    if (m?.[2] === rel) {
      const page = Number(new URL(m[1]!).searchParams.get('page'));
      return Number.isInteger(page) && page >= 1 ? page : null;
    }
  }
  return null;
}

function toRecord(i: {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  state: string;
  state_reason?: string | null;
  locked?: boolean;
  comments?: number;
  labels?: Array<string | { name?: string }>;
}): IssueRecord {
  return {
    number: i.number,
    url: i.html_url,
    title: i.title,
    body: i.body ?? '',
    state: i.state === 'closed' ? 'closed' : 'open',
    stateReason: i.state_reason ?? null,
    locked: i.locked ?? false,
    comments: i.comments ?? 0,
    labels: (i.labels ?? []).flatMap((l) => {
      const name = typeof l === 'string' ? l : l.name;
      return name ? [name] : [];
    }),
  };
}

export function status(err: unknown): number | undefined {
  return (err as { status?: number }).status;
}

/** Red for the security label, grey for an account's, amber for the rest. */
function labelColor(name: string): string {
  const lower = name.toLowerCase();
  return lower === 'security' ? 'd73a4a' : lower.startsWith('aws-account:') ? 'c5def5' : 'fbca04';
}
