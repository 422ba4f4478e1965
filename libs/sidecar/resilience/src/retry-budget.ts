// Retry budget (Linkerd/Finagle style): retries may add at most `retryRatio` extra load on top of
// the original requests seen over a sliding `ttlMs` window, plus a small reserve of
// `minRetriesPerSecond × ttl` so low-traffic routes can still retry. This is what stops retry
// storms: when an upstream degrades, retries stop growing with the failure rate.
//
// The window is a ring of buckets advanced lazily from the clock (no timers): a request or retry
// counts for between ttl − ttl/buckets and ttl, depending on where in its bucket it fell.
import type { Clock } from '@trellis/time';
import { checkInteger, checkNumber, checkPositive } from './params.js';

export interface RetryBudgetParams {
  /** Retries allowed per original request over the window, e.g. 0.2 (≥ 0, ≤ 1000). */
  retryRatio: number;
  /** Retries always allowed per second regardless of traffic (≥ 0). */
  minRetriesPerSecond: number;
  /** Window length in ms (> 0). */
  ttlMs: number;
  /** Buckets the window slides by (1–1000, default 10). */
  buckets?: number;
}

// Float slack for ratio × requests landing just under an integer (0.29 × 100 = 28.999…96).
const EPSILON = 1e-9;

export class RetryBudget {
  readonly #clock: Clock;
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #bucketMs: number;
  readonly #requests: Float64Array;
  readonly #retries: Float64Array;
  #headEpoch: number;
  #totalRequests = 0;
  #totalRetries = 0;

  constructor(params: RetryBudgetParams, clock: Clock) {
    checkNumber('retryRatio', params.retryRatio, 0, 1000);
    checkNumber('minRetriesPerSecond', params.minRetriesPerSecond, 0, Number.MAX_SAFE_INTEGER);
    checkPositive('ttlMs', params.ttlMs);
    const buckets = params.buckets ?? 10;
    checkInteger('buckets', buckets, 1, 1000);
    this.#clock = clock;
    this.#ratio = params.retryRatio;
    this.#reserve = (params.minRetriesPerSecond * params.ttlMs) / 1000;
    this.#bucketMs = params.ttlMs / buckets;
    this.#requests = new Float64Array(buckets);
    this.#retries = new Float64Array(buckets);
    this.#headEpoch = this.#epoch();
  }

  /** Counts one original request (not a retry) into the window. */
  recordRequest(): void {
    const i = this.#slide();
    this.#requests[i]! += 1;
    this.#totalRequests += 1;
  }

  /** Takes one retry from the budget if retries ≤ ratio × requests + reserve still holds after it. */
  tryWithdrawRetry(): boolean {
    const i = this.#slide();
    if (this.#totalRetries + 1 > this.#ratio * this.#totalRequests + this.#reserve + EPSILON) {
      return false;
    }
    this.#retries[i]! += 1;
    this.#totalRetries += 1;
    return true;
  }

  /** Original requests currently in the window. */
  get requests(): number {
    this.#slide();
    return this.#totalRequests;
  }

  /** Retries currently in the window. */
  get retries(): number {
    this.#slide();
    return this.#totalRetries;
  }

  #epoch(): number {
    return Math.floor(this.#clock.now() / this.#bucketMs);
  }

  /** Clears buckets that fell out of the window and returns the current bucket's index. */
  #slide(): number {
    const n = this.#requests.length;
    const epoch = this.#epoch();
    // A clock that steps back (it should not) keeps filling the newest bucket.
    if (epoch > this.#headEpoch) {
      const steps = Math.min(epoch - this.#headEpoch, n);
      for (let s = 1; s <= steps; s++) {
        const i = ringIndex(this.#headEpoch + s, n);
        this.#totalRequests -= this.#requests[i]!;
        this.#totalRetries -= this.#retries[i]!;
        this.#requests[i] = 0;
        this.#retries[i] = 0;
      }
      this.#headEpoch = epoch;
    }
    return ringIndex(this.#headEpoch, n);
  }
}

function ringIndex(epoch: number, n: number): number {
  return ((epoch % n) + n) % n;
}
