/** Reading AWS SDK errors without importing the SDK into callers, and saying what went wrong. */

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
}

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** The error code (`AccessDenied`, `Throttling`, …) with the SDK's `Exception` suffix removed. */
export function awsErrorCode(err: unknown): string {
  return (shape(err).name ?? 'Error').replace(/Exception$/, '');
}

export function httpStatus(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

/** Refused for want of a permission. An expired session (also HTTP 403) is not a denial: nothing to grant. */
export function isAccessDenied(err: unknown): boolean {
  if (isExpiredSession(err)) return false;
  const code = awsErrorCode(err);
  return code === 'AccessDenied' || code === 'UnauthorizedOperation' || httpStatus(err) === 403;
}

/**
 * An answer that arrived whole by HTTP but not whole as XML (a proxy or a dropped connection cut
 * it). Marked `$retryable`, so the SDK's own bounded retry sends the request again, and
 * `isTransient` says so to any caller that retries.
 */
export class CutAnswerError extends Error {
  override readonly name = 'CutAnswer';
  readonly $retryable = { throttling: false };
}

/** The role session (or the credentials an earlier step gave) ran out during the run. */
export function isExpiredSession(err: unknown): boolean {
  const code = awsErrorCode(err);
  return code === 'ExpiredToken' || /security token included in the request is expired/i.test(errorMessage(err));
}

const THROTTLING = /^(Throttling|RequestLimitExceeded|TooManyRequests|RequestThrottled|SlowDown)$/;
const SERVER_FAULT = /^(ServiceFailure|ServiceUnavailable|InternalFailure|InternalError|IDPCommunicationError)$/;
/** Node's codes for a connection that failed or was cut, and the SDK's names for its time-outs. */
const NETWORK =
  /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+|TimeoutError|RequestTimeout)$/;

function isThrottling(err: unknown): boolean {
  return THROTTLING.test(awsErrorCode(err)) || httpStatus(err) === 429;
}

/** No answer, or a cut one: the request may go through on another try. */
function isNetworkFault(err: unknown): boolean {
  const e = shape(err);
  if (NETWORK.test(awsErrorCode(err)) || (typeof e.code === 'string' && NETWORK.test(e.code))) return true;
  return /\b(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up)\b/.test(e.message ?? '');
}

/**
 * Worth another try: throttling, 5xx, no answer or a cut one, and a 2xx answer the SDK could not
 * read. Never an expired session, a denial or a request the service refused as wrong.
 */
export function isTransient(err: unknown): boolean {
  if (isExpiredSession(err) || awsErrorCode(err) === 'AbortError') return false;
  if (shape(err).$retryable !== undefined) return true;
  if (isThrottling(err) || SERVER_FAULT.test(awsErrorCode(err))) return true;
  const status = httpStatus(err);
  if (status !== undefined) {
    // A 2xx on an error means the SDK could not parse a successful answer: it arrived damaged.
    return status >= 500 || (status >= 200 && status < 300);
  }
  return isNetworkFault(err);
}

/** What the run was doing, for `describeAwsFailure`. */
export interface FailureContext {
  /** The role's session length, when a role was assumed; `null` when credentials came from the environment. */
  roleDurationSeconds?: number | null;
  /** The permission the failed call needs (`iam:UpdateAccessKey`): a denial then says to grant it. */
  permission?: string;
}

/**
 * One or two sentences for a person: which step failed, what AWS said, and what to do. `step` is
 * a phrase such as "listing the keys of user alice" or "fetching the credential report".
 *
 *     Listing the keys of user alice failed: the AWS session expired (ExpiredToken) before the scan
 *     finished. Raise role-duration-seconds (now 900 s) …
 */
export function describeAwsFailure(err: unknown, step: string, context: FailureContext = {}): string {
  const what = `${step.charAt(0).toUpperCase()}${step.slice(1)} failed`;
  const said = `${awsErrorCode(err)}: ${sdkMessage(err)}`;
  const tries = attemptsText(err);

  if (isExpiredSession(err)) {
    const duration = context.roleDurationSeconds;
    const fix =
      duration === null
        ? 'The credentials from the environment expired: have the earlier step that sets them make them last longer, or set role-to-assume so this action signs in itself.'
        : `Raise role-duration-seconds (now ${duration === undefined ? 'the default, 900' : duration} s; up to the role's maximum session duration, which may need raising too), or scan fewer users per run.`;
    return `${what}: the AWS session expired before the scan finished (${said}). ${fix}`;
  }
  if (isAccessDenied(err)) {
    const grant = context.permission
      ? `Grant ${context.permission} in the role's policy.`
      : "Allow the action it names in the role's policy.";
    return `${what}: access denied (${said}). ${grant}`;
  }
  if (err instanceof CutAnswerError) {
    return `${what}: ${sdkMessage(err)}${tries}. Run the job again; if it repeats, a proxy may be cutting large answers.`;
  }
  if (isThrottling(err)) {
    return `${what}: AWS kept throttling the requests${tries} (${said}). Other tools may be calling IAM in this account at the same time: run again later.`;
  }
  if (isNetworkFault(err) || awsErrorCode(err) === 'AbortError') {
    return `${what}: no answer from AWS${tries} (${said}). Check that the runner can reach AWS (a firewall or proxy in between) and run again.`;
  }
  const status = httpStatus(err);
  if (status !== undefined && status >= 200 && status < 300) {
    return `${what}: the answer from AWS could not be read${tries} (${said}). Run the job again; if it repeats, a proxy may be changing the answers.`;
  }
  if (isTransient(err)) {
    return `${what}: AWS failed${tries} (${said}). Run again later.`;
  }
  return `${what}: ${said}.`;
}

/** ` after 10 tries`, when the SDK tried more than once. */
function attemptsText(err: unknown): string {
  const attempts = shape(err).$metadata?.attempts;
  return attempts !== undefined && attempts > 1 ? ` after ${attempts} tries` : '';
}

/**
 * The SDK's message without its advice to inspect hidden fields (which a workflow user cannot do)
 * and without the HTTP handler's package name, to be set inside a sentence of ours.
 */
export function sdkMessage(err: unknown): string {
  return errorMessage(err)
    .replace(/\s*Deserialization error: to see the raw response[\s\S]*$/, '')
    .replace(/^@smithy\/node-http-handler - (\[ERROR\] )?/, '')
    .trim()
    .replace(/\.$/, '');
}

/** An error's message without a closing period, to be set inside a sentence of ours. */
export function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim().replace(/\.$/, '');
}
