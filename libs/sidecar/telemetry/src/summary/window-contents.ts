// Destination windows as plain data, and the pure functions over it: merging the windows of
// several processes (the workers of a --concurrency sidecar) into one, and turning a window into
// the summary's figures. A single process summarizes its own window through the same function,
// so a merged summary has the single-process format by construction. Seconds are named by their
// age (1 = the last complete second of the process that kept them), because each process cuts
// seconds on its own monotonic clock: the workers' seconds line up to within a second, which is
// all a summary over the whole window needs.
import { LATENCY_BUCKET_COUNT, latencyQuantileMs } from '@trellis/mesh-protocol';
import type { DestinationStats, TelemetryEdge, TelemetrySource } from '@trellis/mesh-protocol';

/** Requests for which no route chose a destination (and inbound ones of a sidecar without a service). */
export const UNROUTED_SERVICE = '__unrouted__';
/** Destinations beyond `maxDestinations` of one direction, counted together. */
export const OVERFLOW_SERVICE = '__overflow__';
export const DEFAULT_WINDOW_SECONDS = 10;
export const DEFAULT_MAX_DESTINATIONS = 128;

/** One complete second of one series. */
export interface SecondCounts {
  /** Seconds before the second in progress: 1 is the last complete one, windowSeconds the oldest. */
  readonly age: number;
  readonly requests: number;
  readonly failures: number;
  /** Sparse latency histogram `[bucket, count, …]`, buckets ascending, counts adding up to requests. */
  readonly latency: readonly number[];
}

/** One (direction, destination service): its seconds with traffic, youngest first. */
export interface SeriesContents {
  readonly direction: string;
  readonly service: string;
  readonly seconds: readonly SecondCounts[];
}

/** A window's complete seconds: one entry per (direction, service), sorted by both. */
export interface WindowContents {
  readonly windowSeconds: number;
  readonly series: readonly SeriesContents[];
}

/** What a summary reports of a window (the rest of the message is the sender's identity). */
export interface WindowSummary {
  readonly windowSeconds: number;
  readonly destinations: DestinationStats[];
  readonly edges: TelemetryEdge[];
}

export interface MergeWindowsOptions {
  /** The merged window (whole seconds); older seconds of the parts are left out. */
  readonly windowSeconds: number;
  /** Named services per direction before the rest fold into `__overflow__` (default 128). */
  readonly maxDestinations?: number;
}

/** Throws a RangeError unless the window and the cap are whole numbers ≥ 1. */
export function checkWindowBounds(windowSeconds: number, maxDestinations: number): void {
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1)
    throw new RangeError(`windowSeconds must be a whole number ≥ 1 (got ${windowSeconds})`);
  if (!Number.isInteger(maxDestinations) || maxDestinations < 1)
    throw new RangeError(`maxDestinations must be a whole number ≥ 1 (got ${maxDestinations})`);
}

interface SecondSum {
  requests: number;
  failures: number;
  readonly latency: Map<number, number>;
}

/** Per service: age → its sums. */
type ServiceSeconds = Map<string, Map<number, SecondSum>>;

/**
 * Sums windows per (direction, service, age): requests, failures and latency bucket counts, so
 * the merge of several processes' windows equals one window that saw all their requests.
 * `__unrouted__` and `__overflow__` add up like any service. Each process caps its own services;
 * when together they name more than `maxDestinations` in one direction, the ones with the most
 * requests in the window stay (ties by name) and the rest join `__overflow__`, so the summary
 * keeps the single-process bound and meaning.
 */
export function mergeWindowContents(
  parts: readonly WindowContents[],
  options: MergeWindowsOptions,
): WindowContents {
  const window = options.windowSeconds;
  const max = options.maxDestinations ?? DEFAULT_MAX_DESTINATIONS;
  checkWindowBounds(window, max);
  const directions = new Map<string, ServiceSeconds>();
  for (const part of parts)
    for (const series of part.series) {
      let services = directions.get(series.direction);
      if (!services) directions.set(series.direction, (services = new Map()));
      for (const second of series.seconds) {
        if (second.age < 1 || second.age > window || second.requests === 0) continue;
        const sum = sumAt(secondsOf(services, series.service), second.age);
        sum.requests += second.requests;
        sum.failures += second.failures;
        const pairs = second.latency;
        for (let i = 0; i + 1 < pairs.length; i += 2)
          addCount(sum.latency, pairs[i]!, pairs[i + 1]!);
      }
    }
  const series: SeriesContents[] = [];
  for (const [direction, services] of directions) {
    foldBeyondCap(services, max);
    for (const [service, seconds] of services) {
      const listed = [...seconds]
        .sort(([a], [b]) => a - b)
        .map(([age, sum]) => ({
          age,
          requests: sum.requests,
          failures: sum.failures,
          latency: [...sum.latency].sort(([a], [b]) => a - b).flat(),
        }));
      series.push({ direction, service, seconds: listed });
    }
  }
  return { windowSeconds: window, series: series.sort(bySeries) };
}

