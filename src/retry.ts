/** Bounded retries with jittered exponential backoff. The sleep and the randomness are injected for tests. */

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  baseMs: number;
  capMs: number;
  retryable: (err: unknown) => boolean;
  /** A delay the other side asked for (`retry-after`), used instead of the backoff when given. */
  requestedDelayMs?: (err: unknown) => number | undefined;
  sleep: Sleep;
  random?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** "Equal jitter": half the exponential step fixed, half random, so retries spread out but always wait. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const step = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(step / 2 + (random() * step) / 2);
}

export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= options.attempts || !options.retryable(err)) throw err;
      const delay = options.requestedDelayMs?.(err) ?? backoffDelay(attempt, options.baseMs, options.capMs, random);
      options.onRetry?.(err, attempt + 1, delay);
      await options.sleep(delay);
    }
  }
}
