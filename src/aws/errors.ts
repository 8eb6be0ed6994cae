/** Reading AWS SDK errors without importing the SDK into callers. */

interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
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

export function isAccessDenied(err: unknown): boolean {
  const code = awsErrorCode(err);
  return code === 'AccessDenied' || code === 'UnauthorizedOperation' || httpStatus(err) === 403;
}

/** Throttling, 5xx and network failures: worth another try. */
export function isTransient(err: unknown): boolean {
  const code = awsErrorCode(err);
  if (
    /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequests|ServiceFailure|ServiceUnavailable|InternalFailure|IDPCommunicationError)$/.test(
      code,
    )
  ) {
    return true;
  }
  const status = httpStatus(err);
  if (status !== undefined) return status >= 500 || status === 429;
  // No HTTP answer at all: a network fault.
  return /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|TimeoutError/i.test(
    `${code} ${shape(err).message ?? ''}`,
  );
}

/** An error's message without a closing period, to be set inside a sentence of ours. */
export function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim().replace(/\.$/, '');
}
