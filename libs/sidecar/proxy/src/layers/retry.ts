// Attempts: sends the request, and when an attempt fails in a way the route retries, waits a
// jittered backoff and tries again — within the attempts allowed, the request's deadline and
// the destination's retry budget, so retries never multiply an outage. A failed attempt that
// is not retried becomes the proxy's own error response, naming the failure.
//
// One failure is resent whatever the route says: a reset of a reused keep-alive connection
// before any response byte (typically the upstream closing it as idle while the request was on
// its way). As in Linkerd (hyper's pool retries such a request on a fresh connection) and Go's
// transport, the resend is immediate, needs no retry policy and takes nothing from the route's
// attempts or the retry budget: it is connection reuse going wrong, not the upstream failing,
// and budgets exist to stop retries multiplying upstream failures. Go's rule decides the
// methods: any method when no byte of the request was written (`retriableAnyMethod`: the
// socket took none of it, or the HTTP/2 stream was never sent), idempotent methods only when it
// may have been written (`staleConnection`); such a POST is left to the route's policy, which
// never repeats a non-idempotent request that may have reached the upstream. The body must
// still be replayable, and a request gets at most MAX_UNSENT_RESENDS such resends.
import { RetryController, errors, idempotentMethods } from '@trellis/sidecar-resilience';
import type { AttemptOutcome, RetryBudget, TrellisErrorCode } from '@trellis/sidecar-resilience';
import type { Layer, ProxyRequest } from '../context.js';
import { getHeader } from '../flat-headers.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';
import type { RoutePolicies } from '../runtime.js';
import { UPSTREAM_FAILURE_CODES, UpstreamError } from '../upstream.js';

function outcomeOf(
  response: ProxyResponse | undefined,
  error: UpstreamError | undefined,
): AttemptOutcome {
  if (response) {
    const grpc = getHeader(response.headers, 'grpc-status');
    return grpc === undefined
      ? { kind: 'response', status: response.status }
      : { kind: 'response', status: response.status, grpcStatus: Number(grpc) };
  }
  switch (error?.failure) {
    case 'connect-failure':
    case 'connect-timeout':
      return { kind: 'connect-failure' };
    case 'refused-stream':
      return { kind: 'refused-stream' };
    case 'per-try-timeout':
      return { kind: 'per-try-timeout' };
    default:
      return { kind: 'reset' };
  }
}

function failureResponse(
  request: ProxyRequest,
  error: UpstreamError,
  budgetExhausted: boolean,
): ProxyResponse {
  const code: TrellisErrorCode = budgetExhausted
    ? 'TRL_BUDGET_EXHAUSTED'
    : UPSTREAM_FAILURE_CODES[error.failure];
  request.record.error = errors[code].headerValue;
  return localResponse(code, `${error.message} (attempt ${request.attempt})`);
}

/**
 * Most resends of never-sent attempts per request: a pool holds few stale connections at once,
 * and the cap keeps an upstream that closes every connection at reuse from looping a request.
 */
export const MAX_UNSENT_RESENDS = 3;

/** The reason recorded for such a resend (Envoy's name for the condition). */
export const UNSENT_RESEND_REASON = 'reset-before-request';

/**
 * Whether a failed attempt was a stale-connection reset that is resent outside the retry policy
 * (see above). Also tells the failure-accrual layer that the failure says nothing about the
 * upstream's health.
 */
export function isUnsentReset(request: ProxyRequest, error: unknown): boolean {
  return (
    error instanceof UpstreamError &&
    error.failure === 'reset' &&
    (error.retriableAnyMethod ||
      (error.staleConnection && idempotentMethods.has(request.exchange.method)))
  );
}

function resendUnsent(request: ProxyRequest, error: UpstreamError | undefined, resends: number) {
  return (
    isUnsentReset(request, error) &&
    resends < MAX_UNSENT_RESENDS &&
    request.cancelled === undefined &&
    (request.body?.replayable ?? true)
  );
}

type AttemptResult =
  | { readonly response: ProxyResponse; readonly error: undefined }
  | { readonly response: undefined; readonly error: UpstreamError };

