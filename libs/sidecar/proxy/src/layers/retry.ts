// Attempts: sends the request, and when an attempt fails in a way the route retries, waits a
// jittered backoff and tries again — within the attempts allowed, the request's deadline and
// the destination's retry budget, so retries never multiply an outage. A failed attempt that
// is not retried becomes the proxy's own error response, naming the failure.
import { RetryController, errors } from '@trellis/sidecar-resilience';
import type { AttemptOutcome, TrellisErrorCode } from '@trellis/sidecar-resilience';
import type { Layer, ProxyRequest } from '../context.js';
import { getHeader } from '../flat-headers.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';
import { UpstreamError } from '../upstream.js';
import type { UpstreamFailure } from '../upstream.js';

const failureCodes: Readonly<Record<UpstreamFailure, TrellisErrorCode>> = {
  'connect-failure': 'TRL_UPSTREAM_CONNECT_FAILURE',
  'connect-timeout': 'TRL_UPSTREAM_CONNECT_TIMEOUT',
  reset: 'TRL_UPSTREAM_RESET',
  'refused-stream': 'TRL_UPSTREAM_RESET',
  'protocol-error': 'TRL_UPSTREAM_PROTOCOL_ERROR',
  'per-try-timeout': 'TRL_PER_TRY_TIMEOUT',
  'pool-overflow': 'TRL_OVERLOADED',
};

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
    : failureCodes[error.failure];
  request.record.error = errors[code].headerValue;
  return localResponse(code, `${error.message} (attempt ${request.attempt})`);
}

async function attempt(next: (r: ProxyRequest) => Promise<ProxyResponse>, request: ProxyRequest) {
  request.attemptDeadlineAt = request.deadline?.attemptDeadlineAt(request.clock.now()) ?? Infinity;
  try {
    return { response: await next(request), error: undefined };
  } catch (error) {
    if (error instanceof UpstreamError) return { response: undefined, error };
    throw error;
  }
}

export function retryLayer(): Layer {
  return (next) => async (request) => {
    const route = request.route?.route;
    const retry = route ? request.runtime.policies(route).retry : undefined;
    const cluster = request.destination
      ? request.runtime.cluster(request.destination.key)
      : undefined;
    let result = await attempt(next, request);
    request.record.attempts = 1;
    if (!retry || !cluster)
      return result.response ?? failureResponse(request, result.error as UpstreamError, false);
    const controller = new RetryController({
      policy: retry.policy,
      backoff: retry.backoff,
      budget: cluster.budget,
      clock: request.clock,
      method: request.exchange.method,
      body: request.body?.buffer,
      deadline: request.deadline,
    });
    for (;;) {
      // Proxy-made answers (overloaded, no healthy endpoint) are final: retrying them only adds load.
      if (request.cancelled || result.response?.error !== undefined) {
        return result.response ?? failureResponse(request, result.error as UpstreamError, false);
      }
      const decision = controller.nextAttempt(outcomeOf(result.response, result.error));
      if (!decision.retry) {
        return (
          result.response ??
          failureResponse(
            request,
            result.error as UpstreamError,
            decision.reason === 'budget-exhausted',
          )
        );
      }
      result.response?.body?.discard();
      request.body?.detach();
      request.record.retryReasons.push(decision.reason);
      if (decision.delayMs > 0)
        await new Promise<void>((resolve) => request.clock.setTimer(decision.delayMs, resolve));
      if (request.cancelled)
        return localResponse('TRL_REQUEST_TIMEOUT', 'request cancelled during retry backoff');
      request.attempt = decision.attempt;
      request.record.attempts = decision.attempt;
      result = await attempt(next, request);
    }
  };
}
