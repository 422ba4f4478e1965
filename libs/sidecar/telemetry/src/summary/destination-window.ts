// Sliding window of completed requests per (direction, destination service), on the request
// path: each observation is a few typed-array increments in memory allocated once per series,
// so the proxy pays O(1) and allocates nothing per request. Time is cut into 1 s buckets of the
// injected clock; a summary covers the `windowSeconds` most recent complete seconds (the one in
// progress is left out, so every second in the window counts whole and rps = requests / window).
// Summaries go through the window's plain-data contents (window-contents.ts), which the primary
// of a --concurrency sidecar also merges over its workers.
import { LATENCY_BUCKET_COUNT, latencyBucketOf } from '@trellis/mesh-protocol';
import type { TelemetrySource } from '@trellis/mesh-protocol';
import type { CompletedRequest } from '@trellis/sidecar-proxy';
import type { Clock } from '@trellis/time';
import { isSuccessful } from './success-class.js';
import {
  DEFAULT_MAX_DESTINATIONS,
  DEFAULT_WINDOW_SECONDS,
  OVERFLOW_SERVICE,
  UNROUTED_SERVICE,
  bySeries,
  checkWindowBounds,
  mergeWindowContents,
  summarizeWindowContents,
} from './window-contents.js';
import type {
  SecondCounts,
  SeriesContents,
  WindowContents,
  WindowSummary,
} from './window-contents.js';

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
  readonly #identity: TelemetrySource;
  readonly #localService: string;
  readonly #window: number;
  readonly #slots: number;
  readonly #maxDestinations: number;
  readonly #directions = new Map<string, Direction>();

  constructor(options: DestinationWindowsOptions) {
    const window = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    const max = options.maxDestinations ?? DEFAULT_MAX_DESTINATIONS;
    checkWindowBounds(window, max);
    this.#clock = options.clock;
    this.#identity = options.identity;
    const { namespace, service } = options.identity;
    this.#localService = service ? `${service}.${namespace}` : '';
    this.#window = window;
    this.#slots = window + 1;
    this.#maxDestinations = max;
  }

  /**
   * The summary of several processes' windows taken together (the workers of a --concurrency
   * sidecar): their contents summed per (direction, service, second) by mergeWindowContents,
   * capped at `maxDestinations` named services per direction, and summarized as one window.
   */
  static summarizeMerged(
    parts: readonly WindowContents[],
    options: Omit<DestinationWindowsOptions, 'clock'>,
  ): WindowSummary {
    const merged = mergeWindowContents(parts, {
      windowSeconds: options.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
      maxDestinations: options.maxDestinations,
    });
    return summarizeWindowContents(merged, options.identity);
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
   * traffic this proxy originates (summarizeWindowContents). Series idle for a whole window are
   * forgotten here, so memory follows live destinations.
   */
  summarize(): WindowSummary {
    return summarizeWindowContents(this.contents(), this.#identity);
  }

  /**
   * The complete seconds of the window as plain data (what a --concurrency worker hands its
   * primary to merge), sorted by direction and service. Forgets idle series as summarize() does.
   */
  contents(): WindowContents {
    const current = Math.floor(this.#clock.now() / 1000);
    const oldest = current - this.#window;
    const series: SeriesContents[] = [];
    for (const [name, direction] of this.#directions) {
      for (const s of direction.byService.values()) {
        if (s.lastSecond < oldest) {
          this.#forget(direction, s);
          continue;
        }
        const seconds = this.#seconds(s, oldest, current);
        if (seconds.length > 0)
          series.push({ direction: s.direction, service: s.service, seconds });
      }
      if (direction.byService.size === 0) this.#directions.delete(name);
    }
    return { windowSeconds: this.#window, series: series.sort(bySeries) };
  }

  /** A series' complete seconds in [oldest, current), youngest first. */
  #seconds(series: Series, oldest: number, current: number): SecondCounts[] {
    const seconds: SecondCounts[] = [];
    for (let slot = 0; slot < this.#slots; slot++) {
      const second = series.slotSecond[slot]!;
      if (second < oldest || second >= current) continue;
      const base = slot * STRIDE;
      const latency: number[] = [];
      for (let b = 0; b < LATENCY_BUCKET_COUNT; b++) {
        const count = series.counts[base + BINS + b]!;
        if (count > 0) latency.push(b, count);
      }
      seconds.push({
        age: current - second,
        requests: series.counts[base + REQUESTS]!,
        failures: series.counts[base + FAILURES]!,
        latency,
      });
    }
    return seconds.sort((a, b) => a.age - b.age);
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
