/**
 * The WeCom (企业微信) HTTP client: the group robot webhook and the app message API. The only module
 * that talks to WeCom. Secrets (the webhook key, the corp secret, the access token) never appear in
 * an error message: they live in URLs, which are never quoted.
 */
import { isIP } from 'node:net';
import { request } from 'undici';
import { proxyDispatcher } from '../net/proxy.js';
import { withRetries, type Sleep } from '../retry.js';

export interface WecomDeps {
  sleep: Sleep;
  random?: () => number;
  /** Masks a value in every later log line. */
  setSecret: (secret: string) => void;
  /** Per request, connecting and reading the body included. Default 10 s. A time-out is not retried. */
  timeoutMs?: number;
  /**
   * Total attempts per call, the first included, for rate limits, busy, 5xx and failed
   * connections. Default 4: at most 4 requests, with pauses of at most 2, 4 and 8 s between them,
   * except that one frequency limit (45009) is waited out for a minute (`RATE_LIMIT_WAIT_MS`) and
   * a second one ends the call. With the 10 s time-out a call ends within 4 × 10 + 65 + 4 + 8 =
   * 117 s, whatever WeCom does; without a 45009, within 4 × 10 + 14 = 54 s.
   */
  attempts?: number;
  /** Says what the call is waiting for, when it waits out a rate limit. */
  info?: (message: string) => void;
}

export class WecomError extends Error {
  override readonly name = 'WecomError';

  /** `message` without the hint. */
  readonly problem: string;

  constructor(
    message: string,
    /** WeCom's errcode, or `null` for an HTTP or network failure. */
    readonly code: number | null,
    /** What the user can do about it; also the end of `message`. */
    readonly hint: string,
    /** Worth another try: rate limit, busy, 5xx, network, time-out. */
    readonly retryable = false,
  ) {
    super(hint ? `${message}. ${hint}` : message);
    this.problem = message;
  }
}

export type RobotMessage =
  | { msgtype: 'markdown'; markdown: { content: string } }
  | { msgtype: 'text'; text: { content: string; mentioned_list?: string[]; mentioned_mobile_list?: string[] } };

