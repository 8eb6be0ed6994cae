/**
 * How every chat adapter talks HTTP: one request with one deadline (connecting, the headers and
 * the body), through the runner's proxy when one applies, and bounded retries. URLs hold the
 * webhook's token, so no error message ever quotes one.
 */
import { request } from 'undici';
import { proxyDispatcher } from '../net/proxy.js';
import { withRetries, type Sleep } from '../retry.js';

export interface ChatDeps {
  sleep: Sleep;
  random?: () => number;
  /** Masks a value in every later log line. */
  setSecret: (secret: string) => void;
  /** Per request, connecting and reading the body included. Default 10 s. A time-out is not retried. */
  timeoutMs?: number;
  /** Says what a call is waiting for, when it waits out a rate limit. */
  info?: (message: string) => void;
  /** The clock signatures are made with, in ms. Default `Date.now`. */
  now?: () => number;
  /** The environment the proxy is read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export const CHAT_TIMEOUT_MS = 10_000;

/** A chat refused the message, or could not be asked. */
export class ChatError extends Error {
  override readonly name: string = 'ChatError';

  /** `message` without the hint. */
  readonly problem: string;

  constructor(
    message: string,
    /** The service's own error code (`errcode`, `code`, Slack's error string), or `null` for HTTP or network. */
    readonly code: number | string | null,
    /** What the user can do about it; also the end of `message`. */
    readonly hint: string,
    /** Worth another try: busy, 5xx, a failed connection, a rate limit that clears soon. */
    readonly retryable = false,
    /** How long the service asked to wait before the next try. */
    readonly retryAfterMs?: number,
  ) {
    super(hint ? `${message}. ${hint}` : message);
    this.problem = message;
  }
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request: GET without a body, POST JSON with one. Throws a `ChatError` when no answer came:
 * a failed connection is retryable; a time-out is not, as the service may have taken the message
 * (a second try would post it twice and spend the robot's few messages a minute).
 */
export async function send(
  service: string,
  what: string,
  url: URL,
  body: unknown,
  deps: Pick<ChatDeps, 'timeoutMs' | 'env'>,
): Promise<HttpAnswer> {
  const timeoutMs = deps.timeoutMs ?? CHAT_TIMEOUT_MS;
  try {
    const res = await request(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? null : JSON.stringify(body),
      dispatcher: proxyDispatcher(url, deps.env ?? process.env),
      // One deadline for connecting, the headers and the body: a hanging server cannot stall the job.
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  } catch (err) {
    throw networkError(service, what, err, timeoutMs);
  }
}

/** No answer at all. Names the failure by its code only: some network errors quote the address. */
function networkError(service: string, what: string, err: unknown, timeoutMs: number): ChatError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: string; code?: unknown };
  const hint = `Check that the runner can reach ${service} (a firewall, or HTTPS_PROXY and NO_PROXY).`;
  const timedOut = e.name === 'TimeoutError' || (typeof e.code === 'string' && e.code.endsWith('_TIMEOUT'));
  if (timedOut) return new ChatError(`${what} failed: no answer in ${seconds(timeoutMs)}`, null, hint, false);
  const detail = `could not reach ${service} (${typeof e.code === 'string' ? e.code : (e.name ?? 'network error')})`;
  return new ChatError(`${what} failed: ${detail}`, null, hint, true);
}

/** A non-2xx status that the service did not explain in its own JSON. */
export function httpError(service: string, what: string, status: number): ChatError {
  const transient = status >= 500 || status === 429;
  const hint = transient ? `${service}, or a proxy in front of it, failed; try again later.` : 'Check the URL.';
  return new ChatError(`${what} failed: HTTP ${status}`, null, hint, transient);
}

export interface ChatRetryOptions {
  /** Total attempts, the first included. Default 3: a call ends within 3 × 10 s and its pauses. */
  attempts?: number;
  /** Pauses grow from this. Default 2 s. */
  baseMs?: number;
  /** The longest pause the service may ask for (`Retry-After`) that is still waited out. */
  maxWaitMs?: number;
  /** Logged before waiting out a rate limit. */
  onRateLimit?: (err: ChatError, delayMs: number) => string | null;
}

/**
 * `call` with bounded, jittered retries of what `ChatError.retryable` says is worth it. A wait the
 * service asks for is honoured when it is at most `maxWaitMs`; a longer one ends the call.
 */
export async function withChatRetries<T>(
  call: () => Promise<T>,
  deps: ChatDeps,
  options: ChatRetryOptions = {},
): Promise<T> {
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  return withRetries(call, {
    attempts: options.attempts ?? 3,
    baseMs: options.baseMs ?? 2000,
    capMs: 15_000,
    retryable: (err) =>
      err instanceof ChatError && err.retryable && (err.retryAfterMs === undefined || err.retryAfterMs <= maxWaitMs),
    requestedDelayMs: (err) => (err instanceof ChatError ? err.retryAfterMs : undefined),
    onRetry: (err, _attempt, delayMs) => {
      if (err instanceof ChatError && err.retryAfterMs !== undefined) {
        const said = options.onRateLimit?.(err, delayMs);
        if (said) deps.info?.(said);
      }
    },
    sleep: deps.sleep,
    random: deps.random,
  });
}

/** `10 s`, `63 s`, or `250 ms` below a second; whole seconds rounded up. */
export function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.ceil(ms / 1000)} s` : `${ms} ms`;
}

/** A JSON object, or `null` when the answer is not one. */
export function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
