/**
 * How the AWS SDK clients talk HTTP: every request has time-outs, so a hung endpoint (or a proxy
 * that holds the connection open) costs a bounded number of bounded tries, never the whole job.
 */
import type { NodeHttpHandlerOptions } from '@smithy/types';

export interface AwsHttpTimeouts {
  /** Until the TCP (and TLS) connection is up. */
  connectionTimeoutMs: number;
  /** From sending the request until the answer's headers arrive. */
  requestTimeoutMs: number;
  /** The longest silence while the answer's body streams in (a 15 MB credential report). */
  idleTimeoutMs: number;
}

export const AWS_HTTP_TIMEOUTS: AwsHttpTimeouts = {
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 20_000,
  idleTimeoutMs: 20_000,
};

/** Options for the SDK's Node request handler (`requestHandler` of any v3 client). */
export function awsRequestHandler(timeouts: AwsHttpTimeouts = AWS_HTTP_TIMEOUTS): NodeHttpHandlerOptions {
  return {
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    // Without this the handler only logs a warning when requestTimeout passes, and keeps waiting.
    throwOnRequestTimeout: true,
    socketTimeout: timeouts.idleTimeoutMs,
  };
}
