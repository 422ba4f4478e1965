// Compiles a snapshot into what requests use: the route table, one Cluster per service port
// (endpoints, balancer, limits, budget) and the policies of each route. Built aside and
// swapped by the ConfigHolder; state that must survive a config change (endpoint health,
// in-flight counts, token buckets, budgets, failure-accrual breakers) moves over from the
// previous runtime when the settings it depends on are unchanged.
import { buildSnapshot, parseDuration } from '@trellis/config';
import type {
  DestinationPolicyResource,
  EndpointsResource,
  Resource,
  Snapshot,
} from '@trellis/config';
import { EndpointSet, createBalancer } from '@trellis/sidecar-balance';
import type { Balancer, Endpoint } from '@trellis/sidecar-balance';
import {
  CircuitBreaker,
  ExponentialBackoff,
  FailureAccrual,
  FaultInjector,
  RetryBudget,
  RetryPolicy,
  TimeoutPolicy,
  TokenBucket,
} from '@trellis/sidecar-resilience';
import type { FailureAccrualParams } from '@trellis/sidecar-resilience';
import { RouteTable } from '@trellis/sidecar-routing';
import type { CompiledRoute, ServicePortRef } from '@trellis/sidecar-routing';
import type { Clock } from '@trellis/time';

export interface RuntimeOptions {
  /** Namespace of the workload this sidecar serves (short names resolve in it). */
  readonly localNamespace: string;
  readonly localZone?: string;
  readonly clock: Clock;
  readonly random: () => number;
}

export interface ClusterSettings {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequestsPerConnection: number | undefined;
  /** Header whose value feeds consistent hashing, lower-case. */
  readonly hashHeader: string | undefined;
}

/** One port of one service: its endpoints and the limits that protect it. */
export interface Cluster {
  readonly ref: ServicePortRef;
  readonly settings: ClusterSettings;
  readonly endpoints: EndpointSet;
  readonly balancer: Balancer;
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
  readonly rateLimit: { readonly bucket: TokenBucket; readonly status: number } | undefined;
  /** Key of the settings the stateful parts were built from; equal keys carry state over. */
  readonly stateKey: string;
  /** The destination's consecutive-failure breaker (DestinationPolicy.failureAccrual), if any. */
  readonly failureAccrual: FailureAccrual | undefined;
  /**
   * Key of failureAccrual's settings ('' without one). Apart from stateKey, so an open circuit
   * stays open across changes to the limits, and the limits' state across breaker changes.
   */
  readonly failureAccrualKey: string;
}

export interface RoutePolicies {
  readonly retry:
    { readonly policy: RetryPolicy; readonly backoff: ExponentialBackoff } | undefined;
  readonly timeouts: TimeoutPolicy;
  readonly fault: FaultInjector | undefined;
  readonly rateLimit:
    { readonly bucket: TokenBucket; readonly status: number; readonly key: string } | undefined;
}

export class ProxyRuntime {
  readonly snapshot: Snapshot;
  readonly routes: RouteTable;
  readonly #clusters: ReadonlyMap<string, Cluster>;
  readonly #policies: ReadonlyMap<string, RoutePolicies>;

  private constructor(
    snapshot: Snapshot,
    routes: RouteTable,
    clusters: ReadonlyMap<string, Cluster>,
    policies: ReadonlyMap<string, RoutePolicies>,
  ) {
    this.snapshot = snapshot;
    this.routes = routes;
    this.#clusters = clusters;
    this.#policies = policies;
  }

  cluster(key: string): Cluster | undefined {
    return this.#clusters.get(key);
  }

  clusters(): IterableIterator<Cluster> {
    return this.#clusters.values();
  }

  policies(route: CompiledRoute): RoutePolicies {
    return this.#policies.get(route.id) ?? NO_POLICIES;
  }

  /** A runtime with no services or routes (before any config arrives). */
  static empty(options: RuntimeOptions): ProxyRuntime {
    return ProxyRuntime.build(buildSnapshot([], 1), undefined, options);
  }

  static build(
    snapshot: Snapshot,
    previous: ProxyRuntime | undefined,
    options: RuntimeOptions,
  ): ProxyRuntime {
    const resources = snapshot.resources;
    const routes = RouteTable.compile(resources, { localNamespace: options.localNamespace });
    const index = indexResources(resources);
    const clusters = new Map<string, Cluster>();
    for (const route of routes.routes) {
      const refs =
        route.action.kind === 'forward' ? route.action.destinations.map((d) => d.target) : [];
      if (route.mirror) refs.push(route.mirror.target);
      for (const ref of refs) {
        if (!clusters.has(ref.key))
          clusters.set(ref.key, buildCluster(ref, index, previous?.cluster(ref.key), options));
      }
    }
    const policies = new Map<string, RoutePolicies>();
    for (const route of routes.routes) {
      if (route.implicit) continue;
      policies.set(route.id, buildRoutePolicies(route, index, previous, options));
    }
    return new ProxyRuntime(snapshot, routes, clusters, policies);
  }
}

