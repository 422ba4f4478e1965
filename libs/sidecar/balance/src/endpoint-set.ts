// The endpoints of one cluster as of one discovery update, and which of them take new requests.
// Built once per update (carrying per-endpoint state over by id), then asked per request for its
// candidate pool, which is cached and recomputed only when an ejection starts or ends.
//
// Candidate rule, in order:
// 1. Routable = ready and not terminating. If none is, fall back to every `serving` endpoint,
//    terminating ones included (Kubernetes' ProxyTerminatingEndpoints fallback). Otherwise a
//    terminating endpoint gets no new request; its leases still settle, so it drains.
// 2. Healthy = routable and not ejected.
// 3. Panic (panicThresholdPercent > 0): when healthy < threshold % of routable, the pool is all
//    routable endpoints, ejections ignored; when nothing is routable, every non-terminating
//    endpoint (a likely failure beats a certain one). With threshold 0 and nothing healthy, the
//    pool is empty and balancers pick undefined.
// 4. Zone: outside panic, with a `localZone`, the pool is the healthy local-zone endpoints when
//    there is at least one and they are ≥ zoneMinAvailablePercent of the local zone's
//    non-terminating endpoints; otherwise all healthy endpoints.
import type { Clock } from '@trellis/time';
import type { Endpoint } from './endpoint.js';
import { validateEndpoint } from './endpoint.js';
import type { LeaseSettler } from './endpoint-state.js';
import { EndpointState } from './endpoint-state.js';
import { BalanceError } from './errors.js';
import { Lease } from './lease.js';
import type { LeaseResult } from './lease.js';
import type { Outcome } from './outlier-detector.js';
import { OutlierDetector } from './outlier-detector.js';
import type { BalanceParams, OutlierParams } from './params.js';
import { resolveBalanceParams } from './params.js';

export interface EndpointSetInit {
  readonly endpoints: readonly Endpoint[];
  readonly clock: Clock;
  /** Zone of the calling sidecar; enables local-zone preference. */
  readonly localZone?: string;
  readonly balance?: Partial<BalanceParams>;
  readonly outlier?: Partial<OutlierParams>;
  /**
   * The set this one replaces. State of endpoints that still exist (same id) moves to the new set,
   * which then settles their leases; discard `previous` once the new set is swapped in.
   */
  readonly previous?: EndpointSet;
}

/** How the current candidate pool was chosen (see the rule above). */
export type PoolMode = 'normal' | 'local-zone' | 'panic' | 'empty';

/** Plain per-endpoint data for the admin `/clusters` view. Times are clock ms. */
export interface EndpointSnapshot {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly zone: string | null;
  readonly weight: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** Whether new requests can be sent to it now. */
  readonly candidate: boolean;
  readonly activeRequests: number;
  /** Peak-EWMA RTT estimate decayed to now (the default RTT until `rttSamples` > 0). */
  readonly ewmaMs: number;
  readonly rttSamples: number;
  readonly ejected: boolean;
  readonly ejectedUntil: number | null;
  /** Current ejection multiplier (grows per ejection, decays while healthy). */
  readonly timesEjected: number;
  readonly totalEjections: number;
  readonly consecutive5xx: number;
  readonly consecutiveGatewayErrors: number;
  readonly successes: number;
  readonly failures: number;
}

export interface SetSnapshot {
  readonly at: number;
  readonly mode: PoolMode;
  /** True when no endpoint is ready and serving endpoints are used instead. */
  readonly readinessFallback: boolean;
  readonly candidates: number;
  readonly ejected: number;
  readonly endpoints: readonly EndpointSnapshot[];
}

/** Outcomes that carry a response time worth feeding the RTT estimate. A connect failure or reset
 * says nothing about how fast the endpoint answers, and counting its (short) latency would make a
 * failing endpoint look fast. A timeout is a lower bound of the RTT, so it does count. */
function observesRtt(outcome: Outcome): boolean {
  return outcome !== 'connect-failure' && outcome !== 'reset';
}

export class EndpointSet {
  readonly clock: Clock;
  readonly localZone: string | undefined;
  readonly params: BalanceParams;
  readonly detector: OutlierDetector;
  readonly #states: readonly EndpointState[];
  readonly #byId: ReadonlyMap<string, EndpointState>;
  readonly #settler: LeaseSettler;
  #pool: readonly EndpointState[] = [];
  #mode: PoolMode = 'empty';
  #readinessFallback = false;
  #version = 0;
  #ejected = 0;
  #nextReleaseAt = Number.POSITIVE_INFINITY;

  constructor(init: EndpointSetInit) {
    // Validate everything before touching `previous`, so a rejected update leaves it intact.
    this.params = resolveBalanceParams(init.balance);
    this.detector = new OutlierDetector(init.outlier);
    if (init.localZone !== undefined && (typeof init.localZone !== 'string' || !init.localZone)) {
      throw new BalanceError(
        'TRL_BALANCE_INVALID_PARAMS',
        'localZone',
        'must be a non-empty string',
      );
    }
    const seen = new Set<string>();
    init.endpoints.forEach((endpoint, i) => {
      validateEndpoint(endpoint, `endpoints[${i}]`);
      if (seen.has(endpoint.id)) {
        throw new BalanceError(
          'TRL_BALANCE_DUPLICATE_ENDPOINT',
          `endpoints[${i}].id`,
          `duplicate endpoint id ${endpoint.id}`,
        );
      }
      seen.add(endpoint.id);
    });

    this.clock = init.clock;
    this.localZone = init.localZone;
    this.#settler = { settle: (endpoint, result) => this.#settle(endpoint, result) };
    const now = init.clock.now();
    const byId = new Map<string, EndpointState>();
    this.#states = init.endpoints.map((endpoint) => {
      const carried = init.previous?.get(endpoint.id);
      const state =
        carried ?? new EndpointState(endpoint, this.#settler, this.params.ewmaDefaultRttMs, now);
      state.adopt(endpoint, this.#settler);
      byId.set(endpoint.id, state);
      return state;
    });
    this.#byId = byId;
    this.#releaseDue(now);
  }

