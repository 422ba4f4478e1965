// Prometheus metrics of one sidecar, on its own prom-client Registry: request counters and
// latency recorded per finished request, and gauges read from the runtime at scrape time so
// the request path never updates them.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Cluster, CompletedRequest, ProxyRuntime } from '@trellis/sidecar-proxy';
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

/** A recorded metric whose label sets are capped. */
interface Capped {
  readonly spec: MetricSpec;
  readonly cap: LabelSetCap;
}

const LABEL_KEY_SEPARATOR = '\u0001';

export class SidecarMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #retries: Counter;
  readonly #localResponses: Counter;
  readonly #rateLimited: Counter;
  readonly #overloaded: Counter;
  readonly #faults: Counter;
  readonly #bytesSent: Counter;
  readonly #clientAborts: Counter;
  readonly #overflow: Counter;
  readonly #caps = new Map<string, Capped>();
  #runtime: () => ProxyRuntime | undefined = () => undefined;

  constructor(options: SidecarMetricsOptions = {}) {
    const max = options.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS;
    const m = SIDECAR_METRICS;
    const registers = [this.registry];
    const counter = (spec: MetricSpec): Counter => {
      this.#caps.set(spec.name, { spec, cap: new LabelSetCap(max) });
      return new Counter({ name: spec.name, help: spec.help, labelNames: spec.labels, registers });
    };
    this.#requests = counter(m.requests);
    this.#caps.set(m.requestDuration.name, { spec: m.requestDuration, cap: new LabelSetCap(max) });
    this.#duration = new Histogram({
      name: m.requestDuration.name,
      help: m.requestDuration.help,
      labelNames: m.requestDuration.labels,
      buckets: [...DURATION_BUCKETS_SECONDS],
      registers,
    });
    this.#retries = counter(m.retries);
    this.#localResponses = counter(m.localResponses);
    this.#rateLimited = counter(m.rateLimited);
    this.#overloaded = counter(m.overloaded);
    this.#faults = counter(m.faultsInjected);
    this.#bytesSent = counter(m.bytesSent);
    this.#clientAborts = counter(m.clientAborts);
    // Its only label is a metric name from the table, so it needs no cap of its own.
    this.#overflow = new Counter({
      name: m.labelOverflow.name,
      help: m.labelOverflow.help,
      labelNames: m.labelOverflow.labels,
      registers,
    });
    this.#registerRuntimeGauges();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of every metric, for the `/metrics` admin view. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts one finished request; `direction` is the listener name (outbound, inbound, gateway). */
  record(completed: CompletedRequest, direction: string): void {
    const { record } = completed.request;
    const route = record.route ?? '';
    const destination = record.destination ?? '';
    const m = SIDECAR_METRICS;
    this.#requests.inc(
      this.#bounded(m.requests, {
        direction,
        route,
        destination,
        code_class: codeClass(completed.status),
        grpc_status: completed.grpcStatus ?? '',
      }),
    );
    this.#duration.observe(
      this.#bounded(m.requestDuration, { direction, route, destination }),
      completed.durationMs / 1000,
    );
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
    if (completed.bytesOut > 0) this.#bytesSent.inc({ direction }, completed.bytesOut);
    if (completed.outcome === 'client-gone') this.#clientAborts.inc({ direction });
  }

  /** Sets where the scrape-time gauges read the runtime in force (the config holder's). */
  observeRuntime(getRuntime: () => ProxyRuntime | undefined): void {
    this.#runtime = getRuntime;
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

  #registerRuntimeGauges(): void {
    const m = SIDECAR_METRICS;
    const registers = [this.registry];
    const perCluster = (spec: MetricSpec, read: (c: Cluster) => number): void => {
      const gauge: Gauge = new Gauge({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labels,
        registers,
        collect: () => {
          // Reset first: destinations removed by a config change must leave the scrape.
          gauge.reset();
          const runtime = this.#runtime();
          if (!runtime) return;
          for (const cluster of runtime.clusters())
            gauge.set({ destination: cluster.ref.key }, read(cluster));
        },
      });
    };
    perCluster(m.endpointEjected, (c) => c.endpoints.snapshot().ejected);
    perCluster(m.activeRequests, (c) => c.breaker.active('active-requests'));
    const version: Gauge = new Gauge({
      name: m.configVersion.name,
      help: m.configVersion.help,
      labelNames: m.configVersion.labels,
      registers,
      collect: () => version.set(this.#runtime()?.snapshot.version ?? 0),
    });
    const info: Gauge = new Gauge({
      name: m.configInfo.name,
      help: m.configInfo.help,
      labelNames: m.configInfo.labels,
      registers,
      collect: () => {
        info.reset();
        const runtime = this.#runtime();
        if (runtime) info.set({ hash: runtime.snapshot.hash }, 1);
      },
    });
  }
}

function codeClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
