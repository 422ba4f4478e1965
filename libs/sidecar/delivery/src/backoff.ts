// Retry pacing for sync requests and connection attempts: exponential steps, capped, with
// "equal jitter" — half of each step is fixed, half random — so one client never retries faster
// than half a step, and thousands of clients that failed together spread their retries out.

export interface BackoffParams {
  /** First step in ms (default 250). */
  readonly initialMs: number;
  /** Largest step in ms (default 10 000). */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffParams = { initialMs: 250, maxMs: 10_000 };

/** Delay before retry number `attempt` (0 for the first retry); `random()` returns [0, 1). */
export function backoffDelay(attempt: number, params: BackoffParams, random: () => number): number {
  // The exponent is clamped so a long outage cannot overflow to Infinity.
  const step = Math.min(params.maxMs, params.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return step / 2 + random() * (step / 2);
}
