// Retry controller: one per request, it ties the route's retry policy, backoff and budget to the
// request's replay buffer and deadline, and answers the retry layer's one question after each
// failed attempt: retry (after how long, as which attempt) or stop (and why, for metrics).
import type { Clock } from '@trellis/time';
import type { ExponentialBackoff } from './backoff.js';
import type { RequestDeadline } from './deadline.js';
import type { ReplayBuffer } from './retry-buffer.js';
import type { RetryBudget } from './retry-budget.js';
import {
  noRetry,
  type AttemptOutcome,
  type RetryDenied,
  type RetryOn,
  type RetryPolicy,
} from './retry-policy.js';

export interface RetryControllerOptions {
  /** The route's policy, backoff and budget, shared by all its requests. */
  readonly policy: RetryPolicy;
  readonly backoff: ExponentialBackoff;
  readonly budget: RetryBudget;
  readonly clock: Clock;
  /** The request's method, for the idempotency check. */
  readonly method: string;
  /** The request body's replay buffer; omit when the request has no body. */
  readonly body?: ReplayBuffer;
  /** The request's deadlines; omit when it has none. */
  readonly deadline?: RequestDeadline;
}

export interface RetryScheduled {
  readonly retry: true;
  /** Wait this long before starting the attempt. */
  readonly delayMs: number;
  /** The number of the attempt to start (2 for the first retry). */
  readonly attempt: number;
  /** The retryOn condition that matched, for metrics. */
  readonly reason: RetryOn;
}

export type NextAttempt = RetryScheduled | RetryDenied;

export class RetryController {
  readonly #options: RetryControllerOptions;
  #attempts = 1;

  /** Call when the first attempt starts; it counts the request into the route's retry budget. */
  constructor(options: RetryControllerOptions) {
    this.#options = options;
    options.budget.recordRequest();
  }

  /** Attempts started so far, the first included. */
  get attempts(): number {
    return this.#attempts;
  }

  /**
   * Decides what follows the latest attempt's outcome. A retry must pass, in order: the policy
   * (condition, attempts left, idempotency, replayable body); the deadline, which must outlast
   * the backoff delay ('deadline-exhausted'); the budget ('budget-exhausted'), consulted last so
   * a retry that would not happen anyway does not spend it.
   */
  nextAttempt(outcome: AttemptOutcome): NextAttempt {
    const { policy, backoff, budget, clock, method, body, deadline } = this.#options;
    const retries = this.#attempts - 1;
    const decision = policy.decide(outcome, method, body?.replayable ?? true, retries);
    if (!decision.retry) return decision;
    const delayMs = backoff.delayMs(retries);
    if (deadline && delayMs >= deadline.remainingMs(clock.now())) {
      return noRetry('deadline-exhausted');
    }
    if (!budget.tryWithdrawRetry()) return noRetry('budget-exhausted');
    this.#attempts += 1;
    return { retry: true, delayMs, attempt: this.#attempts, reason: decision.reason };
  }
}
