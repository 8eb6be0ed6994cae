/**
 * The job's OIDC token from the runner's token endpoint (what `core.getIDToken` does), with a
 * time-out on every request and bounded, jittered retries of the runner's transient failures.
 * The token, and the runner's request token, are masked before anything could print them.
 */
import { request, type Dispatcher } from 'undici';
import { proxyDispatcher } from '../net/proxy.js';
import { withRetries, type Sleep } from '../retry.js';

export interface IdTokenDeps {
  /** Where ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (and any HTTPS_PROXY/NO_PROXY) are read. */
  env: NodeJS.ProcessEnv;
  /** Masks a value in every later log line. */
  setSecret: (secret: string) => void;
  sleep: Sleep;
  random?: () => number;
  info?: (message: string) => void;
  /** Per request, connecting and reading the body included. Default 10 s. */
  timeoutMs?: number;
  /** Total requests, the first included. Default 5. */
  attempts?: number;
}

export const ID_TOKEN_TIMEOUT_MS = 10_000;
export const ID_TOKEN_ATTEMPTS = 5;

export class IdTokenError extends Error {
  override readonly name = 'IdTokenError';

  constructor(
    message: string,
    /** The job lacks `permissions: id-token: write` (no request variables, or the runner said 401/403). */
    readonly permissionMissing: boolean,
    /** Worth another request: 5xx, 408, 429, no answer, a cut answer. */
    readonly retryable = false,
  ) {
    super(message);
  }
}

/**
 * Requests the job's OIDC token for `audience` and masks it. Throws an `IdTokenError` whose
 * message says what happened (without the URL's secrets) and whether the permission is missing.
 */
export async function requestIdToken(audience: string, deps: IdTokenDeps): Promise<string> {
  const requestUrl = deps.env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '';
  const requestToken = deps.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? '';
  if (!requestUrl || !requestToken) {
    const missing = [!requestUrl && 'ACTIONS_ID_TOKEN_REQUEST_URL', !requestToken && 'ACTIONS_ID_TOKEN_REQUEST_TOKEN']
      .filter(Boolean)
      .join(' and ');
    throw new IdTokenError(`the runner gave this job no ${missing}`, true);
  }
  deps.setSecret(requestToken);
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new IdTokenError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', false);
  }
  url.searchParams.set('audience', audience);

  const timeoutMs = deps.timeoutMs ?? ID_TOKEN_TIMEOUT_MS;
  const attempts = deps.attempts ?? ID_TOKEN_ATTEMPTS;
  const dispatcher = proxyDispatcher(url, deps.env);
  return await withRetries(() => fetchToken(url, requestToken, timeoutMs, dispatcher, deps.setSecret), {
    attempts,
    baseMs: 1000,
    capMs: 8000,
    retryable: (err) => err instanceof IdTokenError && err.retryable,
    sleep: deps.sleep,
    random: deps.random,
    onRetry: (err, attempt, delay) =>
      deps.info?.(
        `The runner's OIDC token request failed (${err instanceof Error ? err.message : String(err)}); try ${attempt + 1} of ${attempts} in ${delay} ms.`,
      ),
  }).catch((err: unknown) => {
    // Retries ran out: say so, or the user would think one failure stopped the job.
    if (err instanceof IdTokenError && err.retryable && attempts > 1) {
      throw new IdTokenError(`${err.message} on the last of ${attempts} tries`, err.permissionMissing, true);
    }
    throw err;
  });
}

/** One request to the token endpoint. */
async function fetchToken(
  url: URL,
  requestToken: string,
  timeoutMs: number,
  dispatcher: Dispatcher | undefined,
  setSecret: (secret: string) => void,
): Promise<string> {
  let status: number;
  let body: string;
  try {
    const res = await request(url, {
      method: 'GET',
      headers: {
        authorization: `Bearer ${requestToken}`,
        accept: 'application/json',
        'user-agent': 'iam-stale-keys',
      },
      // One deadline for connecting, the headers and the body.
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher && { dispatcher }),
    });
    status = res.statusCode;
    body = await res.body.text();
  } catch (err) {
    throw new IdTokenError(`the runner's token endpoint ${noAnswer(err, timeoutMs)}`, false, true);
  }

  if (status === 200) {
    const value = tokenOf(body);
    if (value === undefined) {
      // Not JSON at all: most likely cut short on the way, so another request may do.
      throw new IdTokenError("the runner's token endpoint answered HTTP 200 with a body that is not JSON", false, true);
    }
    if (!value) throw new IdTokenError("the runner's token endpoint answered without a token", false);
    setSecret(value);
    return value;
  }
  const said = runnerMessage(body);
  const answered = `the runner's token endpoint answered HTTP ${status}${said ? ` (${said})` : ''}`;
  if (status === 401 || status === 403) throw new IdTokenError(answered, true);
  throw new IdTokenError(answered, false, status >= 500 || status === 408 || status === 429);
}

/** `undefined` when the body is not JSON, `''` when JSON without a string `value`. */
function tokenOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const value = typeof parsed === 'object' && parsed !== null ? (parsed as { value?: unknown }).value : undefined;
    return typeof value === 'string' ? value : '';
  } catch {
    return undefined;
  }
}

/** The runner's own short explanation (`{"message": …}`), at most 200 characters. */
function runnerMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? message.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  } catch {
    return '';
  }
}

/** Why no answer came. By code and time only: some network errors quote the address. */
function noAnswer(err: unknown, timeoutMs: number): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: string; code?: unknown };
  if (e.name === 'TimeoutError' || (typeof e.code === 'string' && e.code.endsWith('_TIMEOUT'))) {
    return `gave no answer in ${seconds(timeoutMs)}`;
  }
  return `could not be reached (${typeof e.code === 'string' ? e.code : (e.name ?? 'network error')})`;
}

/** `10 s`, or `250 ms` below a second. */
export function seconds(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
