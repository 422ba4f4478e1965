// The control plane's view of mesh traffic: the latest telemetry summary of every sidecar
// (docs/protocol.md, Telemetry), forgotten when it stops reporting, rolled up per service and
// into the service graph. Every message is decoded strictly; a bad one is counted by reason,
// logged and dropped, never thrown.
//
// Per service, quantiles come from the merged latency histograms of all its reporters, not from
// the largest reported p99: a max is dominated by whichever pod is slowest even if it served
// three requests, while the merged histogram gives the quantile of all requests, within the
// histogram's 1/32 accuracy. Success rates are weighted by requests (pooled), and rates add up.
import {
  DEFAULT_MAX_TELEMETRY_BYTES,
  LATENCY_BUCKET_COUNT,
  ProtocolError,
  decodeTelemetrySummary,
  latencyQuantileMs,
  readProxyMessage,
} from '@trellis/mesh-protocol';
import type { ProtocolErrorCode, TelemetrySummary } from '@trellis/mesh-protocol';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';

/** Three missed summaries at the default 5 s interval. */
export const DEFAULT_TELEMETRY_EXPIRY_MS = 15_000;
export const DEFAULT_MAX_SIDECARS = 10_000;

export interface TelemetryLogger {
  warn(fields: object, message: string): void;
}

export interface TelemetryAggregatorOptions {
  /** Receive times and expiry (default the system clock); sidecar clocks are never trusted. */
  readonly clock?: Clock;
  /** A sidecar silent this long is forgotten (default 15 000 ms). */
  readonly expireAfterMs?: number;
  /** Largest summary accepted (default 1 MiB). */
  readonly maxMessageBytes?: number;
  /** Sidecars kept at most (default 10 000); summaries of further ones are refused. */
  readonly maxSidecars?: number;
  readonly log?: TelemetryLogger;
  /** Told of every refused summary (the control plane counts them as a Prometheus metric). */
  readonly onRejected?: (code: TelemetryRejectCode) => void;
}

/** One (direction, service) over every sidecar that reports it. */
export interface ServiceTelemetry {
  /** `name.namespace`, or `__unrouted__` / `__overflow__` as the sidecars reported it. */
  readonly service: string;
  /** From whose listeners: `inbound` is the service's own view, `outbound`/`gateway` its callers'. */
  readonly direction: string;
  /** Sidecars whose window had traffic for it. */
  readonly reporters: number;
  readonly requests: number;
  readonly failures: number;
  readonly rps: number;
  readonly successRate: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export interface EdgeTelemetry {
  readonly from: string;
  readonly to: string;
  readonly reporters: number;
  readonly requests: number;
  readonly failures: number;
  readonly rps: number;
  readonly successRate: number;
}

export interface TelemetryView {
  /** Sidecars with a live summary. */
  readonly sidecars: number;
  readonly services: readonly ServiceTelemetry[];
  readonly edges: readonly EdgeTelemetry[];
  /** Summaries refused since start, by reason. */
  readonly rejected: Readonly<Record<string, number>>;
}

export type TelemetryRejectCode = ProtocolErrorCode | 'TRL_TELEMETRY_TOO_MANY_SIDECARS';

interface Held {
  readonly summary: TelemetrySummary;
  readonly receivedAt: number;
}

interface ServiceSum {
  reporters: number;
  requests: number;
  failures: number;
  rps: number;
  readonly latency: Float64Array;
}

export class TelemetryAggregator {
  readonly #clock: Clock;
  readonly #expireAfterMs: number;
  readonly #maxBytes: number;
  readonly #maxSidecars: number;
  readonly #log: TelemetryLogger | undefined;
  readonly #onRejected: ((code: TelemetryRejectCode) => void) | undefined;
  readonly #held = new Map<string, Held>();
  readonly #rejected = new Map<TelemetryRejectCode, number>();

