// @trellis/sidecar-resilience: pure policy cores for the sidecar's resilience layers (retries,
// budgets, backoff, circuit breaking, rate limiting, timeouts, fault injection), driven by an
// injected clock and random source. No I/O.
export type { BackoffParams, Random } from './backoff.js';
export { ExponentialBackoff, backoffCeilingMs } from './backoff.js';
export type {
  CircuitAdmission,
  CircuitAdmitted,
  CircuitBreakerParams,
  CircuitLimit,
  CircuitOverloaded,
} from './circuit-breaker.js';
export { CircuitBreaker, circuitLimits } from './circuit-breaker.js';
export type { DeadlineLimit, GrpcTimeoutInvalid, TimeoutParams } from './deadline.js';
export {
  RequestDeadline,
  TimeoutPolicy,
  deadlineErrorCodes,
  formatGrpcTimeout,
  parseGrpcTimeout,
} from './deadline.js';
export type { TrellisErrorCode, TrellisErrorSpec } from './errors.js';
export {
  OverloadedError,
  RateLimitedError,
  TrellisError,
  errors,
  isTrellisError,
} from './errors.js';
export type {
  BreakerAdmission,
  BreakerResult,
  BreakerState,
  FailureAccrualParams,
} from './failure-accrual.js';
export { FailureAccrual } from './failure-accrual.js';
export type { FaultAbort, FaultDecision, FaultParams } from './fault.js';
export { FaultInjector } from './fault.js';
export type { GrpcStatusCode } from './grpc-status.js';
export { GrpcStatus, grpcStatusForHttp, isGrpcStatusCode } from './grpc-status.js';
export { InvalidParamsError } from './params.js';
export type { RetryBudgetParams } from './retry-budget.js';
export { RetryBudget } from './retry-budget.js';
export { ReplayBuffer } from './retry-buffer.js';
export type { NextAttempt, RetryControllerOptions, RetryScheduled } from './retry-controller.js';
export { RetryController } from './retry-controller.js';
export type {
  AttemptOutcome,
  NoRetryReason,
  RetryAllowed,
  RetryDecision,
  RetryDenied,
  RetryOn,
  RetryParams,
} from './retry-policy.js';
export {
  MAX_RETRY_ATTEMPTS,
  RetryPolicy,
  idempotentMethods,
  noRetryReasons,
  retryOnConditions,
} from './retry-policy.js';
export type { TakeResult, TokenBucketParams } from './token-bucket.js';
export { TokenBucket, retryAfterSeconds } from './token-bucket.js';
