import { describe, expect, it } from 'vitest';
import { shouldNotify } from '../../src/sinks/wecom.js';

describe('shouldNotify', () => {
  it.each([
    ['stale', 3, null, true],
    ['stale', 0, true, false],
    ['always', 0, false, true],
    ['changed', 3, false, false],
    ['changed', 0, true, true],
    ['changed', 3, null, true],
    ['changed', 0, null, false],
  ] as const)('notify-when %s with %i stale keys, changed %s → %s', (when, stale, changed, expected) => {
    expect(shouldNotify(when, stale, changed)).toBe(expected);
  });
});