  constructor(options: TelemetryAggregatorOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#expireAfterMs = options.expireAfterMs ?? DEFAULT_TELEMETRY_EXPIRY_MS;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_TELEMETRY_BYTES;
    this.#maxSidecars = options.maxSidecars ?? DEFAULT_MAX_SIDECARS;
    this.#log = options.log;
    this.#onRejected = options.onRejected;
    if (!(this.#expireAfterMs > 0))
      throw new RangeError(`expireAfterMs must be positive (got ${this.#expireAfterMs})`);
  }

  /** Takes one message from `trellis.v1.telemetry.<namespace>.<pod>`; false when refused. */
  accept(subject: string, data: Uint8Array): boolean {
    const summary = readProxyMessage('telemetry', subject, data, (bytes) =>
      decodeTelemetrySummary(bytes, this.#maxBytes),
    );
    if (summary instanceof ProtocolError)
      return this.#reject(summary.code, subject, summary.message);
    const now = this.#clock.now();
    this.#expire(now);
    const key = `${summary.proxy.namespace}/${summary.proxy.pod}`;
    if (!this.#held.has(key) && this.#held.size >= this.#maxSidecars)
      return this.#reject(
        'TRL_TELEMETRY_TOO_MANY_SIDECARS',
        subject,
        `already holding ${this.#maxSidecars} sidecars`,
      );
    this.#held.set(key, { summary, receivedAt: now });
    return true;
  }

  /** The latest live summary of one sidecar. */
  latest(namespace: string, pod: string): TelemetrySummary | undefined {
    this.#expire(this.#clock.now());
    return this.#held.get(`${namespace}/${pod}`)?.summary;
  }

  view(): TelemetryView {
    this.#expire(this.#clock.now());
    const services = new Map<string, ServiceSum & { service: string; direction: string }>();
    const edges = new Map<string, Omit<ServiceSum, 'latency'> & { from: string; to: string }>();
    for (const { summary } of this.#held.values()) {
      for (const d of summary.destinations) {
        const key = `${d.direction}\u0000${d.service}`;
        let sum = services.get(key);
        if (!sum) {
          sum = {
            service: d.service,
            direction: d.direction,
            ...zero(),
            latency: new Float64Array(LATENCY_BUCKET_COUNT),
          };
          services.set(key, sum);
        }
        add(sum, d.requests, d.failures, d.requests / summary.windowSeconds);
        for (let i = 0; i < d.latency.length; i += 2)
          sum.latency[d.latency[i]!]! += d.latency[i + 1]!;
      }
      for (const e of summary.edges) {
        const key = `${e.from}\u0000${e.to}`;
        let sum = edges.get(key);
        if (!sum) {
          sum = { from: e.from, to: e.to, ...zero() };
          edges.set(key, sum);
        }
        add(sum, e.requests, e.failures, e.requests / summary.windowSeconds);
      }
    }
    return {
      sidecars: this.#held.size,
      services: [...services.values()]
        .sort(
          (a, b) => a.service.localeCompare(b.service) || a.direction.localeCompare(b.direction),
        )
        .map(({ service, direction, reporters, requests, failures, rps, latency }) => ({
          service,
          direction,
          reporters,
          requests,
          failures,
          rps: round4(rps),
          successRate: rate(requests, failures),
          p50Ms: latencyQuantileMs(latency, requests, 0.5),
          p95Ms: latencyQuantileMs(latency, requests, 0.95),
          p99Ms: latencyQuantileMs(latency, requests, 0.99),
        })),
      edges: [...edges.values()]
        .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
        .map(({ from, to, reporters, requests, failures, rps }) => ({
          from,
          to,
          reporters,
          requests,
          failures,
          rps: round4(rps),
          successRate: rate(requests, failures),
        })),
      rejected: Object.fromEntries(this.#rejected),
    };
  }

  #reject(code: TelemetryRejectCode, subject: string, reason: string): false {
    this.#rejected.set(code, (this.#rejected.get(code) ?? 0) + 1);
    this.#log?.warn({ code, subject, reason }, 'telemetry summary rejected');
    this.#onRejected?.(code);
    return false;
  }

  #expire(now: number): void {
    for (const [key, held] of this.#held)
      if (now - held.receivedAt >= this.#expireAfterMs) this.#held.delete(key);
  }
}

function zero() {
  return { reporters: 0, requests: 0, failures: 0, rps: 0 };
}

function add(
  sum: { reporters: number; requests: number; failures: number; rps: number },
  requests: number,
  failures: number,
  rps: number,
): void {
  sum.reporters += 1;
  sum.requests += requests;
  sum.failures += failures;
  sum.rps += rps;
}

function rate(requests: number, failures: number): number {
  return requests === 0 ? 1 : round4((requests - failures) / requests);
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