/** Sets the attempt's own deadline, before each attempt starts. */
function armAttempt(request: ProxyRequest): void {
  // Only a per-try limit that ends before the overall deadline gets a timer of its own here:
  // the overall deadline belongs to the timeout layer, and two timers for the same instant
  // would race over which error the client sees.
  const deadline = request.deadline;
  const now = request.clock.now();
  request.attemptDeadlineAt =
    deadline?.attemptLimit(now) === 'per-try' ? deadline.attemptDeadlineAt(now) : Infinity;
}

async function attempt(
  next: (r: ProxyRequest) => Promise<ProxyResponse>,
  request: ProxyRequest,
): Promise<AttemptResult> {
  armAttempt(request);
  try {
    return { response: await next(request), error: undefined };
  } catch (error) {
    if (error instanceof UpstreamError) return { response: undefined, error };
    throw error;
  }
}

export function retryLayer(): Layer {
  return (next) => (request) => {
    const route = request.route?.route;
    const retry = route ? request.runtime.policies(route).retry : undefined;
    const cluster = request.destination
      ? request.runtime.cluster(request.destination.key)
      : undefined;
    request.record.attempts = 1;
    if (retry && cluster) return withPolicy(next, request, retry, cluster.budget);
    // Without a retry policy a response passes straight out, with no promise of this layer's
    // own; only a failed attempt goes on to resends and the failure answer.
    armAttempt(request);
    let response: Promise<ProxyResponse>;
    try {
      response = next(request);
    } catch (error) {
      // A throwing inner layer (a bug) still fails as a rejection, as it did under await.
      response = Promise.reject(error);
    }
    return response.catch((error: unknown) => {
      if (!(error instanceof UpstreamError)) throw error;
      return settle(next, request, { response: undefined, error }, undefined);
    });
  };
}

async function withPolicy(
  next: (r: ProxyRequest) => Promise<ProxyResponse>,
  request: ProxyRequest,
  retry: NonNullable<RoutePolicies['retry']>,
  budget: RetryBudget,
): Promise<ProxyResponse> {
  const result = await attempt(next, request);
  const controller = new RetryController({
    policy: retry.policy,
    backoff: retry.backoff,
    budget,
    clock: request.clock,
    method: request.exchange.method,
    body: request.body?.buffer,
    deadline: request.deadline,
  });
  return settle(next, request, result, controller);
}

/** From the first attempt's result on: resends, retries, and the answer for a final failure. */
async function settle(
  next: (r: ProxyRequest) => Promise<ProxyResponse>,
  request: ProxyRequest,
  first: AttemptResult,
  controller: RetryController | undefined,
): Promise<ProxyResponse> {
  let result = first;
  let resends = 0;
  for (;;) {
    if (resendUnsent(request, result.error, resends)) {
      resends += 1;
      request.body?.detach();
      request.record.retryReasons.push(UNSENT_RESEND_REASON);
      result = await nextAttempt(next, request);
      continue;
    }
    // Proxy-made answers (overloaded, no healthy endpoint) are final: retrying them only adds load.
    if (!controller || request.cancelled || result.response?.error !== undefined) {
      return result.response ?? failureResponse(request, result.error, false);
    }
    const decision = controller.nextAttempt(outcomeOf(result.response, result.error));
    if (!decision.retry) {
      return (
        result.response ??
        failureResponse(request, result.error, decision.reason === 'budget-exhausted')
      );
    }
    result.response?.body?.discard();
    request.body?.detach();
    request.record.retryReasons.push(decision.reason);
    if (decision.delayMs > 0)
      await new Promise<void>((resolve) => request.clock.setTimer(decision.delayMs, resolve));
    if (request.cancelled)
      return localResponse('TRL_REQUEST_TIMEOUT', 'request cancelled during retry backoff');
    result = await nextAttempt(next, request);
  }
}

/** Starts the request's next attempt; attempts are numbered on the wire, resends included. */
function nextAttempt(next: (r: ProxyRequest) => Promise<ProxyResponse>, request: ProxyRequest) {
  request.attempt += 1;
  request.record.attempts = request.attempt;
  return attempt(next, request);
}
