// Sliding window of completed requests per (direction, destination service), on the request
// path: each observation is a few typed-array increments in memory allocated once per series,
// so the proxy pays O(1) and allocates nothing per request. Time is cut into 1 s buckets of the
// injected clock; a summary covers the `windowSeconds` most recent complete seconds (the one in
// progress is left out, so every second in the window counts whole and rps = requests / window).
import { LATENCY_BUCKET_COUNT, latencyBucketOf, latencyQuantileMs } from '@trellis/mesh-protocol';
import type { DestinationStats, TelemetryEdge, TelemetrySource } from '@trellis/mesh-protocol';
import type { CompletedRequest } from '@trellis/sidecar-proxy';
import type { Clock } from '@trellis/time';
import { isSuccessful } from './success-class.js';

/** Requests for which no route chose a destination (and inbound ones of a sidecar without a service). */
export const UNROUTED_SERVICE = '__unrouted__';
/** Destinations beyond `maxDestinations` of one direction, counted together. */
export const OVERFLOW_SERVICE = '__overflow__';
export const DEFAULT_WINDOW_SECONDS = 10;
export const DEFAULT_MAX_DESTINATIONS = 128;

export interface DestinationWindowsOptions {
  readonly clock: Clock;
  /**
   * The proxy itself. Its service (`name.namespace`) is where inbound requests go and where the
   * edges of its outgoing traffic start; a proxy without one (a gateway) is named `pod.namespace`.
   */
  readonly identity: TelemetrySource;
  /** Whole seconds (default 10). */
  readonly windowSeconds?: number;
  /** Distinct services per direction before the rest fold into `__overflow__` (default 128). */
  readonly maxDestinations?: number;
}

export interface WindowSummary {
  readonly windowSeconds: number;
  readonly destinations: DestinationStats[];
  readonly edges: TelemetryEdge[];
}

// Per slot: [requests, failures, latency bucket counts…].
const REQUESTS = 0;
const FAILURES = 1;
const BINS = 2;
const STRIDE = BINS + LATENCY_BUCKET_COUNT;

/** One (direction, service): a ring of windowSeconds + 1 one-second slots. */
interface Series {
  readonly direction: string;
  readonly service: string;
  readonly counts: Uint32Array;
  /** The second each slot holds (-Infinity: never used); a slot holding an older second is reused. */
  readonly slotSecond: Float64Array;
  lastSecond: number;
}

interface Direction {
  /** Destination key (`name.namespace:port`) → its service's series: one Map lookup per request. */
  readonly byKey: Map<string, Series>;
  readonly byService: Map<string, Series>;
}

export class DestinationWindows {
  readonly #clock: Clock;
  readonly #localService: string;
  readonly #edgeSource: string;
  readonly #window: number;
  readonly #slots: number;
  readonly #maxDestinations: number;
  readonly #directions = new Map<string, Direction>();

