// Per attempt, per destination cluster: the consecutive-failure breaker (Linkerd's failure
// accrual). After N failed attempts in a row to a destination, its attempts are answered 503
// `circuit-open` at once, without an endpoint pick or a connection; after the cool-down one
// probe attempt goes through, and its result closes the breaker or re-opens it for longer.
// The breaker is the Cluster's (DestinationPolicy.failureAccrual, built by the runtime, which
// carries it over config swaps that keep its settings); without one a request passes through.
//
// Why its own layer, per cluster, inside retry and outside balance:
// - per cluster, because ejecting single failing endpoints is already the outlier detector's job
//   (in the balancer, and capped by maxEjectionPercent so it never empties a destination); this
//   breaker is the complement that sheds a destination failing as a whole, fast, instead of
//   letting every request wait for its own connect failure or timeout;
// - per attempt (inside retry), so each attempt's outcome counts, a circuit-open answer is final
//   for the retry layer (proxy-made answers are never retried), and a probe is one attempt, not
//   a burst of retries;
// - before balance, so an open circuit costs no active-request slot and no endpoint pick, and
//   attempts the limits refuse (overloaded) do not count as upstream failures.
import type { BreakerResult, FailureAccrual } from '@trellis/sidecar-resilience';
import type { Handler, Layer, ProxyRequest } from '../context.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';
import { UpstreamError } from '../upstream.js';
import { isUnsentReset } from './retry.js';

/** How an attempt's answer counts: 5xx is a failure; a proxy-made answer says nothing. */
function resultOfResponse(response: ProxyResponse): BreakerResult {
  if (response.error !== undefined) return 'cancelled';
  return response.status >= 500 ? 'failure' : 'success';
}

/**
 * How a failed attempt counts. Cancelled attempts (request timeout, client gone), the pool's own
 * queue limit, and a stale keep-alive connection the retry layer resends say nothing about
 * the destination's health.
 */
function resultOfError(request: ProxyRequest, error: unknown): BreakerResult {
  if (!(error instanceof UpstreamError) || request.cancelled) return 'cancelled';
  if (error.failure === 'pool-overflow') return 'cancelled';
  if (isUnsentReset(request, error)) return 'cancelled';
  return 'failure';
}

async function guarded(
  next: Handler,
  request: ProxyRequest,
  accrual: FailureAccrual,
  admission: 'admitted' | 'probe',
): Promise<ProxyResponse> {
  let response: ProxyResponse;
  try {
    response = await next(request);
  } catch (error) {
    accrual.report(admission, resultOfError(request, error));
    throw error;
  }
  accrual.report(admission, resultOfResponse(response));
  return response;
}

export function failureAccrualLayer(): Layer {
  return (next) => (request) => {
    const destination = request.destination;
    const cluster = destination && request.runtime.cluster(destination.key);
    const accrual = cluster?.failureAccrual;
    // Destinations without a breaker pass straight through, allocating nothing.
    if (!accrual) return next(request);
    const admission = accrual.acquire();
    if (admission === 'rejected') {
      request.record.error = 'circuit-open';
      return Promise.resolve(
        localResponse(
          'TRL_CIRCUIT_OPEN',
          `${cluster.ref.key}: circuit open after consecutive failures`,
        ),
      );
    }
    return guarded(next, request, accrual, admission);
  };
}
