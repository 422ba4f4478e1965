// Retry policy: from one attempt's outcome, decides whether the request may be retried and why.
// The reasons double as metric labels. Compiled once per route; decide() never allocates, it
// returns one of a fixed set of frozen decisions.
import { GrpcStatus } from './grpc-status.js';
import { checkInteger, InvalidParamsError } from './params.js';

/** Conditions a route can retry on (Envoy's `retry_on` names). Also the reasons for a retry. */
export const retryOnConditions = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'refused-stream',
  'retriable-status-codes',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;
export type RetryOn = (typeof retryOnConditions)[number];

/** Why a request is not retried. The last two are decided by the RetryController. */
export const noRetryReasons = [
  'not-retriable',
  'attempts-exhausted',
  'non-idempotent',
  'body-not-replayable',
  'budget-exhausted',
  'deadline-exhausted',
] as const;
export type NoRetryReason = (typeof noRetryReasons)[number];

export interface RetryAllowed {
  readonly retry: true;
  readonly reason: RetryOn;
}
export interface RetryDenied {
  readonly retry: false;
  readonly reason: NoRetryReason;
}
export type RetryDecision = RetryAllowed | RetryDenied;

/** How one attempt ended: a response (gRPC status from its trailers) or a transport failure. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly grpcStatus?: number }
  | { readonly kind: 'connect-failure' | 'reset' | 'refused-stream' | 'per-try-timeout' };

export const MAX_RETRY_ATTEMPTS = 10;

export interface RetryParams {
  /** Retries allowed after the first attempt, 0–10; 0 disables retries. */
  attempts: number;
  /** Outcomes that may be retried. */
  retryOn: Iterable<RetryOn>;
  /** HTTP statuses retried when `retryOn` includes 'retriable-status-codes'. */
  retriableStatusCodes: readonly number[];
  /** Also retry methods that are not idempotent (POST, PATCH, …) after they reached the upstream. */
  retryNonIdempotent: boolean;
}

/**
 * Idempotent methods per RFC 9110 §9.2.2. Method names are case-sensitive (§9.1), so "get" is not
 * GET and is treated as non-idempotent.
 */
export const idempotentMethods: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PUT',
  'DELETE',
]);

type TransportKind = Exclude<AttemptOutcome['kind'], 'response'>;

/**
 * For each transport failure, the conditions that cover it, most specific first: the first one
 * the route enables becomes the reason. As in Envoy, 5xx and gateway-error count a request that
 * got no response as the 5xx it turns into, and 'reset' covers every "no response at all" case.
 */
const transportCoverage: Readonly<Record<TransportKind, readonly RetryOn[]>> = {
  'connect-failure': ['connect-failure', 'reset', 'gateway-error', '5xx'],
  'refused-stream': ['refused-stream', 'reset', 'gateway-error', '5xx'],
  reset: ['reset', 'gateway-error', '5xx'],
  'per-try-timeout': ['reset', 'gateway-error', '5xx'],
};

const grpcConditions: ReadonlyMap<number, RetryOn> = new Map([
  [GrpcStatus.CANCELLED, 'cancelled'],
  [GrpcStatus.DEADLINE_EXCEEDED, 'deadline-exceeded'],
  [GrpcStatus.RESOURCE_EXHAUSTED, 'resource-exhausted'],
  [GrpcStatus.INTERNAL, 'internal'],
  [GrpcStatus.UNAVAILABLE, 'unavailable'],
]);

const allowed = new Map<RetryOn, RetryAllowed>(
  retryOnConditions.map((reason) => [reason, Object.freeze({ retry: true, reason })]),
);
const denied = new Map<NoRetryReason, RetryDenied>(
  noRetryReasons.map((reason) => [reason, Object.freeze({ retry: false, reason })]),
);

/** The shared frozen no-retry decision for `reason`. */
export function noRetry(reason: NoRetryReason): RetryDenied {
  return denied.get(reason) as RetryDenied;
}

function retryFor(reason: RetryOn): RetryAllowed {
  return allowed.get(reason) as RetryAllowed;
}

/**
 * Whether the upstream cannot have seen the request: the connection never opened, or an HTTP/2
 * peer refused the stream, which RFC 9113 §8.7 guarantees happens before any processing. Such a
 * request is safe to retry even when its method is not idempotent (e.g. POST).
 */
function neverReachedUpstream(outcome: AttemptOutcome): boolean {
  return outcome.kind === 'connect-failure' || outcome.kind === 'refused-stream';
}

export class RetryPolicy {
  readonly attempts: number;
  readonly retryNonIdempotent: boolean;
  readonly #retryOn: ReadonlySet<RetryOn>;
  readonly #statusCodes: ReadonlySet<number>;

  constructor(params: RetryParams) {
    checkInteger('attempts', params.attempts, 0, MAX_RETRY_ATTEMPTS);
    const retryOn = new Set<RetryOn>();
    for (const condition of params.retryOn) {
      if (!retryOnConditions.includes(condition)) {
        throw new InvalidParamsError('retryOn', `unknown condition "${String(condition)}"`);
      }
      retryOn.add(condition);
    }
    params.retriableStatusCodes.forEach((code, i) =>
      checkInteger(`retriableStatusCodes[${i}]`, code, 100, 599),
    );
    this.attempts = params.attempts;
    this.retryNonIdempotent = params.retryNonIdempotent;
    this.#retryOn = retryOn;
    this.#statusCodes = new Set(params.retriableStatusCodes);
  }

  /**
   * Decides on a retry after an attempt. Checks run in this order, the first that fails giving the
   * reason: the outcome matches a `retryOn` condition ('not-retriable'), retries remain
   * ('attempts-exhausted'), the method may be repeated ('non-idempotent'), the body can be sent
   * again ('body-not-replayable').
   *
   * @param retriesSoFar retries already made for this request (0 after the first attempt)
   * @param bodyReplayable whether the request body can be sent again (true when there is none)
   */
  decide(
    outcome: AttemptOutcome,
    method: string,
    bodyReplayable: boolean,
    retriesSoFar: number,
  ): RetryDecision {
    const condition = this.#match(outcome);
    if (condition === undefined) return noRetry('not-retriable');
    if (retriesSoFar >= this.attempts) return noRetry('attempts-exhausted');
    if (
      !this.retryNonIdempotent &&
      !idempotentMethods.has(method) &&
      !neverReachedUpstream(outcome)
    ) {
      return noRetry('non-idempotent');
    }
    if (!bodyReplayable) return noRetry('body-not-replayable');
    return retryFor(condition);
  }

  /** The most specific enabled condition covering the outcome, if any. */
  #match(outcome: AttemptOutcome): RetryOn | undefined {
    if (outcome.kind !== 'response') {
      const covering = transportCoverage[outcome.kind];
      for (let i = 0; i < covering.length; i++) {
        const condition = covering[i] as RetryOn;
        if (this.#retryOn.has(condition)) return condition;
      }
      return undefined;
    }
    if (outcome.grpcStatus !== undefined) {
      const condition = grpcConditions.get(outcome.grpcStatus);
      if (condition !== undefined && this.#retryOn.has(condition)) return condition;
    }
    const status = outcome.status;
    if (this.#retryOn.has('retriable-status-codes') && this.#statusCodes.has(status)) {
      return 'retriable-status-codes';
    }
    if (status >= 502 && status <= 504 && this.#retryOn.has('gateway-error')) {
      return 'gateway-error';
    }
    if (status >= 500 && status <= 599 && this.#retryOn.has('5xx')) return '5xx';
    return undefined;
  }
}
