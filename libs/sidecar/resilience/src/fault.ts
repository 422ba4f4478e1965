// Fault injection: delays and/or aborts a configured percentage of requests, to test how callers
// cope with a slow or failing service. Randomness is injected so tests get exact outcomes. Every
// possible decision is built once, so decide() never allocates and a route without faults draws
// no random numbers at all.
import type { Random } from './backoff.js';
import { errors } from './errors.js';
import { grpcStatusForHttp, isGrpcStatusCode, type GrpcStatusCode } from './grpc-status.js';
import { checkInteger, checkNumber, InvalidParamsError } from './params.js';

export interface FaultParams {
  /** Delay `percent`% of requests (0–100, fractions allowed) by `ms` before forwarding them. */
  delay?: { percent: number; ms: number };
  /**
   * Answer `percent`% of requests without forwarding them. At least one status is required: a
   * missing gRPC status follows the gRPC spec's mapping of the HTTP status, a missing HTTP status
   * is the TRL_FAULT_INJECTED default (503).
   */
  abort?: { percent: number; httpStatus?: number; grpcStatus?: number };
}

export interface FaultAbort {
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;
}

export interface FaultDecision {
  /** Ms to hold the request before going on (0 for none). Applied before any abort, as in Envoy. */
  readonly delayMs: number;
  readonly abort: FaultAbort | undefined;
}

const NO_FAULT: FaultDecision = Object.freeze({ delayMs: 0, abort: undefined });

export class FaultInjector {
  readonly #random: Random;
  readonly #delayPercent: number;
  readonly #abortPercent: number;
  readonly #delayed: FaultDecision;
  readonly #aborted: FaultDecision;
  readonly #delayedAndAborted: FaultDecision;

  constructor(params: FaultParams, random: Random = Math.random) {
    this.#random = random;
    const { delay, abort } = params;
    if (delay) {
      checkNumber('delay.percent', delay.percent, 0, 100);
      checkNumber('delay.ms', delay.ms, 0, Number.MAX_SAFE_INTEGER);
    }
    let faultAbort: FaultAbort | undefined;
    if (abort) {
      checkNumber('abort.percent', abort.percent, 0, 100);
      faultAbort = resolveAbort(abort);
    }
    this.#delayPercent = delay ? delay.percent : 0;
    this.#abortPercent = abort ? abort.percent : 0;
    const delayMs = delay ? delay.ms : 0;
    this.#delayed = Object.freeze({ delayMs, abort: undefined });
    this.#aborted = Object.freeze({ delayMs: 0, abort: faultAbort });
    this.#delayedAndAborted = Object.freeze({ delayMs, abort: faultAbort });
  }

  /** Draws this request's faults: one draw for the delay, then one for the abort, if configured. */
  decide(): FaultDecision {
    const delayed = this.#delayPercent > 0 && this.#random() * 100 < this.#delayPercent;
    const aborted = this.#abortPercent > 0 && this.#random() * 100 < this.#abortPercent;
    if (delayed) return aborted ? this.#delayedAndAborted : this.#delayed;
    return aborted ? this.#aborted : NO_FAULT;
  }
}

function resolveAbort(abort: NonNullable<FaultParams['abort']>): FaultAbort {
  const { httpStatus, grpcStatus } = abort;
  if (httpStatus === undefined && grpcStatus === undefined) {
    throw new InvalidParamsError('abort', 'needs httpStatus, grpcStatus or both');
  }
  if (httpStatus !== undefined) checkInteger('abort.httpStatus', httpStatus, 200, 599);
  const http = httpStatus ?? errors.TRL_FAULT_INJECTED.httpStatus;
  if (grpcStatus === undefined) {
    return Object.freeze({ httpStatus: http, grpcStatus: grpcStatusForHttp(http) });
  }
  if (!isGrpcStatusCode(grpcStatus)) {
    throw new InvalidParamsError(
      'abort.grpcStatus',
      `must be a gRPC status 0–16 (got ${grpcStatus})`,
    );
  }
  return Object.freeze({ httpStatus: http, grpcStatus });
}
