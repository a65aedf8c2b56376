/**
 * The clock port: the control layer reads time and sets timers only through a `Clock`, so unit
 * tests drive retries, timeouts and grace periods with a fake clock they advance by hand
 * (test/unit/fakes/control-harness.ts) instead of waiting.
 */

/** A pending timer, as `Clock.setTimeout` returned it (opaque: only its clock can clear it). */
export type Timer = object;

/** Time and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Stops a timer that has not fired (a fired or cleared one is ignored). */
  clearTimeout(timer: Timer): void;
}

/**
 * The real clock. Its timers are unref'd: a pending retry backoff, task timeout, idle lease or
 * cancel grace period never keeps a driver's process alive on its own.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
