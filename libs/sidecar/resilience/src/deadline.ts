// Request deadlines: combines the route's request timeout, its per-try timeout and the client's
// `grpc-timeout` header into when each attempt must end, how much time is left for further
// attempts, and which limit fires first (for the `x-trellis-error` value). Pure arithmetic on
// clock readings the caller passes in; the caller owns the timers.
import type { TrellisErrorCode } from './errors.js';
import { checkNumber } from './params.js';

/** Why a grpc-timeout header was ignored. */
export type GrpcTimeoutInvalid = 'empty' | 'too-many-digits' | 'bad-digits' | 'bad-unit';

/**
 * A grpc-timeout amount in ms (gRPC over HTTP/2 spec: TimeoutUnit), or undefined for an unknown
 * unit. Sub-millisecond units divide by an exact power of ten so "100n" is exactly 0.0001 ms.
 */
function toMs(amount: number, unit: string): number | undefined {
  switch (unit) {
    case 'H':
      return amount * 3_600_000;
    case 'M':
      return amount * 60_000;
    case 'S':
      return amount * 1000;
    case 'm':
      return amount;
    case 'u':
      return amount / 1e3;
    case 'n':
      return amount / 1e6;
    default:
      return undefined;
  }
}

const MAX_DIGITS = 8;
const MAX_VALUE = 99_999_999;

/**
 * Parses a grpc-timeout value ("100m", "5S", "1H"): up to 8 ASCII digits then one of H M S m u n.
 * Returns the timeout in ms, or why the header must be ignored. The spec says "positive", but
 * grpc-go sends "0n" for an already expired deadline, so 0 is accepted and means "expired".
 */
export function parseGrpcTimeout(value: string): number | GrpcTimeoutInvalid {
  if (value.length === 0) return 'empty';
  const digits = value.length - 1;
  if (digits === 0) return 'bad-digits';
  if (digits > MAX_DIGITS) return 'too-many-digits';
  let amount = 0;
  for (let i = 0; i < digits; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return 'bad-digits';
    amount = amount * 10 + d;
  }
  return toMs(amount, value.charAt(digits)) ?? 'bad-unit';
}

// Finest unit first: the first whose value fits 8 digits keeps the most precision.
const FORMAT_UNITS: readonly (readonly [string, number])[] = [
  ['n', 1],
  ['u', 1e3],
  ['m', 1e6],
  ['S', 1e9],
  ['M', 6e10],
  ['H', 3.6e12],
];

/**
 * Formats a timeout for the grpc-timeout header in the finest unit that fits 8 digits, rounding
 * up as grpc-go does so the upstream never sees a shorter deadline than the one left. ms ≤ 0
 * gives "0n" (already expired).
 */
export function formatGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return '0n';
  // Whole nanoseconds first, so float noise in ms (0.1 → 100000.00000000001 ns) cannot round up.
  const ns = Math.max(1, Math.round(ms * 1e6));
  for (const [unit, unitNs] of FORMAT_UNITS) {
    const v = Math.ceil(ns / unitNs);
    if (v <= MAX_VALUE) return `${v}${unit}`;
  }
  return `${MAX_VALUE}H`;
}

/** Which limit ends an attempt: the route's request timeout, its per-try timeout, or grpc-timeout. */
export type DeadlineLimit = 'request' | 'per-try' | 'grpc';

/** The error a fired limit is reported as. */
export const deadlineErrorCodes = {
  request: 'TRL_REQUEST_TIMEOUT',
  'per-try': 'TRL_PER_TRY_TIMEOUT',
  grpc: 'TRL_GRPC_DEADLINE_EXCEEDED',
} as const satisfies Readonly<Record<DeadlineLimit, TrellisErrorCode>>;

export interface TimeoutParams {
  /** Whole-request timeout in ms, retries and backoff included; 0 disables it (as in Envoy). */
  requestTimeoutMs: number;
  /** Timeout of each attempt in ms; 0 disables it. */
  perTryTimeoutMs: number;
}

/** A route's timeouts, checked once; begin() applies them to one request. */
export class TimeoutPolicy {
  readonly requestTimeoutMs: number;
  readonly perTryTimeoutMs: number;

  constructor(params: TimeoutParams) {
    checkNumber('requestTimeoutMs', params.requestTimeoutMs, 0, Number.MAX_SAFE_INTEGER);
    checkNumber('perTryTimeoutMs', params.perTryTimeoutMs, 0, Number.MAX_SAFE_INTEGER);
    this.requestTimeoutMs = params.requestTimeoutMs;
    this.perTryTimeoutMs = params.perTryTimeoutMs;
  }

  /**
   * The deadlines of a request that started at `startMs`.
   * @param grpcTimeout the request's grpc-timeout header, if it is a gRPC request and has one
   */
  begin(startMs: number, grpcTimeout?: string): RequestDeadline {
    let deadlineAt = this.requestTimeoutMs > 0 ? startMs + this.requestTimeoutMs : Infinity;
    let limit: 'request' | 'grpc' | undefined = this.requestTimeoutMs > 0 ? 'request' : undefined;
    let ignored: GrpcTimeoutInvalid | undefined;
    if (grpcTimeout !== undefined) {
      const parsed = parseGrpcTimeout(grpcTimeout);
      if (typeof parsed === 'string') {
        ignored = parsed;
      } else if (startMs + parsed <= deadlineAt) {
        // On a tie the client's own deadline is named: that is the one its caller sees expire.
        deadlineAt = startMs + parsed;
        limit = 'grpc';
      }
    }
    return new RequestDeadline(deadlineAt, limit, this.perTryTimeoutMs, ignored);
  }
}

/** One request's deadlines. Times are clock ms passed in by the caller. */
export class RequestDeadline {
  /** When the whole request must end (Infinity when unbounded). */
  readonly deadlineAt: number;
  /** The limit that set `deadlineAt`, undefined when unbounded. */
  readonly overallLimit: 'request' | 'grpc' | undefined;
  /** Why the request's grpc-timeout header was ignored, if it was. */
  readonly grpcTimeoutIgnored: GrpcTimeoutInvalid | undefined;
  readonly #perTryMs: number;

  constructor(
    deadlineAt: number,
    overallLimit: 'request' | 'grpc' | undefined,
    perTryTimeoutMs: number,
    grpcTimeoutIgnored: GrpcTimeoutInvalid | undefined,
  ) {
    this.deadlineAt = deadlineAt;
    this.overallLimit = overallLimit;
    this.#perTryMs = perTryTimeoutMs;
    this.grpcTimeoutIgnored = grpcTimeoutIgnored;
  }

  /** Time left for this and any further attempts (≥ 0; Infinity when unbounded). */
  remainingMs(now: number): number {
    return Math.max(0, this.deadlineAt - now);
  }

  /** Whether the overall deadline has passed. */
  expired(now: number): boolean {
    return now >= this.deadlineAt;
  }

  /** When an attempt starting at `attemptStartMs` must end (Infinity when unbounded). */
  attemptDeadlineAt(attemptStartMs: number): number {
    return this.#perTryMs > 0
      ? Math.min(attemptStartMs + this.#perTryMs, this.deadlineAt)
      : this.deadlineAt;
  }

  /**
   * The limit that ends an attempt starting at `attemptStartMs`; undefined when none does. On a
   * tie the overall limit is named, since no retry can follow it.
   */
  attemptLimit(attemptStartMs: number): DeadlineLimit | undefined {
    if (this.#perTryMs > 0 && attemptStartMs + this.#perTryMs < this.deadlineAt) return 'per-try';
    return this.overallLimit;
  }
}