  /** Number of endpoints (whatever their condition). */
  get size(): number {
    return this.#states.length;
  }

  /** All endpoints in discovery order. */
  get endpoints(): readonly EndpointState[] {
    return this.#states;
  }

  /** Bumped whenever the candidate pool is recomputed; balancers rebuild derived tables on change. */
  get version(): number {
    return this.#version;
  }

  get mode(): PoolMode {
    return this.#mode;
  }

  get readinessFallback(): boolean {
    return this.#readinessFallback;
  }

  get(id: string): EndpointState | undefined {
    return this.#byId.get(id);
  }

  /**
   * The endpoints that may take a new request now. Ends due ejections first (a clock read only
   * while something is ejected). The array is shared and replaced, never mutated: do not keep it
   * across calls.
   */
  candidates(): readonly EndpointState[] {
    if (this.#nextReleaseAt !== Number.POSITIVE_INFINITY) {
      const now = this.clock.now();
      if (now >= this.#nextReleaseAt) this.#releaseDue(now);
    }
    return this.#pool;
  }

  /** Opens a request on `endpoint`; end the lease exactly once when the request finishes. */
  start(endpoint: EndpointState): Lease {
    endpoint.begin();
    return new Lease(endpoint);
  }

  snapshot(): SetSnapshot {
    const inPool = new Set(this.candidates());
    const now = this.clock.now();
    const decayMs = this.params.ewmaDecayMs;
    return {
      at: now,
      mode: this.#mode,
      readinessFallback: this.#readinessFallback,
      candidates: inPool.size,
      ejected: this.#ejected,
      endpoints: this.#states.map((s): EndpointSnapshot => {
        const e = s.endpoint;
        const o = s.outlier;
        return {
          id: e.id,
          address: e.address,
          port: e.port,
          zone: e.zone ?? null,
          weight: e.weight,
          ready: e.ready,
          serving: e.serving,
          terminating: e.terminating,
          candidate: inPool.has(s),
          activeRequests: s.active,
          ewmaMs: s.ewma.peek(now, decayMs),
          rttSamples: s.ewma.samples,
          ejected: o.ejectedUntil !== undefined,
          ejectedUntil: o.ejectedUntil ?? null,
          timesEjected: this.detector.multiplierAt(o, now),
          totalEjections: o.totalEjections,
          consecutive5xx: o.consecutive5xx,
          consecutiveGatewayErrors: o.consecutiveGatewayErrors,
          successes: s.successes,
          failures: s.failures,
        };
      }),
    };
  }

  #settle(state: EndpointState, { outcome, latencyMs }: LeaseResult): void {
    const now = this.clock.now();
    state.finish(outcome === 'success');
    if (latencyMs >= 0 && observesRtt(outcome)) {
      state.ewma.observe(latencyMs, now, this.params.ewmaDecayMs);
    }
    // End due ejections first so the max-ejection budget counts only live ones.
    if (now >= this.#nextReleaseAt) this.#releaseDue(now);
    if (this.detector.record(state.outlier, outcome, now, this.#states.length, this.#ejected)) {
      this.#ejected++;
      this.#nextReleaseAt = Math.min(this.#nextReleaseAt, state.outlier.ejectedUntil ?? now);
      this.#rebuildPool();
    }
  }

  /** Ends due ejections, recounts live ones and recomputes the pool. */
  #releaseDue(now: number): void {
    let ejected = 0;
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.#states) {
      this.detector.release(s.outlier, now);
      const until = s.outlier.ejectedUntil;
      if (until !== undefined) {
        ejected++;
        if (until < next) next = until;
      }
    }
    this.#ejected = ejected;
    this.#nextReleaseAt = next;
    this.#rebuildPool();
  }

  #rebuildPool(): void {
    const states = this.#states;
    const fallback = !states.some((s) => s.endpoint.ready && !s.endpoint.terminating);
    const routable = fallback
      ? states.filter((s) => s.endpoint.serving)
      : states.filter((s) => s.endpoint.ready && !s.endpoint.terminating);
    const healthy = routable.filter((s) => !s.ejected);
    const panicPercent = this.params.panicThresholdPercent;
    let pool: EndpointState[];
    let mode: PoolMode;
    if (panicPercent > 0 && healthy.length * 100 < panicPercent * routable.length) {
      pool = routable;
      mode = 'panic';
    } else if (panicPercent > 0 && routable.length === 0) {
      pool = states.filter((s) => !s.endpoint.terminating);
      mode = 'panic';
    } else {
      const local = this.#localPool(healthy);
      pool = local ?? healthy;
      mode = local ? 'local-zone' : 'normal';
    }
    this.#readinessFallback = fallback;
    this.#pool = pool;
    this.#mode = pool.length === 0 ? 'empty' : mode;
    this.#version++;
  }

  /** The healthy local-zone endpoints when they are enough to take the traffic alone. */
  #localPool(healthy: EndpointState[]): EndpointState[] | undefined {
    const zone = this.localZone;
    if (zone === undefined) return undefined;
    const local = healthy.filter((s) => s.endpoint.zone === zone);
    if (local.length === 0) return undefined;
    let localTotal = 0;
    for (const s of this.#states) {
      if (s.endpoint.zone === zone && !s.endpoint.terminating) localTotal++;
    }
    return local.length * 100 >= this.params.zoneMinAvailablePercent * localTotal
      ? local
      : undefined;
  }
}
