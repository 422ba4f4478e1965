// Per attempt, per destination cluster: the consecutive-failure breaker (Linkerd's failure
// accrual). After N failed attempts in a row to a destination, its attempts are answered 503
// `circuit-open` at once, without an endpoint pick or a connection; after the cool-down one
// probe attempt goes through, and its result closes the breaker or re-opens it for longer.
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
import { FailureAccrual } from '@trellis/sidecar-resilience';
import type { BreakerResult, FailureAccrualParams } from '@trellis/sidecar-resilience';
import type { Clock } from '@trellis/time';
import type { Handler, Layer, ProxyRequest } from '../context.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';
import type { Cluster, ProxyRuntime } from '../runtime.js';
import { UpstreamError } from '../upstream.js';
import { isUnsentReset } from './retry.js';

/** The breaker settings of a destination, or undefined for none. Called once per cluster build. */
export type FailureAccrualSource = (
  cluster: Cluster,
  runtime: ProxyRuntime,
) => FailureAccrualParams | undefined;

interface Carried {
  readonly paramsKey: string;
  readonly accrual: FailureAccrual;
}

/**
 * The breakers of every destination. A config swap builds new Cluster objects; a breaker moves
 * over to the new one when the cluster's limit state moved over (same CircuitBreaker object,
 * i.e. unchanged connection-pool settings) and its own parameters are unchanged, so an open
 * circuit stays open across unrelated config changes.
 */
export class ClusterBreakers {
  readonly #source: FailureAccrualSource;
  /** Resolved breaker per cluster (null: none), so requests do one WeakMap lookup. */
  readonly #byCluster = new WeakMap<Cluster, FailureAccrual | null>();
  readonly #carried = new WeakMap<object, Carried>();

  constructor(source: FailureAccrualSource) {
    this.#source = source;
  }

  /** The breaker guarding `cluster`, if it has one. */
  get(cluster: Cluster, runtime: ProxyRuntime, clock: Clock): FailureAccrual | undefined {
    const known = this.#byCluster.get(cluster);
    if (known !== undefined) return known ?? undefined;
    const params = this.#source(cluster, runtime);
    let accrual: FailureAccrual | null = null;
    if (params) {
      const paramsKey = JSON.stringify(params);
      const carried = this.#carried.get(cluster.breaker);
      accrual =
        carried?.paramsKey === paramsKey ? carried.accrual : new FailureAccrual(params, clock);
      this.#carried.set(cluster.breaker, { paramsKey, accrual });
    }
    this.#byCluster.set(cluster, accrual);
    return accrual ?? undefined;
  }
}

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

export function failureAccrualLayer(breakers: ClusterBreakers): Layer {
  return (next) => (request) => {
    const destination = request.destination;
    const cluster = destination && request.runtime.cluster(destination.key);
    const accrual = cluster && breakers.get(cluster, request.runtime, request.clock);
    // Destinations without a breaker pass straight through.
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
