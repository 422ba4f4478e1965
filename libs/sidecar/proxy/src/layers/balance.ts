// Per attempt: admits it against the destination's circuit-breaker limits (fast 503 with
// x-trellis-overloaded when full), picks an endpoint with the destination's balancer, and
// reports the outcome back for load (active requests, EWMA) and passive health (ejection).
import type { Outcome } from '@trellis/sidecar-balance';
import type { Handler, Layer, ProxyRequest } from '../context.js';
import { getHeader } from '../flat-headers.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';
import { UpstreamError } from '../upstream.js';

/** The passive-health outcome of an upstream answer (also used for mirrored copies). */
export function outcomeOfStatus(status: number): Outcome {
  if (status === 502 || status === 503 || status === 504) return 'gateway-error';
  return status >= 500 ? '5xx' : 'success';
}

/** The passive-health outcome of a failed upstream call. */
export function outcomeOfError(error: unknown): Outcome {
  if (!(error instanceof UpstreamError)) return 'reset';
  switch (error.failure) {
    case 'connect-failure':
    case 'connect-timeout':
      return 'connect-failure';
    case 'per-try-timeout':
      return 'timeout';
    default:
      return 'reset';
  }
}

export function balanceLayer(): Layer {
  // One pick context for every request (picks are synchronous), as PickContext allows.
  const pick: { hashKey: string | undefined; random: () => number } = {
    hashKey: undefined,
    random: Math.random,
  };
  // Not async: the outcome is reported from the response promise's own reactions.
  return (next) => (request) => {
    try {
      return balance(next, request, pick);
    } catch (error) {
      // Handlers reject rather than throw: a fault here stays a rejection, as under async.
      return Promise.reject(error);
    }
  };
}

function balance(
  next: Handler,
  request: ProxyRequest,
  pick: { hashKey: string | undefined; random: () => number },
): Promise<ProxyResponse> {
  const destination = request.destination;
  const cluster = destination && request.runtime.cluster(destination.key);
  if (!cluster) {
    request.record.error = 'no-healthy-upstream';
    return Promise.resolve(
      localResponse(
        'TRL_NO_HEALTHY_UPSTREAM',
        `no cluster for ${destination?.key ?? 'the request'}`,
      ),
    );
  }
  const admission = cluster.breaker.tryAcquire(
    request.attempt > 1 ? 'active-retries' : 'active-requests',
  );
  if (!admission.admitted) {
    request.record.error = 'overloaded';
    return Promise.resolve(
      localResponse('TRL_OVERLOADED', `${cluster.ref.key}: ${admission.overloaded} limit reached`, {
        headers: ['x-trellis-overloaded', admission.overloaded],
      }),
    );
  }
  pick.hashKey = cluster.settings.hashHeader
    ? getHeader(request.headers, cluster.settings.hashHeader)
    : undefined;
  pick.random = request.random;
  const endpoint = cluster.balancer.pick(pick);
  if (!endpoint) {
    admission.release();
    request.record.error = 'no-healthy-upstream';
    return Promise.resolve(
      localResponse('TRL_NO_HEALTHY_UPSTREAM', `${cluster.ref.key} has no available endpoint`),
    );
  }
  request.endpoint = endpoint;
  request.upstream = {
    address: endpoint.endpoint.address,
    port: endpoint.endpoint.port,
    protocol: cluster.ref.protocol,
    pool: cluster.settings,
  };
  request.record.endpoint = endpoint.id;
  const lease = cluster.endpoints.start(endpoint);
  const startedAt = request.clock.now();
  let response: Promise<ProxyResponse>;
  try {
    response = next(request);
  } catch (error) {
    response = Promise.reject(error);
  }
  return response.then(
    (response) => {
      lease.end({
        outcome: outcomeOfStatus(response.status),
        latencyMs: request.clock.now() - startedAt,
      });
      if (response.body) response.body.whenDone(admission.release);
      else admission.release();
      return response;
    },
    (error: unknown) => {
      lease.end({ outcome: outcomeOfError(error), latencyMs: request.clock.now() - startedAt });
      admission.release();
      throw error;
    },
  );
}
