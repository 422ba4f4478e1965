// The proxy's own failures. One table maps each stable code to the HTTP status and gRPC status
// sent to the client and to the `x-trellis-error` header value, so responses, metrics and the
// docs (generated from `errors`) always agree. Upstream responses are forwarded as they are;
// these are only for responses the proxy makes up itself.
import type { CircuitLimit } from './circuit-breaker.js';
import { GrpcStatus, type GrpcStatusCode } from './grpc-status.js';
import { retryAfterSeconds } from './token-bucket.js';

export interface TrellisErrorSpec {
  /** HTTP status of the proxy's response to an HTTP client. */
  readonly httpStatus: number;
  /** `grpc-status` of the proxy's response to a gRPC client. */
  readonly grpcStatus: GrpcStatusCode;
  /** Value of the `x-trellis-error` response header. */
  readonly headerValue: string;
  /** One sentence for the docs and the default error message. */
  readonly description: string;
}

// Timeouts map to DEADLINE_EXCEEDED rather than the UNAVAILABLE that the gRPC HTTP mapping gives
// a bare 504: the call ran out of time, and UNAVAILABLE would invite clients to retry calls whose
// budget is spent. Rate limiting maps to RESOURCE_EXHAUSTED for the same reason.
export const errors = {
  TRL_UPSTREAM_CONNECT_TIMEOUT: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'upstream-connect-timeout',
    description: 'Connecting to the upstream endpoint did not finish within the connect timeout.',
  },
  TRL_UPSTREAM_CONNECT_FAILURE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'upstream-connect-failure',
    description: 'The upstream endpoint refused or dropped the connection before the request.',
  },
  TRL_UPSTREAM_RESET: {
    httpStatus: 502,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'upstream-reset',
    description: 'The upstream reset the connection or stream before sending a response.',
  },
  TRL_NO_HEALTHY_UPSTREAM: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'no-healthy-upstream',
    description: 'The destination has no endpoint that is healthy and not ejected.',
  },
  TRL_OVERLOADED: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'overloaded',
    description:
      'A circuit-breaker limit for the destination is reached; x-trellis-overloaded names it.',
  },
  TRL_CIRCUIT_OPEN: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'circuit-open',
    description: 'The endpoint failed repeatedly and is shut off until a probe request succeeds.',
  },
  TRL_RATE_LIMITED: {
    httpStatus: 429,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    headerValue: 'rate-limited',
    description: 'The local rate limit has no tokens left; Retry-After says when to try again.',
  },
  TRL_REQUEST_TIMEOUT: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    headerValue: 'request-timeout',
    description: "The route's request timeout expired before a response, retries included.",
  },
  TRL_PER_TRY_TIMEOUT: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    headerValue: 'per-try-timeout',
    description: 'The last attempt hit the per-try timeout and no retry was possible.',
  },
  TRL_GRPC_DEADLINE_EXCEEDED: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    headerValue: 'grpc-deadline-exceeded',
    description: 'The deadline the client set in grpc-timeout expired before a response.',
  },
  TRL_BUDGET_EXHAUSTED: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'budget-exhausted',
    description:
      'An attempt failed without an upstream response and the retry budget allowed no retry.',
  },
  TRL_NO_ROUTE: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    headerValue: 'no-route',
    description: 'No route or service matches the request authority and path.',
  },
  TRL_BAD_REQUEST: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INTERNAL,
    headerValue: 'bad-request',
    description:
      'The request is malformed (framing, header syntax, smuggling shapes) and was not forwarded.',
  },
  TRL_HEADERS_TOO_LARGE: {
    httpStatus: 431,
    grpcStatus: GrpcStatus.INTERNAL,
    headerValue: 'headers-too-large',
    description: 'The request head exceeds the header size or count limit.',
  },
  TRL_REQUEST_TOO_LARGE: {
    httpStatus: 413,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    headerValue: 'request-too-large',
    description: 'The request body exceeds the listener body size limit and was not forwarded.',
  },
  TRL_UPSTREAM_PROTOCOL_ERROR: {
    httpStatus: 502,
    grpcStatus: GrpcStatus.INTERNAL,
    headerValue: 'upstream-protocol-error',
    description: 'The upstream sent a response that is not valid HTTP.',
  },
  TRL_FAULT_INJECTED: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    headerValue: 'fault-injected',
    description:
      "A configured fault aborted the request; the fault's own statuses replace these defaults.",
  },
} as const satisfies Readonly<Record<`TRL_${string}`, TrellisErrorSpec>>;

export type TrellisErrorCode = keyof typeof errors;

// Brand checked by isTrellisError(): Symbol.for survives two copies of this package, where
// instanceof would not.
const brand = Symbol.for('trellis.error');

/** A failure of the proxy itself, carrying everything needed to answer the client. */
export class TrellisError extends Error {
  readonly code: TrellisErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;
  readonly headerValue: string;

  constructor(code: TrellisErrorCode, message?: string, options?: ErrorOptions) {
    const spec: TrellisErrorSpec = errors[code];
    super(message ?? spec.description, options);
    this.name = 'TrellisError';
    this.code = code;
    this.httpStatus = spec.httpStatus;
    this.grpcStatus = spec.grpcStatus;
    this.headerValue = spec.headerValue;
  }

  get [brand](): true {
    return true;
  }
}

/** True for any TrellisError, even one from another copy of this package. */
export function isTrellisError(value: unknown): value is TrellisError {
  return typeof value === 'object' && value !== null && brand in value;
}

/** A circuit-breaker limit rejected the request; `limit` goes in `x-trellis-overloaded`. */
export class OverloadedError extends TrellisError {
  readonly limit: CircuitLimit;

  constructor(limit: CircuitLimit, options?: ErrorOptions) {
    super('TRL_OVERLOADED', `circuit-breaker limit reached: ${limit}`, options);
    this.name = 'OverloadedError';
    this.limit = limit;
  }
}

/** The local rate limit rejected the request. */
export class RateLimitedError extends TrellisError {
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, options?: ErrorOptions) {
    super('TRL_RATE_LIMITED', undefined, options);
    this.name = 'RateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }

  /** The `Retry-After` header value in whole seconds. */
  get retryAfterSeconds(): number {
    return retryAfterSeconds(this.retryAfterMs);
  }
}