  constructor(options: DestinationWindowsOptions) {
    const window = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    const max = options.maxDestinations ?? DEFAULT_MAX_DESTINATIONS;
    if (!Number.isInteger(window) || window < 1)
      throw new RangeError(`windowSeconds must be a whole number ≥ 1 (got ${window})`);
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxDestinations must be a whole number ≥ 1 (got ${max})`);
    this.#clock = options.clock;
    const { namespace, pod, service } = options.identity;
    this.#localService = service ? `${service}.${namespace}` : '';
    this.#edgeSource = this.#localService || `${pod}.${namespace}`;
    this.#window = window;
    this.#slots = window + 1;
    this.#maxDestinations = max;
  }

  get windowSeconds(): number {
    return this.#window;
  }

  /** Counts one finished request; `direction` is the listener name (outbound, inbound, gateway). */
  record(completed: CompletedRequest, direction: string): void {
    this.observe(
      direction,
      completed.request.record.destination,
      isSuccessful(completed.status, completed.grpcStatus, completed.outcome),
      completed.durationMs,
    );
  }

  /** Counts one request to `destinationKey` (`name.namespace:port`, undefined: none chosen). */
  observe(
    direction: string,
    destinationKey: string | undefined,
    success: boolean,
    durationMs: number,
  ): void {
    const series = this.#series(direction, destinationKey);
    const second = Math.floor(this.#clock.now() / 1000);
    const slot = second % this.#slots;
    const base = slot * STRIDE;
    const counts = series.counts;
    if (series.slotSecond[slot] !== second) {
      counts.fill(0, base, base + STRIDE);
      series.slotSecond[slot] = second;
    }
    counts[base + REQUESTS]! += 1;
    if (!success) counts[base + FAILURES]! += 1;
    counts[base + BINS + latencyBucketOf(durationMs)]! += 1;
    series.lastSecond = second;
  }

  /**
   * The window's figures per (direction, service) with traffic in it, and the edges of the
   * traffic this proxy originates (every direction but inbound, whose callers it cannot name).
   * Series idle for a whole window are forgotten here, so memory follows live destinations.
   */
  summarize(): WindowSummary {
    const current = Math.floor(this.#clock.now() / 1000);
    const oldest = current - this.#window;
    const destinations: DestinationStats[] = [];
    const edges = new Map<string, { requests: number; failures: number }>();
    for (const [name, direction] of this.#directions) {
      for (const series of direction.byService.values()) {
        if (series.lastSecond < oldest) {
          this.#forget(direction, series);
          continue;
        }
        const stats = this.#stats(series, oldest, current);
        if (!stats) continue;
        destinations.push(stats);
        if (name === 'inbound' || series.service === UNROUTED_SERVICE) continue;
        if (series.service === OVERFLOW_SERVICE) continue;
        const edge = edges.get(series.service) ?? { requests: 0, failures: 0 };
        edge.requests += stats.requests;
        edge.failures += stats.failures;
        edges.set(series.service, edge);
      }
      if (direction.byService.size === 0) this.#directions.delete(name);
    }
    destinations.sort(
      (a, b) => a.direction.localeCompare(b.direction) || a.service.localeCompare(b.service),
    );
    return {
      windowSeconds: this.#window,
      destinations,
      edges: [...edges]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([to, e]) => ({ from: this.#edgeSource, to, ...e })),
    };
  }

  #stats(series: Series, oldest: number, current: number): DestinationStats | undefined {
    const merged = new Float64Array(LATENCY_BUCKET_COUNT);
    let requests = 0;
    let failures = 0;
    for (let slot = 0; slot < this.#slots; slot++) {
      const second = series.slotSecond[slot]!;
      if (second < oldest || second >= current) continue;
      const base = slot * STRIDE;
      requests += series.counts[base + REQUESTS]!;
      failures += series.counts[base + FAILURES]!;
      for (let b = 0; b < LATENCY_BUCKET_COUNT; b++) merged[b]! += series.counts[base + BINS + b]!;
    }
    if (requests === 0) return undefined;
    const latency: number[] = [];
    for (let b = 0; b < LATENCY_BUCKET_COUNT; b++) if (merged[b]! > 0) latency.push(b, merged[b]!);
    return {
      direction: series.direction,
      service: series.service,
      requests,
      failures,
      rps: round4(requests / this.#window),
      successRate: round4((requests - failures) / requests),
      p50Ms: latencyQuantileMs(merged, requests, 0.5),
      p95Ms: latencyQuantileMs(merged, requests, 0.95),
      p99Ms: latencyQuantileMs(merged, requests, 0.99),
      latency,
    };
  }

  #series(direction: string, destinationKey: string | undefined): Series {
    let d = this.#directions.get(direction);
    if (!d) {
      d = { byKey: new Map(), byService: new Map() };
      this.#directions.set(direction, d);
    }
    const key = destinationKey ?? '';
    const cached = d.byKey.get(key);
    if (cached) return cached;
    // Slow path, once per destination key: find or make the service's series.
    let service = serviceOf(destinationKey);
    if (service === undefined)
      service =
        direction === 'inbound' && this.#localService ? this.#localService : UNROUTED_SERVICE;
    let series = d.byService.get(service);
    if (!series) {
      if (d.byService.size >= this.#maxDestinations && service !== UNROUTED_SERVICE)
        service = OVERFLOW_SERVICE;
      series = d.byService.get(service) ?? this.#newSeries(direction, service);
      d.byService.set(service, series);
    }
    // Keys come from the config's routes, so they are bounded by it; the bound here only keeps
    // a pathological config from growing the map without end (such keys take the slow path).
    if (d.byKey.size < this.#maxDestinations * 4) d.byKey.set(key, series);
    return series;
  }

  #newSeries(direction: string, service: string): Series {
    return {
      direction,
      service,
      counts: new Uint32Array(this.#slots * STRIDE),
      slotSecond: new Float64Array(this.#slots).fill(-Infinity),
      lastSecond: -Infinity,
    };
  }

  #forget(direction: Direction, series: Series): void {
    direction.byService.delete(series.service);
    for (const [key, s] of direction.byKey) if (s === series) direction.byKey.delete(key);
  }
}

/** `catalog.shop:8080` → `catalog.shop`; undefined when no destination was chosen. */
function serviceOf(destinationKey: string | undefined): string | undefined {
  if (!destinationKey) return undefined;
  const colon = destinationKey.lastIndexOf(':');
  return colon === -1 ? destinationKey : destinationKey.slice(0, colon);
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
