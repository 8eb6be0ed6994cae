/**
 * The Octokit client for the tracking issues, in bounded time and within GitHub's limits. One
 * client serves a whole run, however many accounts it tracks: one deadline, one write queue, one
 * write budget.
 *
 * Rate limits are handled by @octokit/plugin-throttling (`retry-after` and `x-ratelimit-reset`
 * honoured), with this client's own queues: a write starts a second after the last, and a write
 * that notifies people (an issue or a comment) three seconds after the last such write, so writes
 * stay under GitHub's 80 content-creating requests a minute; and, should retries crowd them, no
 * more than 70 writes are sent in any minute. The run's writes are counted against a budget (450
 * by default, under GitHub's 500 an hour): once it is spent, no write is sent. 5xx answers and
 * time-outs are retried a bounded number of times by @octokit/plugin-retry. Every request has a
 * time-out covering the whole answer, and every request of the client shares one deadline: when it
 * passes, requests in flight are aborted and no new one is sent, so no socket and no timer
 * outlives it.
 */
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Octokit } from '@octokit/core';
import Bottleneck from 'bottleneck/light.js';
import { fetch as undiciFetch } from 'undici';
import { proxyDispatcher } from '../net/proxy.js';

/** A request gets this long for its whole answer, body included. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** All requests of one client together get this long. */
export const DEADLINE_MS = 120_000;
/**
 * The deadline to give a run over many accounts: spending its whole write budget, an issue or a
 * comment every three seconds and the rest in between, takes about 12 minutes.
 */
export const ORGANISATION_DEADLINE_MS = 15 * 60_000;
/** Retries after a 5xx answer or a time-out (plugin-retry pauses 1 s, then 4 s). */
const RETRIES = 2;
/** Waits for a rate limit, each only when it fits in the time left. */
const RATE_LIMIT_RETRIES = 2;
/** An attempt that cannot get this long before the deadline is not worth starting. */
const MIN_ATTEMPT_MS = 1_000;
/**
 * Content-creating requests a run may send: GitHub allows 500 an hour, and another run (a matrix
 * job, a re-run) may write in the same hour.
 */
export const WRITE_BUDGET = 450;
/** Seconds between two writes, and between two writes that notify people (plugin-throttling's own). */
const WRITE_GAP_SECONDS = 1;
const NOTIFY_GAP_SECONDS = 3;
/** Writes sent in any minute at most, retries included: GitHub's secondary limit is 80. */
export const WRITES_PER_MINUTE = 70;

export type GithubOctokit = ReturnType<typeof getOctokit>;
type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** GitHub accepted the request and gave no (complete) answer in time. */
export class NoAnswerError extends Error {
  override name = 'NoAnswerError';
}

/** The time allowed for GitHub ran out. Never retried. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** The run's write budget is spent: the write was not sent. Never retried. */
export class WriteBudgetError extends Error {
  override name = 'WriteBudgetError';
}

/** The client's writes: how many were sent, and how many more the budget allows. */
export interface WriteCount {
  readonly budget: number;
  sent(): number;
  remaining(): number;
}

/** GitHub's primary rate limit as its last answer gave it. */
export interface RateLimitState {
  remaining: number;
  /** When the window resets, in ms since the epoch. */
  resetAt: number;
}

/** One deadline for every request of a client. */
export interface Deadline {
  readonly ms: number;
  /** Aborted, with a `DeadlineError`, when the time is up. */
  readonly signal: AbortSignal;
  remainingMs(): number;
  /** `work`, or a `DeadlineError` as soon as the time is up, whichever comes first. */
  race<T>(work: Promise<T>): Promise<T>;
}

export function startDeadline(ms: number, now: () => number = Date.now): Deadline {
  const end = now() + ms;
  const controller = new AbortController();
  // Unref'd: a client whose work is done must not keep the process alive until its deadline.
  setTimeout(() => controller.abort(new DeadlineError(`the ${duration(ms)} allowed for GitHub ran out`)), ms).unref();
  const signal = controller.signal;
  return {
    ms,
    signal,
    remainingMs: () => (signal.aborted ? 0 : Math.max(0, end - now())),
    race<T>(work: Promise<T>): Promise<T> {
      work.catch(() => {}); // settles after the race is lost: nothing to report then
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        work.then(
          (value) => {
            signal.removeEventListener('abort', onAbort);
            resolve(value);
          },
          (err: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(err as Error);
          },
        );
      });
    },
  };
}

export interface GithubClientOptions {
  token: string;
  baseUrl: string;
  /** Per request, the whole answer included. Default 30 s. */
  requestTimeoutMs?: number;
  /** For all requests of the client together, counted from its creation. Default 120 s. */
  deadlineMs?: number;
  /**
   * One second of GitHub's time, in ms: of `retry-after` and `x-ratelimit-reset`, of the pauses
   * between writes, of the minute in which at most `WRITES_PER_MINUTE` writes are sent, and the unit
   * of plugin-retry's pauses (1, then 4 units). Default 1000; tests make it small to run in
   * milliseconds.
   */
  retryUnitMs?: number;
  /** Content-creating requests (POST, PATCH, PUT, DELETE) this client may send. Default `WRITE_BUDGET`. */
  writeBudget?: number;
  /**
   * `false` turns the throttling plugin off: no write queue, no rate-limit waits. For tests of the
   * tracking protocol only, which make dozens of writes.
   */
  throttle?: boolean;
  /** The transport. Default: `proxiedFetch`. */
  fetch?: FetchLike;
  now?: () => number;
  info: (message: string) => void;
}

