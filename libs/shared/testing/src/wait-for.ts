// Bounded polling: every wait in the helpers and their tests goes through here, so none of them
// sleeps a fixed time and each one fails with a TRL_TESTING_WAIT_TIMEOUT that says what it awaited.
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import { TestingError } from './errors.js';

export interface WaitForOptions {
  /** Overall bound, measured on `clock`; a probe still running at the deadline is abandoned. */
  readonly timeoutMs: number;
  /** Pause between a failed probe and the next one (default 50 ms). */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message ("nats-server on 127.0.0.1:4222 to be ready"). */
  readonly what: string;
  readonly clock?: Clock;
  /** Stops waiting early: the returned promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/** What a probe returns while the condition does not hold yet. */
export type NotYet = undefined | null | false;

/**
 * Calls `probe` until it returns something other than `undefined`, `null` or `false`, and resolves
 * with that value. A probe that throws counts as "not yet"; the last such error becomes the
 * `cause` of the timeout error, so a refused connection or a 503 still shows up in the failure.
 */
export function waitFor<T>(
  probe: () => T | NotYet | Promise<T | NotYet>,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 50, what, clock = systemClock, signal } = options;
  if (!(timeoutMs >= 0) || !(intervalMs >= 0)) {
    throw new TestingError(
      'TRL_TESTING_INVALID_OPTION',
      `waitFor needs non-negative timeoutMs and intervalMs (got ${timeoutMs}, ${intervalMs})`,
    );
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let lastError: unknown;
    let hadError = false;
    let pollTimer: Timer | undefined;

    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      deadline.cancel();
      pollTimer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = (): void => settle(() => reject(signal?.reason));
    const deadline = clock.setTimer(timeoutMs, () =>
      settle(() =>
        reject(
          new TestingError(
            'TRL_TESTING_WAIT_TIMEOUT',
            `timed out after ${timeoutMs} ms waiting for ${what}` +
              (hadError ? ` (last error: ${describe(lastError)})` : ''),
            hadError ? { cause: lastError } : undefined,
          ),
        ),
      ),
    );
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const attempt = async (): Promise<void> => {
      let value: T | NotYet;
      try {
        value = await probe();
      } catch (err) {
        hadError = true;
        lastError = err;
        value = undefined;
      }
      if (settled) return;
      if (value === undefined || value === null || value === false) {
        pollTimer = clock.setTimer(intervalMs, () => void attempt());
      } else {
        const result = value;
        settle(() => resolve(result));
      }
    };
    void attempt();
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
