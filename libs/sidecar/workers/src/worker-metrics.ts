// /metrics with --concurrency N: the workers' prom-client registries (their JSON form, gathered
// over IPC) aggregated into one exposition, plus the primary's own worker gauges. Counters and
// histograms sum; gauges that describe config or per-worker state say how they combine below.
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type {
  Aggregator,
  MetricObjectWithValues,
  MetricValue,
  PrometheusContentType,
} from 'prom-client';
import type { WorkerState, WorkerStatus } from './worker-fleet.js';

/**
 * How a gauge combines across workers when summing would mislead. The version in force is the
 * lowest any worker runs (a lagging worker shows); the config hash is 1 per hash some worker
 * runs; endpoints ejected is the most any worker ejected (each worker detects outliers alone).
 * Active requests and every counter sum.
 */
export const WORKER_METRIC_AGGREGATORS: Readonly<Record<string, Aggregator>> = Object.freeze({
  trellis_config_version: 'min',
  trellis_config_info: 'max',
  trellis_endpoint_ejected: 'max',
});

type WorkerMetric = MetricObjectWithValues<MetricValue<string>>;

/** A worker's `registry.getMetricsAsJSON()` after IPC, or undefined when it is not that shape. */
export function workerMetricList(value: unknown): WorkerMetric[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const wellFormed = value.every(
    (m: unknown) =>
      typeof m === 'object' &&
      m !== null &&
      typeof (m as { name?: unknown }).name === 'string' &&
      Array.isArray((m as { values?: unknown }).values),
  );
  return wellFormed ? (value as WorkerMetric[]) : undefined;
}

/** One exposition of every worker's metrics (and `extra`, the primary's own registry). */
export async function aggregateWorkerMetrics(
  perWorker: readonly WorkerMetric[][],
  extra?: Registry,
): Promise<string> {
  const withAggregators = perWorker.map((metrics) =>
    metrics.map((metric) => {
      const aggregator = WORKER_METRIC_AGGREGATORS[metric.name];
      return aggregator ? { ...metric, aggregator } : metric;
    }),
  );
  // The Prometheus text format is aggregate()'s default content type.
  const aggregated = AggregatorRegistry.aggregate<PrometheusContentType>(withAggregators);
  return (extra ? Registry.merge([aggregated, extra]) : aggregated).metrics();
}

const STATES: readonly WorkerState[] = ['starting', 'running', 'restarting', 'stopped'];

/** The primary's own metrics: workers by state and restarts, read from the fleet at scrape time. */
export function fleetRegistry(status: () => readonly WorkerStatus[]): Registry {
  const registry = new Registry();
  const registers = [registry];
  const workers: Gauge = new Gauge({
    name: 'trellis_workers',
    help: 'Sidecar worker processes (--concurrency) by state.',
    labelNames: ['state'],
    registers,
    collect: () => {
      const now = status();
      for (const state of STATES)
        workers.set({ state }, now.filter((w) => w.state === state).length);
    },
  });
  const restarts: Counter = new Counter({
    name: 'trellis_worker_restarts_total',
    help: 'Sidecar worker processes restarted after exiting unexpectedly.',
    registers,
    collect: () => {
      // A counter read from the fleet's running total: reset, then set to it.
      restarts.reset();
      restarts.inc(status().reduce((sum, w) => sum + w.restarts, 0));
    },
  });
  return registry;
}
