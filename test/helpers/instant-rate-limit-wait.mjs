/**
 * Preloaded into the action's process by end-to-end tests (`NODE_OPTIONS=--import=…`, see
 * `instantRateLimitWait` in wecom.test.ts): a timer of 61 to 65 s, which only the WeCom client's
 * wait after a 45009 sets, fires at once, and its delay is written to stderr as
 * `[instant-rate-limit-wait] 63000 ms`. So a test sees the built bundle ask for the robot's minute
 * without waiting for it. Every other timer is left alone.
 */
const realSetTimeout = globalThis.setTimeout;

globalThis.setTimeout = function setTimeout(callback, ms, ...args) {
  if (typeof ms === 'number' && ms >= 61_000 && ms <= 65_000) {
    process.stderr.write(`[instant-rate-limit-wait] ${ms} ms\n`);
    return realSetTimeout(callback, 0, ...args);
  }
  return realSetTimeout(callback, ms, ...args);
};