export interface WecomApp {
  baseUrl: string;
  corpId: string;
  corpSecret: string;
  agentId: number;
  toUser: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ATTEMPTS = 4;
/** WeCom's frequency limit: a group robot takes 20 messages a minute. */
const RATE_LIMITED = 45009;
/** System busy, frequency limit, concurrency limit. */
const RETRYABLE_ERRCODES = new Set([-1, RATE_LIMITED, 45033]);

/**
 * How long a call waits after a frequency limit (45009) before its one more try: the robot's
 * minute and a little more. WeCom counts failed sends too and does not say whether its minute is
 * rolling or fixed, so a try within the minute only prolongs the limit; after 61 s the refused
 * send and everything before it are out of either kind of minute. The wait is spread over 4 s so
 * that jobs limited together do not all come back in the same instant.
 */
export const RATE_LIMIT_WAIT_MS = { min: 61_000, max: 65_000 } as const;

/** POSTs a robot message to the group robot's webhook. */
export async function sendRobotMessage(webhookUrl: string, message: RobotMessage, deps: WecomDeps): Promise<void> {
  const problem = webhookUrlProblem(webhookUrl);
  if (problem) throw new WecomError(problem, null, '');
  const key = new URL(webhookUrl).searchParams.get('key') ?? '';
  deps.setSecret(key);
  await callWithRetries('WeCom robot webhook (key hidden)', new URL(webhookUrl), message, deps);
}

/** Gets an access token with the corp ID and the app's secret, then sends `content` as the app. */
export async function sendAppMessage(app: WecomApp, content: string, deps: WecomDeps): Promise<void> {
  const problem = apiBaseUrlProblem(app.baseUrl);
  if (problem) throw new WecomError(problem, null, '');
  deps.setSecret(app.corpSecret);

  const tokenUrl = apiUrl(app.baseUrl, 'gettoken', { corpid: app.corpId, corpsecret: app.corpSecret });
  const reply = await callWithRetries('WeCom gettoken', tokenUrl, undefined, deps);
  const token = reply['access_token'];
  if (typeof token !== 'string' || token === '') {
    throw new WecomError('WeCom gettoken answered without an access_token', null, '');
  }
  deps.setSecret(token);

  const sendUrl = apiUrl(app.baseUrl, 'message/send', { access_token: token });
  const body = { touser: app.toUser, msgtype: 'text', agentid: app.agentId, text: { content } };
  await callWithRetries('WeCom message/send', sendUrl, body, deps);
}

/** Why `url` cannot be the `wecom-webhook-url`, or `null`. Never quotes the URL: it holds the key. */
export function webhookUrlProblem(url: string): string | null {
  const fix =
    "Copy the whole webhook URL from the group robot's settings (…/cgi-bin/webhook/send?key=…) into a secret.";
  const parsed = parseUrl(url);
  if (!parsed) return `Input "wecom-webhook-url" is not a URL. ${fix}`;
  const scheme = schemeProblem(parsed, 'wecom-webhook-url');
  if (scheme) return `${scheme} ${fix}`;
  if (!parsed.searchParams.get('key')) return `Input "wecom-webhook-url" has no key parameter. ${fix}`;
  return null;
}

/** Why `url` cannot be the `wecom-api-base-url`, or `null`. */
export function apiBaseUrlProblem(url: string): string | null {
  const fix = 'Use https://qyapi.weixin.qq.com (the default) or the https:// address of your proxy to it.';
  const parsed = parseUrl(url);
  if (!parsed) return `Input "wecom-api-base-url" is not a URL. ${fix}`;
  const scheme = schemeProblem(parsed, 'wecom-api-base-url');
  if (scheme) return `${scheme} ${fix}`;
  if (parsed.search || parsed.hash) return `Input "wecom-api-base-url" must not have a query or fragment. ${fix}`;
  return null;
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** https://, or http:// to this machine only (tests, local proxies): nothing else crosses a network in clear. */
function schemeProblem(url: URL, input: string): string | null {
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return null;
  return `Input "${input}" must start with https:// (http:// is allowed only to 127.0.0.1, ::1 or localhost).`;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** `${base}/cgi-bin/${path}?${query}`, keeping any path prefix of the base (a proxy's). */
function apiUrl(base: string, path: string, query: Record<string, string>): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/cgi-bin/${path}`;
  url.search = new URLSearchParams(query).toString();
  return url;
}

/**
 * `call` with bounded, jittered retries of transient failures. A frequency limit (45009) is
 * waited out once for the robot's minute; a second one ends the call, as retrying within the
 * minute would only spend more of the robot's 20 messages.
 */
async function callWithRetries(
  what: string,
  url: URL,
  body: unknown,
  deps: WecomDeps,
): Promise<Record<string, unknown>> {
  const random = deps.random ?? Math.random;
  const isRateLimit = (err: unknown): err is WecomError => err instanceof WecomError && err.code === RATE_LIMITED;
  let waitedMs: number | null = null;
  try {
    return await withRetries(() => call(what, url, body, deps), {
      attempts: deps.attempts ?? DEFAULT_ATTEMPTS,
      baseMs: 2000,
      capMs: 15_000,
      retryable: (err) => err instanceof WecomError && err.retryable && !(isRateLimit(err) && waitedMs !== null),
      requestedDelayMs: (err) => {
        if (!isRateLimit(err)) return undefined;
        const { min, max } = RATE_LIMIT_WAIT_MS;
        waitedMs = Math.round(min + random() * (max - min));
        return waitedMs;
      },
      onRetry: (err, _attempt, delayMs) => {
        if (isRateLimit(err)) {
          deps.info?.(
            `${what}: rate-limited (errcode ${RATE_LIMITED}, 20 messages a minute per robot); waiting ${seconds(delayMs)}, then trying once more.`,
          );
        }
      },
      sleep: deps.sleep,
      random,
    });
  } catch (err) {
    if (isRateLimit(err) && waitedMs !== null) {
      throw new WecomError(`${err.problem} again after a ${seconds(waitedMs)} wait`, err.code, err.hint, true);
    }
    throw err;
  }
}

/** One request: GET without a body, POST JSON with one. Resolves with WeCom's reply when errcode is 0. */
async function call(what: string, url: URL, body: unknown, deps: WecomDeps): Promise<Record<string, unknown>> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? null : JSON.stringify(body),
      // One deadline for connecting, the headers and the body: a hanging server cannot stall the job.
      signal: AbortSignal.timeout(timeoutMs),
      // Through HTTPS_PROXY when the runner has one, as the runner's own requests go.
      dispatcher: proxyDispatcher(url),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw networkError(what, err, timeoutMs);
  }

  if (status < 200 || status > 299) {
    const transient = status >= 500 || status === 429;
    const hint = transient ? 'WeCom, or a proxy in front of it, failed; try again later.' : 'Check the URL.';
    throw new WecomError(`${what} failed: HTTP ${status}`, null, hint, transient);
  }
  const reply = parseReply(text);
  if (!reply) {
    throw new WecomError(`${what} failed: the answer is not WeCom's JSON`, null, 'Check the URL points at WeCom.');
  }
  const code = reply['errcode'] as number;
  if (code !== 0) {
    const errmsg = cleanErrmsg(String(reply['errmsg'] ?? ''));
    throw new WecomError(
      `${what} failed: errcode ${code} (${errmsg})`,
      code,
      hintFor(code),
      RETRYABLE_ERRCODES.has(code),
    );
  }
  return reply;
}

function parseReply(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    const ok =
      typeof value === 'object' && value !== null && typeof (value as { errcode?: unknown }).errcode === 'number';
    return ok ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * No answer at all. Names the failure by its code only: some network errors quote the address.
 * A connection that failed is retried. A request that timed out is not: WeCom may have taken the
 * message all the same (a second try would post it twice and spend the robot's 20 a minute), and
 * a server that did not answer in 10 s rarely answers the next time; one time-out ends the call.
 */
function networkError(what: string, err: unknown, timeoutMs: number): WecomError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: string; code?: unknown };
  const timedOut = e.name === 'TimeoutError' || (typeof e.code === 'string' && e.code.endsWith('_TIMEOUT'));
  if (timedOut) {
    return new WecomError(
      `${what} failed: no answer in ${seconds(timeoutMs)}`,
      null,
      'Check that the runner can reach WeCom.',
      false,
    );
  }
  const detail = `could not reach WeCom (${typeof e.code === 'string' ? e.code : (e.name ?? 'network error')})`;
  return new WecomError(`${what} failed: ${detail}`, null, 'Check that the runner can reach WeCom.', true);
}

/** `10 s`, `63 s`, or `250 ms` below a second; whole seconds rounded up. */
function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.ceil(ms / 1000)} s` : `${ms} ms`;
}

/** WeCom's errmsg without its `from ip: …` and `more info at …` tail. */
function cleanErrmsg(errmsg: string): string {
  return errmsg.replace(/,?\s*(from ip:|more info at)[\s\S]*$/, '').trim();
}

function hintFor(code: number): string {
  switch (code) {
    case 93000:
      return "The webhook URL or its key is wrong: copy the whole URL from the group robot's settings into the secret used for wecom-webhook-url.";
    case 40058:
      return 'WeCom found the message too long or a parameter invalid (markdown takes at most 4096 bytes, text 2048).';
    case 60020:
      return "The app's trusted IP list does not include this runner. GitHub-hosted runners change IP: use a self-hosted runner with a fixed IP on the list, or the group robot (wecom-webhook-url).";
    case 40001:
    case 40013:
    case 40014:
    case 42001:
      return "The corp ID, the app's secret or the access token is wrong or expired: check the corp ID and the app's secret.";
    case 40056:
      return "The agent ID is not the app's: copy it from the app's page in the WeCom admin console.";
    case RATE_LIMITED:
      return 'A group robot takes at most 20 messages a minute, refused ones included, from every job and workflow that posts to it. Jobs cannot take turns: post many accounts through one digest (organisation mode) rather than a message from each job.';
    case 45033:
      return 'WeCom refused too many calls at the same time, even after retries; try again later.';
    case -1:
      return 'WeCom was busy; try again later.';
    default:
      return '';
  }
}