const NO_POLICIES: RoutePolicies = Object.freeze({
  retry: undefined,
  timeouts: new TimeoutPolicy({ requestTimeoutMs: 0, perTryTimeoutMs: 0 }),
  fault: undefined,
  rateLimit: undefined,
});

interface ResourceIndex {
  readonly endpoints: ReadonlyMap<string, EndpointsResource>;
  readonly destinationPolicies: ReadonlyMap<string, DestinationPolicyResource>;
  readonly budgets: ReadonlyMap<string, Extract<Resource, { kind: 'RetryBudget' }>>;
  readonly serviceRateLimits: ReadonlyMap<string, Extract<Resource, { kind: 'RateLimit' }>>;
  readonly routeRateLimits: ReadonlyMap<string, Extract<Resource, { kind: 'RateLimit' }>>;
  readonly singlePortServices: ReadonlySet<string>;
}

function indexResources(resources: readonly Resource[]): ResourceIndex {
  const endpoints = new Map<string, EndpointsResource>();
  const destinationPolicies = new Map<string, DestinationPolicyResource>();
  const budgets = new Map<string, Extract<Resource, { kind: 'RetryBudget' }>>();
  const serviceRateLimits = new Map<string, Extract<Resource, { kind: 'RateLimit' }>>();
  const routeRateLimits = new Map<string, Extract<Resource, { kind: 'RateLimit' }>>();
  const singlePortServices = new Set<string>();
  for (const r of resources) {
    const ns = r.metadata.namespace;
    switch (r.kind) {
      case 'Service':
        if (r.spec.ports.length === 1) singlePortServices.add(`${r.metadata.name}.${ns}`);
        break;
      case 'Endpoints':
        endpoints.set(`${r.spec.service}.${ns}`, r);
        break;
      case 'DestinationPolicy':
        destinationPolicies.set(`${r.spec.service}.${ns}`, r);
        break;
      case 'RetryBudget':
        budgets.set(`${r.spec.service}.${ns}`, r);
        break;
      case 'RateLimit':
        if (r.spec.service !== undefined) serviceRateLimits.set(`${r.spec.service}.${ns}`, r);
        if (r.spec.route !== undefined) routeRateLimits.set(`route/${r.spec.route}.${ns}`, r);
        break;
      default:
        break;
    }
  }
  return {
    endpoints,
    destinationPolicies,
    budgets,
    serviceRateLimits,
    routeRateLimits,
    singlePortServices,
  };
}

/** Linkerd's default budget: retries ≤ 20 % of requests, plus 10 per second, over 10 s. */
const DEFAULT_BUDGET = { retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 };

