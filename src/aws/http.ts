/**
 * How the AWS SDK clients talk HTTP: every request has time-outs, so a hung endpoint (or a proxy
 * that holds the connection open) costs a bounded number of bounded tries, never the whole job;
 * and every request goes through HTTPS_PROXY unless NO_PROXY lists its host, as the runner's own
 * requests do (the SDK itself ignores both).
 */
import type { NodeHttpHandlerOptions } from '@smithy/types';
import { proxyAwareAgents } from '../net/proxy.js';

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

/**
 * Options for the SDK's Node request handler (`requestHandler` of any v3 client), with agents of
 * their own that the client's `destroy()` closes. `env` is where the proxy variables are read.
 */
export function awsRequestHandler(
  timeouts: AwsHttpTimeouts = AWS_HTTP_TIMEOUTS,
  env: NodeJS.ProcessEnv = process.env,
): NodeHttpHandlerOptions {
  return {
    ...proxyAwareAgents(env),
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    // Without this the handler only logs a warning when requestTimeout passes, and keeps waiting.
    throwOnRequestTimeout: true,
    socketTimeout: timeouts.idleTimeoutMs,
  };
}