export interface GithubClient {
  octokit: GithubOctokit;
  deadline: Deadline;
  /** What last went wrong with a request since the last success, for the one warning a failed stage gives. */
  lastProblem(): string | null;
  writes: WriteCount;
  /** The primary rate limit as GitHub last said it; `null` before any answer said it. */
  rateLimit(): RateLimitState | null;
}

export function createGithubClient(options: GithubClientOptions): GithubClient {
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const unit = options.retryUnitMs ?? 1_000;
  const deadline = startDeadline(options.deadlineMs ?? DEADLINE_MS, options.now);
  const inner = options.fetch ?? proxiedFetch;
  const writes = new WriteGate(options.writeBudget ?? WRITE_BUDGET, 60 * unit, deadline);
  let rate: RateLimitState | null = null;
  const observe = (headers: Headers) => {
    const remaining = Number(headers.get('x-ratelimit-remaining') ?? NaN);
    const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
    if (Number.isFinite(remaining) && Number.isFinite(reset)) rate = { remaining, resetAt: reset * 1000 };
  };
  // The last failure since the last success: a 404 that was expected is forgotten by what follows.
  let last: string | null = null;
  const note = (problem: string | null) => {
    last = problem;
  };

  const rateLimited =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const waitMs = retryAfter * unit;
      const what = `${request.method} ${expand(request)}`;
      if (retryCount < RATE_LIMIT_RETRIES && waitMs + MIN_ATTEMPT_MS <= deadline.remainingMs()) {
        options.info(
          `GitHub's ${kind} stopped ${what}; waiting ${duration(waitMs)} as GitHub asks, then trying again.`,
        );
        return true;
      }
      note(
        retryCount >= RATE_LIMIT_RETRIES
          ? `GitHub's ${kind} stopped ${what} ${RATE_LIMIT_RETRIES + 1} times`
          : `GitHub's ${kind} stopped ${what} and asks to wait ${duration(waitMs)}, more than the ${duration(deadline.remainingMs())} left`,
      );
      return false;
    };

  const octokit = getOctokit(
    options.token,
    {
      baseUrl: options.baseUrl,
      request: { fetch: timedFetch(inner, timeoutMs, deadline, writes, observe) },
      retry: { retries: RETRIES, retryAfterBaseValue: unit, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle:
        options.throttle === false
          ? { enabled: false }
          : {
              // This client's own queues, in its own time unit: plugin-throttling's are shared by
              // every client in the process and always count real seconds.
              write: new Bottleneck.Group({ maxConcurrent: 1, minTime: WRITE_GAP_SECONDS * unit }),
              notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: NOTIFY_GAP_SECONDS * unit }),
              retryAfterBaseValue: unit,
              // GitHub: without retry-after, wait at least one minute after a secondary rate limit.
              fallbackSecondaryRateRetryAfter: 60,
              onRateLimit: rateLimited('rate limit'),
              onSecondaryRateLimit: rateLimited('secondary rate limit'),
            },
      log: { debug: () => {}, info: () => {}, warn: options.info, error: options.info },
    },
    // Innermost first: the guard sees every failure before plugin-retry decides on it.
    guard(deadline, unit, note, options.info),
    retry,
    throttling,
  );
  return { octokit, deadline, lastProblem: () => last, writes, rateLimit: () => rate };
}

/**
 * Counts the writes sent against the budget, and holds a write back while `WRITES_PER_MINUTE` were
 * sent in the last minute (plugin-retry's retries do not go through plugin-throttling's queue).
 */
class WriteGate implements WriteCount {
  private count = 0;
  private readonly recent: number[] = [];

  constructor(
    readonly budget: number,
    private readonly minuteMs: number,
    private readonly deadline: Deadline,
  ) {}

  sent(): number {
    return this.count;
  }

  remaining(): number {
    return Math.max(0, this.budget - this.count);
  }

  /** Resolves when the write may be sent, and counts it; throws when the budget is spent. */
  async admit(what: string): Promise<void> {
    for (;;) {
      if (this.count >= this.budget) {
        throw new WriteBudgetError(
          `the write budget of this run (${this.budget} content-creating requests) was spent; ${what} was not sent`,
        );
      }
      const now = Date.now();
      while (this.recent.length > 0 && this.recent[0]! <= now - this.minuteMs) this.recent.shift();
      if (this.recent.length < WRITES_PER_MINUTE) {
        this.recent.push(now);
        this.count++;
        return;
      }
      await pause(this.recent[0]! + this.minuteMs - now + 1, this.deadline.signal);
    }
  }
}

