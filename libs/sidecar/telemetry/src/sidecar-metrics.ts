// Prometheus metrics of one sidecar, on its own prom-client Registry: request counters and
// latency recorded per finished request, and gauges read from the runtime at scrape time so
// the request path never updates them. The per-request series (requests, duration, bytes) are
// plain counters in a RequestSeries found by one map lookup and handed to prom-client at
// scrape time: prom-client hashes a label object on every inc/observe, which cost more than
// the rest of the request's bookkeeping together.
import { Counter, Gauge, Registry } from 'prom-client';
import type {
  Cluster,
  CompletedRequest,
  ListenerStats,
  ProxyRuntime,
} from '@trellis/sidecar-proxy';
import { LabelSetCap } from './label-cap.js';
import {
  DEFAULT_MAX_LABEL_SETS,
  DURATION_BUCKETS_SECONDS,
  OVERFLOW_LABEL,
  SIDECAR_METRICS,
} from './metric-table.js';
import type { MetricSpec } from './metric-table.js';

export interface SidecarMetricsOptions {
  /** Distinct label sets per metric before route/destination fold into `__overflow__`. */
  readonly maxLabelSets?: number;
}

type Labels = Record<string, string>;

/** The requests of one (direction, route, destination): outcomes and latency. */
interface RequestSeries {
  readonly direction: string;
  readonly route: string;
  readonly destination: string;
  /** Request count per `code_class` + SEP + `grpc_status`. */
  readonly outcomes: Map<string, number>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

const BUCKETS = DURATION_BUCKETS_SECONDS;

/** Index of the first bucket whose upper bound holds `seconds` (BUCKETS.length: +Inf). */
function bucketIndex(seconds: number): number {
  let low = 0;
  let high = BUCKETS.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (seconds <= (BUCKETS[mid] as number)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** grpc-status values as received; anything but a status code folds, so labels stay bounded. */
function grpcStatusLabel(value: string | undefined): string {
  if (value === undefined) return '';
  return /^(?:[0-9]|1[0-6])$/.test(value) ? value : 'other';
}

/** A recorded metric whose label sets are capped. */
interface Capped {
  readonly spec: MetricSpec;
  readonly cap: LabelSetCap;
}

const LABEL_KEY_SEPARATOR = '\u0001';
const SEP = LABEL_KEY_SEPARATOR;

/** The Telemetry resource's `spec.metrics`. */
export interface MetricsSettings {
  readonly enabled: boolean;
}

export class SidecarMetrics {
  readonly registry = new Registry();
  /** Every request series, in creation order (the scrape walks it; the cap counts it). */
  readonly #series: RequestSeries[] = [];
  /**
   * direction → route → destination → series. Keyed by the config's own label strings, so a
   * known series costs no key to build and hash on the request path.
   */
  readonly #index = new Map<string, Map<string, Map<string, RequestSeries>>>();
  readonly #maxSeries: number;
  readonly #bytesSentByDirection = new Map<string, number>();
  readonly #bytesReceivedByDirection = new Map<string, number>();
  readonly #retries: Counter;
  readonly #localResponses: Counter;
  readonly #rateLimited: Counter;
  readonly #overloaded: Counter;
  readonly #faults: Counter;
  readonly #clientAborts: Counter;
  readonly #overflow: Counter;
  readonly #caps = new Map<string, Capped>();
  #runtime: () => ProxyRuntime | undefined = () => undefined;
  #accessLogDropped: () => number = () => 0;
  #listeners: () => Readonly<Record<string, ListenerStats>> = () => ({});
  #enabled = true;

  constructor(options: SidecarMetricsOptions = {}) {
    const max = options.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS;
    const m = SIDECAR_METRICS;
    const registers = [this.registry];
    const counter = (spec: MetricSpec): Counter => {
      this.#caps.set(spec.name, { spec, cap: new LabelSetCap(max) });
      return new Counter({ name: spec.name, help: spec.help, labelNames: spec.labels, registers });
    };
    this.#maxSeries = max;
    this.#registerRequestSeries();
    this.#retries = counter(m.retries);
    this.#localResponses = counter(m.localResponses);
    this.#rateLimited = counter(m.rateLimited);
    this.#overloaded = counter(m.overloaded);
    this.#faults = counter(m.faultsInjected);
    this.#registerScraped(m.bytesSent, () => perDirection(this.#bytesSentByDirection));
    this.#registerScraped(m.bytesReceived, () => perDirection(this.#bytesReceivedByDirection));
    this.#clientAborts = counter(m.clientAborts);
    // Its only label is a metric name from the table, so it needs no cap of its own.
    this.#overflow = new Counter({
      name: m.labelOverflow.name,
      help: m.labelOverflow.help,
      labelNames: m.labelOverflow.labels,
      registers,
    });
    this.#registerScraped(m.accessLogDropped, () => [[{}, this.#accessLogDropped()]]);
    // Read from the runtime in force and the listeners; the request path never updates them.
    this.#registerScraped(m.endpointEjected, () =>
      this.#perDestination((c) => c.endpoints.snapshot().ejected),
    );
    this.#registerScraped(m.activeRequests, () =>
      this.#perDestination((c) => c.breaker.active('active-requests')),
    );
    // Lifetime totals the runtime keeps (carried across config swaps that keep the cluster's
    // settings).
    this.#registerScraped(m.endpointEjections, () =>
      this.#perDestination((c) =>
        c.endpoints.snapshot().endpoints.reduce((sum, e) => sum + e.totalEjections, 0),
      ),
    );
    this.#registerScraped(m.breakerOpens, () =>
      this.#perDestination((c) => c.failureAccrual?.opened),
    );
    this.#registerScraped(m.downstreamConnections, () =>
      Object.entries(this.#listeners()).map(([direction, l]) => [{ direction }, l.connections]),
    );
    this.#registerScraped(m.downstreamStreams, () =>
      Object.entries(this.#listeners()).map(([direction, l]) => [{ direction }, l.streams]),
    );
    this.#registerScraped(m.configVersion, () => [[{}, this.#runtime()?.snapshot.version ?? 0]]);
    this.#registerScraped(m.configInfo, () => {
      const runtime = this.#runtime();
      return runtime ? [[{ hash: runtime.snapshot.hash }, 1]] : [];
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of every metric, for the `/metrics` admin view. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Applies the Telemetry resource's `spec.metrics` (undefined: the defaults, on). Turned off,
   * requests are no longer counted; series already counted stay in the exposition (Prometheus
   * counters never go back), as do the runtime gauges.
   */
  configure(settings: MetricsSettings | undefined): void {
    this.#enabled = settings?.enabled ?? true;
  }

  /** Counts one finished request; `direction` is the listener name (outbound, inbound, gateway). */
  record(completed: CompletedRequest, direction: string): void {
    if (!this.#enabled) return;
    const { record } = completed.request;
    const route = record.route ?? '';
    const destination = record.destination ?? '';
    const m = SIDECAR_METRICS;
    const series = this.#seriesFor(direction, route, destination);
    const grpcStatus = completed.grpcStatus;
    const outcome =
      grpcStatus === undefined
        ? HTTP_OUTCOMES[codeClassIndex(completed.status)]!
        : codeClass(completed.status) + SEP + grpcStatusLabel(grpcStatus);
    series.outcomes.set(outcome, (series.outcomes.get(outcome) ?? 0) + 1);
    const seconds = completed.durationMs / 1000;
    (series.buckets[bucketIndex(seconds)] as number)++;
    series.sum += seconds;
    series.count++;
    for (const reason of record.retryReasons)
      this.#retries.inc(this.#bounded(m.retries, { destination, reason }));
    const error = record.error;
    if (error !== undefined) {
      this.#localResponses.inc({ direction, error });
      if (error === 'rate-limited') this.#rateLimited.inc(this.#bounded(m.rateLimited, { route }));
      if (error === 'overloaded')
        this.#overloaded.inc(this.#bounded(m.overloaded, { destination }));
    }
    if (record.faultInjected) this.#faults.inc(this.#bounded(m.faultsInjected, { route }));
    if (completed.bytesOut > 0) addTo(this.#bytesSentByDirection, direction, completed.bytesOut);
    if (completed.bytesIn > 0) addTo(this.#bytesReceivedByDirection, direction, completed.bytesIn);
    if (completed.outcome === 'client-gone') this.#clientAborts.inc({ direction });
  }

  /** Sets where the scrape-time gauges read the runtime in force (the config holder's). */
  observeRuntime(getRuntime: () => ProxyRuntime | undefined): void {
    this.#runtime = getRuntime;
  }

  /** Sets where the scrape reads each listener's open connections and streams. */
  observeListeners(getListeners: () => Readonly<Record<string, ListenerStats>>): void {
    this.#listeners = getListeners;
  }

  /** Sets where the scrape reads the access log's dropped lines (AccessLog.droppedLines). */
  observeAccessLogDrops(getDroppedLines: () => number): void {
    this.#accessLogDropped = getDroppedLines;
  }

  /** The series of these labels; past the cap, the direction's overflow series. */
  #seriesFor(direction: string, route: string, destination: string): RequestSeries {
    const known = this.#index.get(direction)?.get(route)?.get(destination);
    if (known) return known;
    if (this.#series.length >= this.#maxSeries) {
      // Labels past the cap are never indexed, so each request folded is counted as such.
      const m = SIDECAR_METRICS;
      this.#overflow.inc({ metric: m.requests.name });
      this.#overflow.inc({ metric: m.requestDuration.name });
      return (
        this.#index.get(direction)?.get(OVERFLOW_LABEL)?.get(OVERFLOW_LABEL) ??
        this.#addSeries(direction, OVERFLOW_LABEL, OVERFLOW_LABEL)
      );
    }
    return this.#addSeries(direction, route, destination);
  }

  #addSeries(direction: string, route: string, destination: string): RequestSeries {
    const series: RequestSeries = {
      direction,
      route,
      destination,
      outcomes: new Map(),
      buckets: new Float64Array(BUCKETS.length + 1),
      sum: 0,
      count: 0,
    };
    this.#series.push(series);
    let byRoute = this.#index.get(direction);
    if (!byRoute) this.#index.set(direction, (byRoute = new Map()));
    let byDestination = byRoute.get(route);
    if (!byDestination) byRoute.set(route, (byDestination = new Map()));
    byDestination.set(destination, series);
    return series;
  }

  /** Requests and their duration histogram, filled from the series at scrape time. */
  #registerRequestSeries(): void {
    const m = SIDECAR_METRICS;
    const registers = [this.registry];
    const series = this.#series;
    const requests: Counter = new Counter({
      name: m.requests.name,
      help: m.requests.help,
      labelNames: m.requests.labels,
      registers,
      collect: () => {
        requests.reset();
        for (const s of series) {
          for (const [outcome, count] of s.outcomes) {
            const [codeClassValue = '', grpcStatus = ''] = outcome.split(SEP);
            requests.inc(
              {
                direction: s.direction,
                route: s.route,
                destination: s.destination,
                code_class: codeClassValue,
                grpc_status: grpcStatus,
              },
              count,
            );
          }
        }
      },
    });
    const duration = m.requestDuration;
    this.registry.registerMetric({
      name: duration.name,
      help: duration.help,
      type: 'histogram',
      aggregator: 'sum',
      get: () => {
        const values: { labels: Labels; value: number; metricName: string }[] = [];
        for (const s of series) {
          const labels = { direction: s.direction, route: s.route, destination: s.destination };
          let cumulative = 0;
          for (let i = 0; i <= BUCKETS.length; i++) {
            cumulative += s.buckets[i] as number;
            const le = i < BUCKETS.length ? String(BUCKETS[i]) : '+Inf';
            values.push({
              labels: { ...labels, le },
              value: cumulative,
              metricName: `${duration.name}_bucket`,
            });
          }
          values.push({ labels, value: s.sum, metricName: `${duration.name}_sum` });
          values.push({ labels, value: s.count, metricName: `${duration.name}_count` });
        }
        return Promise.resolve({
          name: duration.name,
          help: duration.help,
          type: 'histogram',
          aggregator: 'sum',
          values,
        });
      },
      // prom-client reads only name, help, type, aggregator and get() of a registered metric.
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** `labels` as given while the metric has room, else with route/destination folded. */
  #bounded(spec: MetricSpec, labels: Labels): Labels {
    const capped = this.#caps.get(spec.name)!;
    let key = '';
    for (const name of spec.labels) key += (labels[name] ?? '') + LABEL_KEY_SEPARATOR;
    if (capped.cap.admit(key)) return labels;
    this.#overflow.inc({ metric: spec.name });
    const folded = { ...labels };
    if ('route' in folded) folded['route'] = OVERFLOW_LABEL;
    if ('destination' in folded) folded['destination'] = OVERFLOW_LABEL;
    return folded;
  }

  /**
   * Registers a metric whose series are read at scrape time: `read` gives each label set with
   * its value (a gauge's level, a counter's lifetime total). The metric is reset first, so series
   * that went away (a destination removed by a config change) leave the scrape.
   */
  #registerScraped(spec: MetricSpec, read: () => Iterable<ScrapedSample>): void {
    const config = { name: spec.name, help: spec.help, labelNames: spec.labels };
    const registers = [this.registry];
    if (spec.type === 'counter') {
      const counter: Counter = new Counter({
        ...config,
        registers,
        collect: () => {
          counter.reset();
          for (const [labels, value] of read()) counter.inc(labels, value);
        },
      });
    } else {
      const gauge: Gauge = new Gauge({
        ...config,
        registers,
        collect: () => {
          gauge.reset();
          for (const [labels, value] of read()) gauge.set(labels, value);
        },
      });
    }
  }

  /** Each destination of the runtime in force with `value(cluster)`, where it has one. */
  *#perDestination(value: (c: Cluster) => number | undefined): Iterable<ScrapedSample> {
    const runtime = this.#runtime();
    if (!runtime) return;
    for (const cluster of runtime.clusters()) {
      const v = value(cluster);
      if (v !== undefined) yield [{ destination: cluster.ref.key }, v];
    }
  }
}

/** One series of a scrape-time metric: its labels and value. */
type ScrapedSample = readonly [Labels, number];

function* perDirection(totals: ReadonlyMap<string, number>): Iterable<ScrapedSample> {
  for (const [direction, total] of totals) yield [{ direction }, total];
}

function addTo(totals: Map<string, number>, key: string, amount: number): void {
  totals.set(key, (totals.get(key) ?? 0) + amount);
}

const CODE_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** The outcome keys of answers without grpc-status, made once. */
const HTTP_OUTCOMES: readonly string[] = CODE_CLASSES.map((codeClass) => codeClass + SEP);

function codeClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}

function codeClass(status: number): string {
  return CODE_CLASSES[codeClassIndex(status)]!;
}
