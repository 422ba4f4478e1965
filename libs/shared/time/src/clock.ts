// Time as a dependency: policy code (retries, timeouts, breakers, buckets, EWMA) reads the clock
// and schedules timers only through this interface, so tests drive it with FakeClock.

/** A cancellable timer handle. Cancelling twice, or after it fired, is harmless. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (fractional allowed); only differences are meaningful. */
  now(): number;
  /** Runs `callback` once after `delayMs` (clamped to ≥ 0). */
  setTimer(delayMs: number, callback: () => void): Timer;
}

/** The process clock: `performance.now()` and unref'd timers that never keep the process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, callback) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
