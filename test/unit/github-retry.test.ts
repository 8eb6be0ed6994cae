import { describe, expect, it } from 'vitest';
import { RequestError } from '@octokit/request-error';
import {
  DeadlineError,
  describeGithubError,
  duration,
  NoAnswerError,
  startDeadline,
} from '../../src/tracking-issue/github-client.js';
import { backoffDelay, withRetries } from '../../src/retry.js';

const request = {
  method: 'GET' as const,
  url: 'http://127.0.0.1:1/repos/o/r/issues?labels=security&state=open',
  headers: { authorization: 'token ghs_secret0000' },
};

describe('describeGithubError', () => {
  it('says what GitHub answered, to which request, and never a header', () => {
    const err = new RequestError('Bad Gateway', 502, {
      request,
      response: { status: 502, url: request.url, headers: {}, data: { message: 'Bad Gateway' } },
    });
    const text = describeGithubError(err);
    expect(text).toBe('GitHub answered 502 to GET /repos/o/r/issues: Bad Gateway');
    expect(text).not.toContain('ghs_secret');
  });

  it('says no answer came when none did, instead of a status nobody sent', () => {
    // What @octokit/request makes of a fetch that was aborted by the time-out: status 500, the cause kept.
    const timedOut = new RequestError('GitHub gave no answer in 30 s to GET /repos/o/r/issues', 500, { request });
    timedOut.cause = new NoAnswerError('GitHub gave no answer in 30 s to GET /repos/o/r/issues');
    expect(describeGithubError(timedOut)).toBe('GitHub gave no answer in 30 s to GET /repos/o/r/issues');
    const refused = new RequestError('connect ECONNREFUSED 127.0.0.1:1', 500, { request });
    expect(describeGithubError(refused)).toBe(
      'GitHub could not be reached for GET /repos/o/r/issues: connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});

describe('duration', () => {
  it('reads as people write it', () => {
    expect(duration(30_000)).toBe('30 s');
    expect(duration(1_500)).toBe('1.5 s');
    expect(duration(200)).toBe('200 ms');
  });
});

describe('startDeadline', () => {
  it('ends a race at the deadline with a DeadlineError, and aborts its signal', async () => {
    const deadline = startDeadline(50);
    const started = Date.now();
    const never = new Promise<string>(() => {});
    await expect(deadline.race(never)).rejects.toThrow(DeadlineError);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.remainingMs()).toBe(0);
    await expect(deadline.race(Promise.resolve('late'))).rejects.toThrow(/the 50 ms allowed for GitHub ran out/);
  });

  it('lets work that finishes in time through, and counts time left on the injected clock', async () => {
    let t = 1_000;
    const deadline = startDeadline(10_000, () => t);
    await expect(deadline.race(Promise.resolve('done'))).resolves.toBe('done');
    await expect(deadline.race(Promise.reject(new Error('own failure')))).rejects.toThrow('own failure');
    t = 7_000;
    expect(deadline.remainingMs()).toBe(4_000);
  });
});

// src/retry.ts, still used by the AWS and WeCom clients.
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