/**
 * The figures of a window per (direction, service) with traffic in it, and the edges of the
 * traffic the proxy originates (every direction but inbound, whose callers it cannot name):
 * quantiles come from the window's summed latency buckets, never from averaged quantiles.
 */
export function summarizeWindowContents(
  contents: WindowContents,
  identity: TelemetrySource,
): WindowSummary {
  const window = contents.windowSeconds;
  const bins = new Float64Array(LATENCY_BUCKET_COUNT);
  const destinations: DestinationStats[] = [];
  const edges = new Map<string, { requests: number; failures: number }>();
  for (const series of contents.series) {
    const stats = seriesStats(series, window, bins);
    if (!stats) continue;
    destinations.push(stats);
    if (series.direction === 'inbound' || series.service === UNROUTED_SERVICE) continue;
    if (series.service === OVERFLOW_SERVICE) continue;
    const edge = edges.get(series.service) ?? { requests: 0, failures: 0 };
    edge.requests += stats.requests;
    edge.failures += stats.failures;
    edges.set(series.service, edge);
  }
  destinations.sort(bySeries);
  const from = identity.service
    ? `${identity.service}.${identity.namespace}`
    : `${identity.pod}.${identity.namespace}`;
  return {
    windowSeconds: window,
    destinations,
    edges: [...edges].sort(([a], [b]) => a.localeCompare(b)).map(([to, e]) => ({ from, to, ...e })),
  };
}

/** Order of series and destinations: by direction, then service. */
export function bySeries(
  a: { readonly direction: string; readonly service: string },
  b: { readonly direction: string; readonly service: string },
): number {
  return a.direction.localeCompare(b.direction) || a.service.localeCompare(b.service);
}

function secondsOf(services: ServiceSeconds, service: string): Map<number, SecondSum> {
  let seconds = services.get(service);
  if (!seconds) services.set(service, (seconds = new Map()));
  return seconds;
}

function sumAt(seconds: Map<number, SecondSum>, age: number): SecondSum {
  let sum = seconds.get(age);
  if (!sum) seconds.set(age, (sum = { requests: 0, failures: 0, latency: new Map() }));
  return sum;
}

function addCount(latency: Map<number, number>, bucket: number, count: number): void {
  latency.set(bucket, (latency.get(bucket) ?? 0) + count);
}

function foldBeyondCap(services: ServiceSeconds, max: number): void {
  const named = [...services]
    .filter(([service]) => service !== UNROUTED_SERVICE && service !== OVERFLOW_SERVICE)
    .map(([service, seconds]) => ({ service, seconds, requests: total(seconds) }));
  if (named.length <= max) return;
  named.sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service));
  const overflow = secondsOf(services, OVERFLOW_SERVICE);
  for (const { service, seconds } of named.slice(max)) {
    for (const [age, sum] of seconds) {
      const into = sumAt(overflow, age);
      into.requests += sum.requests;
      into.failures += sum.failures;
      for (const [bucket, count] of sum.latency) addCount(into.latency, bucket, count);
    }
    services.delete(service);
  }
}

function total(seconds: Map<number, SecondSum>): number {
  let requests = 0;
  for (const sum of seconds.values()) requests += sum.requests;
  return requests;
}

/** A series' figures over the window; `bins` is scratch space, reused across series. */
function seriesStats(
  series: SeriesContents,
  window: number,
  bins: Float64Array,
): DestinationStats | undefined {
  bins.fill(0);
  let requests = 0;
  let failures = 0;
  for (const second of series.seconds) {
    if (second.age < 1 || second.age > window) continue;
    requests += second.requests;
    failures += second.failures;
    const pairs = second.latency;
    for (let i = 0; i + 1 < pairs.length; i += 2) bins[pairs[i]!]! += pairs[i + 1]!;
  }
  if (requests === 0) return undefined;
  const latency: number[] = [];
  for (let b = 0; b < LATENCY_BUCKET_COUNT; b++) if (bins[b]! > 0) latency.push(b, bins[b]!);
  return {
    direction: series.direction,
    service: series.service,
    requests,
    failures,
    rps: round4(requests / window),
    successRate: round4((requests - failures) / requests),
    p50Ms: latencyQuantileMs(bins, requests, 0.5),
    p95Ms: latencyQuantileMs(bins, requests, 0.95),
    p99Ms: latencyQuantileMs(bins, requests, 0.99),
    latency,
  };
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
