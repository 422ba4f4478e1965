// How long the primary waits before restarting a crashed worker: doubling from `initialMs` up to
// `maxMs`, so a worker that crashes at once does not spin a CPU, and back to `initialMs` once a
// worker has stayed up for `stableMs` (one crash after a long run is not a crash loop).
import { WorkersError } from './errors.js';

export interface RestartBackoffParams {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Uptime after which the next crash counts as the first again. */
  readonly stableMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoffParams = Object.freeze({
  initialMs: 200,
  maxMs: 10_000,
  stableMs: 30_000,
});

/** Doublings after which the delay is at its ceiling for any sane params (2^30 × 1 ms > 12 days). */
const MAX_DOUBLINGS = 30;

export class RestartBackoff {
  readonly #params: RestartBackoffParams;
  #crashes = 0;

  constructor(params: RestartBackoffParams = DEFAULT_RESTART_BACKOFF) {
    const { initialMs, maxMs, stableMs } = params;
    if (!(initialMs > 0) || !(maxMs >= initialMs) || !(stableMs >= 0))
      throw new WorkersError(
        'TRL_WORKERS_INVALID_OPTION',
        `restart backoff needs 0 < initialMs ≤ maxMs and stableMs ≥ 0 (got ${initialMs}, ${maxMs}, ${stableMs})`,
      );
    this.#params = params;
  }

  /** Crashes counted towards the current delay. */
  get crashes(): number {
    return this.#crashes;
  }

  /** Delay before restarting a worker that crashed after running `uptimeMs`. */
  next(uptimeMs: number): number {
    const { initialMs, maxMs, stableMs } = this.#params;
    if (uptimeMs >= stableMs) this.#crashes = 0;
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(this.#crashes, MAX_DOUBLINGS));
    this.#crashes += 1;
    return delay;
  }
}
