/**
 * The GitHub issues API, behind a narrow interface for the tracking issue. Retries 5xx and rate
 * limits (honouring `retry-after` and `x-ratelimit-reset`) a bounded number of times; the caller
 * sends writes one at a time.
 */
import { getOctokit } from '@actions/github';
import { withRetries, type Sleep } from '../retry.js';

export interface IssueRecord {
  number: number;
  url: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
}

export interface IssuesApi {
  /** Every issue in `state` carrying all `labels` (any issue when none), oldest first; pull requests dropped. */
  listIssues(labels: readonly string[], state: 'open' | 'all'): Promise<IssueRecord[]>;
  /** Creates the label unless it exists. */
  ensureLabel(name: string): Promise<void>;
  createIssue(issue: { title: string; body: string; labels: string[]; assignees: string[] }): Promise<IssueRecord>;
  updateIssue(
    number: number,
    patch: { body?: string; state?: 'open' | 'closed'; stateReason?: 'completed' | 'not_planned' | 'duplicate' },
  ): Promise<void>;
  addComment(number: number, body: string): Promise<void>;
}

export interface IssuesApiOptions {
  token: string;
  owner: string;
  repo: string;
  baseUrl: string;
  sleep: Sleep;
  random?: () => number;
  info: (message: string) => void;
  /** Attempts a request gets, the first included. */
  attempts?: number;
}

/** Waiting longer than this for a rate limit to reset is not worth holding the job. */
const MAX_WAIT_MS = 60_000;

interface HttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/** A delay GitHub asked for, in ms: `retry-after`, or the rate limit's reset time. */
export function requestedDelayMs(err: unknown, nowMs: number): number | undefined {
  const headers = (err as HttpError).response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000;
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    if (Number.isFinite(reset)) return Math.max(0, reset * 1000 - nowMs) + 1000;
  }
  return undefined;
}

export function isRateLimited(err: unknown): boolean {
  const e = err as HttpError;
  if (e.status === 429) return true;
  if (e.status !== 403) return false;
  return /rate limit/i.test(e.message ?? '') || requestedDelayMs(err, Date.now()) !== undefined;
}

function retryable(err: unknown): boolean {
  const status = (err as HttpError).status;
  if (status === undefined) return true; // no answer: a network fault
  if (status >= 500) return true;
  if (!isRateLimited(err)) return false;
  return (requestedDelayMs(err, Date.now()) ?? 0) <= MAX_WAIT_MS;
}

export function createIssuesApi(options: IssuesApiOptions): IssuesApi {
  const octokit = getOctokit(options.token, { baseUrl: options.baseUrl });
  octokit.hook.wrap('request', (request, params) =>
    withRetries(async () => request(params), {
      attempts: options.attempts ?? 4,
      baseMs: 1000,
      capMs: 16_000,
      retryable,
      requestedDelayMs: (err) => requestedDelayMs(err, Date.now()),
      sleep: options.sleep,
      random: options.random,
      onRetry: (err, attempt, delay) =>
        options.info(
          `GitHub answered ${(err as HttpError).status ?? 'nothing'} to ${params.method} ${params.url}; try ${attempt + 1} in ${delay} ms.`,
        ),
    }),
  );
  const repo = { owner: options.owner, repo: options.repo };

  return {
    async listIssues(labels, state) {
      const items = await octokit.paginate(octokit.rest.issues.listForRepo, {
        ...repo,
        ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
        state,
        sort: 'created',
        direction: 'asc',
        per_page: 100,
      });
      return items.filter((i) => !i.pull_request).map(toRecord);
    },

    async ensureLabel(name) {
      try {
        await octokit.rest.issues.getLabel({ ...repo, name });
        return;
      } catch (err) {
        if ((err as HttpError).status !== 404) throw err;
      }
      try {
        await octokit.rest.issues.createLabel({ ...repo, name, color: labelColor(name) });
      } catch (err) {
        // Created meanwhile by a concurrent run.
        if ((err as HttpError).status !== 422) throw err;
      }
    },

    async createIssue(issue) {
      const { data } = await octokit.rest.issues.create({ ...repo, ...issue });
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

    async addComment(number, body) {
      await octokit.rest.issues.createComment({ ...repo, issue_number: number, body });
    },
  };
}

function toRecord(i: {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  state: string;
  state_reason?: string | null;
}): IssueRecord {
  return {
    number: i.number,
    url: i.html_url,
    title: i.title,
    body: i.body ?? '',
    state: i.state === 'closed' ? 'closed' : 'open',
    stateReason: i.state_reason ?? null,
  };
}

/** Red for the security label, amber for the rest. */
function labelColor(name: string): string {
  return name.toLowerCase() === 'security' ? 'd73a4a' : 'fbca04';
}