function buildCluster(
  ref: ServicePortRef,
  index: ResourceIndex,
  previous: Cluster | undefined,
  options: RuntimeOptions,
): Cluster {
  const serviceKey = `${ref.name}.${ref.namespace}`;
  const singlePort = index.singlePortServices.has(serviceKey);
  const policy = index.destinationPolicies.get(serviceKey)?.spec;
  const pool = policy?.connectionPool;
  const settings: ClusterSettings = Object.freeze({
    connectTimeoutMs: parseDuration(policy?.connectTimeout ?? '1s'),
    idleTimeoutMs: parseDuration(pool?.idleTimeout ?? '60s'),
    maxConnections: pool?.maxConnections ?? 1024,
    maxPendingRequests: pool?.maxPendingRequests ?? 1024,
    maxRequestsPerConnection: pool?.maxRequestsPerConnection,
    hashHeader: policy?.loadBalancer.hashHeader?.toLowerCase(),
  });
  const outlier = policy?.outlierDetection;
  const endpointList: Endpoint[] = (index.endpoints.get(serviceKey)?.spec.endpoints ?? [])
    // A single-port service owns every endpoint; a multi-port one the endpoints on its target port.
    .filter((e) => singlePort || e.port === ref.targetPort)
    .map((e) => ({
      id: `${e.address}:${e.port}`,
      address: e.address,
      port: e.port,
      weight: e.weight,
      zone: e.zone,
      ready: e.conditions.ready,
      serving: e.conditions.serving,
      terminating: e.conditions.terminating,
    }));
  const endpoints = new EndpointSet({
    endpoints: endpointList,
    clock: options.clock,
    localZone: options.localZone,
    previous: previous?.endpoints,
    balance: policy ? { ewmaDecayMs: parseDuration(policy.loadBalancer.ewmaDecay) } : undefined,
    outlier: outlier
      ? {
          consecutive5xx: outlier.consecutive5xx,
          consecutiveGatewayErrors: outlier.consecutiveGatewayErrors,
          baseEjectionTimeMs: parseDuration(outlier.baseEjectionTime),
          maxEjectionTimeMs: parseDuration(outlier.maxEjectionTime),
          maxEjectionPercent: outlier.maxEjectionPercent,
          ejectionDecayMs: parseDuration(outlier.interval),
        }
      : { consecutive5xx: 0, consecutiveGatewayErrors: 0 },
  });
  const budgetSpec = index.budgets.get(serviceKey)?.spec;
  const budgetParams = budgetSpec
    ? {
        retryRatio: budgetSpec.ratio,
        minRetriesPerSecond: budgetSpec.minRetriesPerSecond,
        ttlMs: parseDuration(budgetSpec.ttl),
      }
    : DEFAULT_BUDGET;
  const limits = {
    maxConnections: settings.maxConnections,
    maxPendingRequests: settings.maxPendingRequests,
    maxActiveRequests: pool?.maxActiveRequests ?? 1024,
    maxActiveRetries: pool?.maxActiveRequests ?? 1024,
  };
  const rateLimit = index.serviceRateLimits.get(serviceKey)?.spec;
  const stateKey = JSON.stringify({ limits, budgetParams, rateLimit });
  const carry = previous?.stateKey === stateKey ? previous : undefined;
  const accrual = policy?.failureAccrual && failureAccrualParams(policy.failureAccrual);
  const failureAccrualKey = accrual ? JSON.stringify(accrual) : '';
  return Object.freeze({
    ref,
    settings,
    endpoints,
    balancer: createBalancer(policy?.loadBalancer.algorithm ?? 'least-request', endpoints),
    breaker: carry?.breaker ?? new CircuitBreaker(limits),
    budget: carry?.budget ?? new RetryBudget(budgetParams, options.clock),
    rateLimit:
      carry?.rateLimit ??
      (rateLimit
        ? {
            bucket: new TokenBucket(
              {
                maxTokens: rateLimit.tokenBucket.maxTokens,
                tokensPerFill: rateLimit.tokenBucket.tokensPerFill,
                fillIntervalMs: parseDuration(rateLimit.tokenBucket.fillInterval),
              },
              options.clock,
            ),
            status: rateLimit.statusCode,
          }
        : undefined),
    stateKey,
    failureAccrual:
      previous?.failureAccrualKey === failureAccrualKey
        ? previous.failureAccrual
        : accrual && new FailureAccrual(accrual, options.clock),
    failureAccrualKey,
  });
}

/** The breaker's params, in a fixed shape so equal settings give equal keys however written. */
function failureAccrualParams(
  spec: NonNullable<DestinationPolicyResource['spec']['failureAccrual']>,
): FailureAccrualParams {
  // Whole milliseconds, rounded up: a penalty is never shorter than configured.
  return {
    maxFailures: spec.consecutiveFailures,
    backoff: {
      baseMs: Math.ceil(parseDuration(spec.minPenalty)),
      maxMs: Math.ceil(parseDuration(spec.maxPenalty)),
    },
  };
}

function buildRoutePolicies(
  route: CompiledRoute,
  index: ResourceIndex,
  previous: ProxyRuntime | undefined,
  options: RuntimeOptions,
): RoutePolicies {
  const r = route.retries;
  const limit = index.routeRateLimits.get(route.id)?.spec;
  const limitKey = limit ? JSON.stringify(limit) : '';
  const previousLimit = previous?.policies(route).rateLimit;
  return Object.freeze({
    retry: r
      ? {
          policy: new RetryPolicy({
            attempts: r.attempts,
            retryOn: r.retryOn,
            retriableStatusCodes: [...r.retriableStatusCodes],
            retryNonIdempotent: r.retryNonIdempotent,
          }),
          backoff: new ExponentialBackoff(
            { baseMs: r.backoffBaseMs, maxMs: r.backoffMaxMs },
            options.random,
          ),
        }
      : undefined,
    timeouts: new TimeoutPolicy({
      requestTimeoutMs: route.timeoutMs ?? 0,
      perTryTimeoutMs: r?.perTryTimeoutMs ?? 0,
    }),
    fault: route.fault ? new FaultInjector(route.fault, options.random) : undefined,
    rateLimit: limit
      ? previousLimit?.key === limitKey
        ? previousLimit
        : {
            bucket: new TokenBucket(
              {
                maxTokens: limit.tokenBucket.maxTokens,
                tokensPerFill: limit.tokenBucket.tokensPerFill,
                fillIntervalMs: parseDuration(limit.tokenBucket.fillInterval),
              },
              options.clock,
            ),
            status: limit.statusCode,
            key: limitKey,
          }
      : undefined,
  });
}