/** Waits `ms`, or rejects with the deadline's error as soon as it passes. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A plugin that says what happened to each failed request, turns a passed deadline into a
 * `DeadlineError` (never retried), and lets plugin-retry try again only when its pause (1, then 4
 * units) leaves time for another attempt.
 */
function guard(
  deadline: Deadline,
  unit: number,
  note: (problem: string | null) => void,
  info: (message: string) => void,
) {
  return (octokit: Octokit) => {
    octokit.hook.after('request', () => note(null));
    octokit.hook.error('request', (error, options) => {
      const cause = (error as { cause?: unknown }).cause;
      if (error instanceof DeadlineError || error instanceof WriteBudgetError) throw error;
      if (cause instanceof DeadlineError || cause instanceof WriteBudgetError) throw cause;
      const what = describeGithubError(error);
      note(what);
      const status = (error as { status?: number }).status ?? 0;
      if (status >= 500 || status === 0) {
        const request = options.request as { retries?: number; retryCount?: number };
        const attempt = request.retryCount ?? 0;
        if (attempt < (request.retries ?? RETRIES)) {
          const pause = (attempt + 1) ** 2 * unit;
          if (pause + MIN_ATTEMPT_MS <= deadline.remainingMs()) {
            info(`${what}; trying again in ${duration(pause)}.`);
          } else {
            request.retries = attempt;
            info(`${what}; no time left to try again.`);
          }
        }
      }
      throw error;
    });
  };
}

/**
 * Fetch with a time-out over the whole answer (the body is read here, so a stalled body times out
 * too) and the deadline; writes pass the write gate first. Errors say what happened, with the
 * method and path: never a header.
 */
function timedFetch(
  inner: FetchLike,
  timeoutMs: number,
  deadline: Deadline,
  writes: WriteGate,
  observe: (headers: Headers) => void,
): FetchLike {
  return async (url, init) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const what = `${method} ${new URL(url).pathname}`;
    if (deadline.signal.aborted) throw new DeadlineError(`${reason(deadline)}; ${what} was not sent`);
    if (method !== 'GET' && method !== 'HEAD') await writes.admit(what);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new NoAnswerError(`GitHub gave no answer in ${duration(timeoutMs)} to ${what}`)),
      timeoutMs,
    );
    const onDeadline = () => controller.abort(new DeadlineError(`${reason(deadline)} during ${what}`));
    deadline.signal.addEventListener('abort', onDeadline, { once: true });
    try {
      const response = await inner(url, { ...init, signal: controller.signal });
      observe(response.headers);
      const body = [101, 204, 205, 304].includes(response.status) ? null : await response.arrayBuffer();
      const copy = new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(copy, 'url', { value: response.url });
      return copy;
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason as Error;
      throw err;
    } finally {
      clearTimeout(timer);
      deadline.signal.removeEventListener('abort', onDeadline);
    }
  };
}

function reason(deadline: Deadline): string {
  return (
    (deadline.signal.reason as Error | undefined)?.message ?? `the ${duration(deadline.ms)} allowed for GitHub ran out`
  );
}

/**
 * undici's fetch through HTTPS_PROXY unless NO_PROXY lists the host, decided per request by the
 * rule every other client of the action follows. The toolkit's fetch (`@actions/github`'s
 * default) decides once, when the module loads, for GITHUB_API_URL; opens a new tunnel for every
 * request; and goes directly when the proxy is given without a scheme (`proxy.corp:3128`).
 */
const proxiedFetch: FetchLike = (url, init) =>
  undiciFetch(url, {
    ...(init as Parameters<typeof undiciFetch>[1]),
    dispatcher: proxyDispatcher(url),
  }) as unknown as Promise<Response>;

/**
 * What happened to a request, for people: `GitHub answered 502 to GET /repos/o/r/issues: Bad
 * Gateway`, `GitHub gave no answer in 30 s to GET /repos/o/r/issues`. Never a header or a token.
 */
export function describeGithubError(err: unknown): string {
  if (err instanceof DeadlineError || err instanceof NoAnswerError || err instanceof WriteBudgetError) {
    return err.message;
  }
  const e = err as {
    status?: number;
    message?: string;
    cause?: unknown;
    request?: { method?: string; url?: string };
    response?: unknown;
  };
  if (e.cause instanceof NoAnswerError || e.cause instanceof DeadlineError || e.cause instanceof WriteBudgetError) {
    return e.cause.message;
  }
  const text = err instanceof Error ? err.message : String(err);
  if (!e.request?.url) return text;
  const what = `${e.request.method ?? 'GET'} ${pathOf(e.request.url)}`;
  if (e.response) return `GitHub answered ${e.status} to ${what}: ${text}`;
  return `GitHub could not be reached for ${what}: ${text}`;
}

/** `/repos/{owner}/{repo}/issues` with the request's parameters: `/repos/o/r/issues`. */
function expand(request: { url: string }): string {
  const params = request as unknown as Record<string, unknown>;
  return pathOf(request.url.replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole)));
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0]!;
  }
}

/** 30000 → "30 s", 1500 → "1.5 s", 200 → "200 ms". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 100) / 10;
  return `${s} s`;
}
