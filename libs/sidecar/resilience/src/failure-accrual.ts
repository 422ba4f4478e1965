// Consecutive-failure breaker (Linkerd's failure accrual): after `maxFailures` failures in a row
// the endpoint is shut off for a cool-down; then exactly one probe request is let through. A
// successful probe closes the breaker; a failed one re-opens it with a doubled cool-down (capped),
// so a dead endpoint is probed ever less often. Time comes from the clock, lazily: no timers.
//
// Each admission is tagged 'admitted' or 'probe' and reported back with that tag, so results of
// requests admitted before the breaker opened cannot close it; only the probe's result can.
import type { Clock } from '@trellis/time';
import { backoffCeilingMs, checkBackoffParams, type BackoffParams } from './backoff.js';
import { checkInteger } from './params.js';

export type BreakerState = 'closed' | 'open' | 'half-open';
/** What acquire() granted: a normal request, the single half-open probe, or nothing. */
export type BreakerAdmission = 'admitted' | 'probe' | 'rejected';
/** How an admitted request ended; 'cancelled' says nothing about the endpoint's health. */
export type BreakerResult = 'success' | 'failure' | 'cancelled';

export interface FailureAccrualParams {
  /** Consecutive failures that open the breaker (≥ 1). */
  maxFailures: number;
  /** Cool-down after the n-th consecutive open is min(maxMs, baseMs·2^n), n from 0; no jitter. */
  backoff: BackoffParams;
}

export class FailureAccrual {
  readonly #clock: Clock;
  readonly #maxFailures: number;
  readonly #backoff: BackoffParams;
  #state: BreakerState = 'closed';
  #failures = 0;
  #reopens = 0;
  #probeAt = 0;
  #opened = 0;

  constructor(params: FailureAccrualParams, clock: Clock) {
    checkInteger('maxFailures', params.maxFailures, 1, Number.MAX_SAFE_INTEGER);
    checkBackoffParams(params.backoff, 'backoff.');
    this.#clock = clock;
    this.#maxFailures = params.maxFailures;
    this.#backoff = { baseMs: params.backoff.baseMs, maxMs: params.backoff.maxMs };
  }

  /** The state as of the last call; an open breaker whose cool-down ended turns half-open on acquire(). */
  get state(): BreakerState {
    return this.#state;
  }

  /** Consecutive failures counted while closed. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Times the breaker went from closed or half-open to open. */
  get opened(): number {
    return this.#opened;
  }

  /** When an open breaker admits its probe (clock ms); meaningless unless open. */
  get probeAt(): number {
    return this.#probeAt;
  }

  /** Admits a request. While half-open, only the first caller gets the probe; the rest are rejected. */
  acquire(): BreakerAdmission {
    if (this.#state === 'closed') return 'admitted';
    if (this.#state === 'open' && this.#clock.now() >= this.#probeAt) {
      this.#state = 'half-open';
      return 'probe';
    }
    return 'rejected';
  }

  /** Reports how an admitted request ended, with the admission acquire() returned for it. */
  report(admission: 'admitted' | 'probe', result: BreakerResult): void {
    if (result === 'cancelled') {
      // A cancelled probe proved nothing: let the next caller probe straight away.
      if (admission === 'probe' && this.#state === 'half-open') this.#state = 'open';
      return;
    }
    if (admission === 'probe') {
      if (this.#state !== 'half-open') return;
      if (result === 'success') {
        this.#state = 'closed';
        this.#failures = 0;
        this.#reopens = 0;
      } else {
        this.#reopens += 1;
        this.#open();
      }
      return;
    }
    // Results of requests admitted before the breaker opened say nothing new once it is open.
    if (this.#state !== 'closed') return;
    if (result === 'success') {
      this.#failures = 0;
    } else if (++this.#failures >= this.#maxFailures) {
      this.#open();
    }
  }

  #open(): void {
    this.#state = 'open';
    this.#opened += 1;
    this.#probeAt = this.#clock.now() + backoffCeilingMs(this.#backoff, this.#reopens);
  }
}
