// Envoy-style circuit breaking: per-destination caps on connections, pending requests, active
// requests and active retries. Overflow is rejected at once (the proxy answers 503 with
// `x-trellis-overloaded: <limit>`) instead of queueing, so one slow destination cannot pile up
// unbounded work in the proxy. tryAcquire() returns shared frozen results and never allocates.
import { checkLimit, checkNumber } from './params.js';

/** The limits, named as they appear in `x-trellis-overloaded` and in metrics. */
export const circuitLimits = [
  'connections',
  'pending-requests',
  'active-requests',
  'active-retries',
] as const;
export type CircuitLimit = (typeof circuitLimits)[number];

export interface CircuitBreakerParams {
  /** Upstream connections open at once (Infinity for no cap). */
  maxConnections: number;
  /** Requests waiting for a connection at once. */
  maxPendingRequests: number;
  /** Requests in flight at once; a retry holds an active request too. */
  maxActiveRequests: number;
  /** Retries in flight at once; ignored when `retryBudget` is set. */
  maxActiveRetries: number;
  /**
   * Envoy's retry budget: caps active retries at `percent`% of active plus pending requests, but
   * never below `minRetryConcurrency`, so the retry cap follows the traffic.
   */
  retryBudget?: { percent: number; minRetryConcurrency: number };
}

export interface CircuitAdmitted {
  readonly admitted: true;
  /** Gives the slot back. Call exactly once. */
  readonly release: () => void;
}
export interface CircuitOverloaded {
  readonly admitted: false;
  /** The limit that tripped, for `x-trellis-overloaded`. */
  readonly overloaded: CircuitLimit;
}
export type CircuitAdmission = CircuitAdmitted | CircuitOverloaded;

// Indexes into circuitLimits, for the retry budget's arithmetic.
const PENDING = 1;
const ACTIVE = 2;
const RETRIES = 3;

const overloaded: readonly CircuitOverloaded[] = circuitLimits.map((limit) =>
  Object.freeze({ admitted: false as const, overloaded: limit }),
);

export class CircuitBreaker {
  readonly #max: readonly number[];
  readonly #budget: { readonly fraction: number; readonly min: number } | undefined;
  readonly #active = [0, 0, 0, 0];
  readonly #trips = [0, 0, 0, 0];
  // One admission per limit with a release bound to that limit's counter, built once.
  readonly #admitted: readonly CircuitAdmitted[];

  constructor(params: CircuitBreakerParams) {
    checkLimit('maxConnections', params.maxConnections);
    checkLimit('maxPendingRequests', params.maxPendingRequests);
    checkLimit('maxActiveRequests', params.maxActiveRequests);
    checkLimit('maxActiveRetries', params.maxActiveRetries);
    this.#max = [
      params.maxConnections,
      params.maxPendingRequests,
      params.maxActiveRequests,
      params.maxActiveRetries,
    ];
    if (params.retryBudget) {
      checkNumber('retryBudget.percent', params.retryBudget.percent, 0, 100);
      checkLimit('retryBudget.minRetryConcurrency', params.retryBudget.minRetryConcurrency);
      this.#budget = {
        fraction: params.retryBudget.percent / 100,
        min: params.retryBudget.minRetryConcurrency,
      };
    }
    this.#admitted = circuitLimits.map((_, i) =>
      Object.freeze({
        admitted: true as const,
        release: () => {
          this.#active[i]! -= 1;
        },
      }),
    );
  }

  /** Takes a slot under `limit`, or reports the limit as overloaded and counts a trip. */
  tryAcquire(limit: CircuitLimit): CircuitAdmission {
    const i = circuitLimits.indexOf(limit);
    if (this.#active[i]! >= this.#limitAt(i)) {
      this.#trips[i]! += 1;
      return overloaded[i]!;
    }
    this.#active[i]! += 1;
    return this.#admitted[i]!;
  }

  /** Slots currently held under `limit`. */
  active(limit: CircuitLimit): number {
    return this.#active[circuitLimits.indexOf(limit)]!;
  }

  /** Rejections by `limit` since construction. */
  trips(limit: CircuitLimit): number {
    return this.#trips[circuitLimits.indexOf(limit)]!;
  }

  /** The cap `limit` enforces right now (the retry cap moves with traffic under a budget). */
  max(limit: CircuitLimit): number {
    return this.#limitAt(circuitLimits.indexOf(limit));
  }

  #limitAt(i: number): number {
    if (i === RETRIES && this.#budget) {
      const requests = this.#active[ACTIVE]! + this.#active[PENDING]!;
      return Math.max(this.#budget.min, Math.floor(this.#budget.fraction * requests));
    }
    return this.#max[i]!;
  }
}
