import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { aggregateWorkerMetrics, fleetRegistry, workerMetricList } from './worker-metrics.js';
import type { WorkerStatus } from './worker-fleet.js';

/** One worker's registry with the sidecar's metric names, as JSON after the IPC channel. */
async function workerJson(requests: number, version: number, ejected: number, seconds: number) {
  const registry = new Registry();
  const registers = [registry];
  new Counter({ name: 'trellis_requests_total', help: 'h', labelNames: ['route'], registers }).inc(
    { route: 'r' },
    requests,
  );
  new Histogram({
    name: 'trellis_request_duration_seconds',
    help: 'h',
    buckets: [1],
    registers,
  }).observe(seconds);
  new Gauge({ name: 'trellis_config_version', help: 'h', registers }).set(version);
  new Gauge({ name: 'trellis_config_info', help: 'h', labelNames: ['hash'], registers }).set(
    { hash: 'sha256:a' },
    1,
  );
  new Gauge({
    name: 'trellis_endpoint_ejected',
    help: 'h',
    labelNames: ['destination'],
    registers,
  }).set({ destination: 'd' }, ejected);
  new Gauge({ name: 'trellis_active_requests', help: 'h', registers }).set(2);
  return JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as unknown;
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('aggregateWorkerMetrics', () => {
  it('sums counters, histograms and active requests over the workers', async () => {
    const text = await aggregateWorkerMetrics([
      workerMetricList(await workerJson(3, 5, 0, 0.5))!,
      workerMetricList(await workerJson(4, 5, 0, 2))!,
    ]);
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        'trellis_requests_total{route="r"} 7',
        'trellis_request_duration_seconds_bucket{le="1"} 1',
        'trellis_request_duration_seconds_bucket{le="+Inf"} 2',
        'trellis_request_duration_seconds_sum 2.5',
        'trellis_request_duration_seconds_count 2',
        'trellis_active_requests 4',
      ]),
    );
  });

  it('shows the lowest config version, one per config hash and the most ejections', async () => {
    const text = await aggregateWorkerMetrics([
      workerMetricList(await workerJson(1, 5, 1, 0))!,
      workerMetricList(await workerJson(1, 4, 3, 0))!,
    ]);
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        'trellis_config_version 4',
        'trellis_config_info{hash="sha256:a"} 1',
        'trellis_endpoint_ejected{destination="d"} 3',
      ]),
    );
  });

  it("adds the primary's own registry", async () => {
    const extra = new Registry();
    new Gauge({ name: 'trellis_workers', help: 'h', registers: [extra] }).set(2);
    const text = await aggregateWorkerMetrics(
      [workerMetricList(await workerJson(1, 1, 0, 0))!],
      extra,
    );
    expect(lines(text)).toContain('trellis_workers 2');
    expect(lines(text)).toContain('trellis_requests_total{route="r"} 1');
  });
});

describe('workerMetricList', () => {
  it('takes a list of named metrics with values, and nothing else', () => {
    expect(workerMetricList([{ name: 'a', values: [] }])).toEqual([{ name: 'a', values: [] }]);
    expect(workerMetricList([{ name: 'a' }])).toBeUndefined();
    expect(workerMetricList({ name: 'a', values: [] })).toBeUndefined();
    expect(workerMetricList([null])).toBeUndefined();
  });
});

describe('fleetRegistry', () => {
  it('counts workers by state and their restarts at scrape time', async () => {
    const worker = (state: WorkerStatus['state'], restarts: number): WorkerStatus => ({
      worker: 1,
      state,
      listening: state === 'running',
      version: 1,
      restarts,
      lastExit: null,
      lastRejection: null,
    });
    let now = [worker('running', 0), worker('restarting', 2)];
    const registry = fleetRegistry(() => now);
    expect(lines(await registry.metrics())).toEqual([
      'trellis_workers{state="starting"} 0',
      'trellis_workers{state="running"} 1',
      'trellis_workers{state="restarting"} 1',
      'trellis_workers{state="stopped"} 0',
      'trellis_worker_restarts_total 2',
    ]);
    now = [worker('running', 0), worker('running', 3)];
    expect(lines(await registry.metrics())).toContain('trellis_worker_restarts_total 3');
  });
});
