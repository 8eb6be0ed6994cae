import { describe, expect, it } from 'vitest';
import { isRateLimited, requestedDelayMs } from '../../src/github/issues.js';
import { backoffDelay, withRetries } from '../../src/retry.js';

const httpError = (status: number, message: string, headers: Record<string, string> = {}) =>
  Object.assign(new Error(message), { status, response: { headers } });

describe('GitHub rate limits', () => {
  it('honours retry-after, then x-ratelimit-reset', () => {
    expect(requestedDelayMs(httpError(403, 'secondary rate limit', { 'retry-after': '3' }), 0)).toBe(3000);
    expect(
      requestedDelayMs(
        httpError(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '100' }),
        95_000,
      ),
    ).toBe(6000);
    expect(requestedDelayMs(httpError(502, 'Bad gateway'), 0)).toBeUndefined();
  });

  it('tells a rate limit from a missing permission', () => {
    expect(isRateLimited(httpError(403, 'You have exceeded a secondary rate limit'))).toBe(true);
    expect(isRateLimited(httpError(429, 'Too many requests'))).toBe(true);
    expect(isRateLimited(httpError(403, 'Resource not accessible by integration'))).toBe(false);
  });
});

describe('withRetries', () => {
  it('retries what is retryable, a bounded number of times, with growing pauses', async () => {
    const pauses: number[] = [];
    let calls = 0;
    const failing = withRetries(
      async () => {
        calls++;
        throw new Error('busy');
      },
      {
        attempts: 4,
        baseMs: 100,
        capMs: 1000,
        retryable: () => true,
        sleep: async (ms) => void pauses.push(ms),
        random: () => 1,
      },
    );
    await expect(failing).rejects.toThrow('busy');
    expect(calls).toBe(4);
    expect(pauses).toEqual([100, 200, 400]);
  });

  it('stops at once on an error that is not retryable, and prefers the delay asked for', async () => {
    const pauses: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        if (calls++ === 0) throw new Error('wait');
        return 'ok';
      },
      {
        attempts: 3,
        baseMs: 100,
        capMs: 1000,
        retryable: () => true,
        requestedDelayMs: () => 1234,
        sleep: async (ms) => void pauses.push(ms),
      },
    );
    expect(result).toBe('ok');
    expect(pauses).toEqual([1234]);
    await expect(
      withRetries(async () => Promise.reject(new Error('no')), {
        attempts: 5,
        baseMs: 1,
        capMs: 1,
        retryable: () => false,
        sleep: async () => {},
      }),
    ).rejects.toThrow('no');
  });

  it('jitters within half to all of the capped step', () => {
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(500);
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(1000);
  });
});
