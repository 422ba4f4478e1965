// SidecarMetrics: exact series and values of the exposition after recorded completions, the
// scrape-time runtime gauges, and the label-set cap.
import { buildSnapshot, loadConfig } from '@trellis/config';
import { ProxyRuntime } from '@trellis/sidecar-proxy';
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS_SECONDS, SIDECAR_METRICS } from './metric-table.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { completedRequest, parseExposition, seriesOf } from './testing.js';

async function scrape(metrics: SidecarMetrics): Promise<Map<string, number>> {
  return parseExposition(await metrics.metrics());
}

const CATALOG = 'route="route/catalog.shop",destination="catalog.shop:8080"';

describe('request counters', () => {
  it('counts requests by direction, route, destination, status class and grpc-status', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(completedRequest(), 'outbound');
    metrics.record(completedRequest({ status: 204 }), 'outbound');
    metrics.record(completedRequest({ status: 503, grpcStatus: '14' }), 'inbound');
    metrics.record(
      completedRequest({ status: 404, record: { route: undefined, destination: undefined } }),
      'gateway',
    );
    expect(seriesOf(await scrape(metrics), 'trellis_requests_total')).toEqual({
      [`trellis_requests_total{direction="outbound",${CATALOG},code_class="2xx",grpc_status=""}`]: 2,
      [`trellis_requests_total{direction="inbound",${CATALOG},code_class="5xx",grpc_status="14"}`]: 1,
      'trellis_requests_total{direction="gateway",route="",destination="",code_class="4xx",grpc_status=""}': 1,
    });
  });

  it('puts a status outside 100-599 in code_class "other"', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(completedRequest({ status: 0 }), 'outbound');
    expect(seriesOf(await scrape(metrics), 'trellis_requests_total')).toEqual({
      [`trellis_requests_total{direction="outbound",${CATALOG},code_class="other",grpc_status=""}`]: 1,
    });
  });

  it('counts each retry under its destination and reason', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(
      completedRequest({ record: { attempts: 4, retryReasons: ['5xx', 'reset', '5xx'] } }),
      'outbound',
    );
    expect(seriesOf(await scrape(metrics), 'trellis_retries_total')).toEqual({
      'trellis_retries_total{destination="catalog.shop:8080",reason="5xx"}': 2,
      'trellis_retries_total{destination="catalog.shop:8080",reason="reset"}': 1,
    });
  });

  it('counts local responses by x-trellis-error, and rate limits and overloads on their own', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(completedRequest({ status: 429, record: { error: 'rate-limited' } }), 'inbound');
    metrics.record(completedRequest({ status: 503, record: { error: 'overloaded' } }), 'outbound');
    metrics.record(completedRequest({ status: 503, record: { error: 'overloaded' } }), 'outbound');
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_local_responses_total')).toEqual({
      'trellis_local_responses_total{direction="inbound",error="rate-limited"}': 1,
      'trellis_local_responses_total{direction="outbound",error="overloaded"}': 2,
    });
    expect(seriesOf(samples, 'trellis_rate_limited_total')).toEqual({
      'trellis_rate_limited_total{route="route/catalog.shop"}': 1,
    });
    expect(seriesOf(samples, 'trellis_overloaded_total')).toEqual({
      'trellis_overloaded_total{destination="catalog.shop:8080"}': 2,
    });
  });

  it('counts injected faults, bytes sent and received, and client aborts', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(
      completedRequest({ bytesIn: 40, bytesOut: 100, record: { faultInjected: true } }),
      'outbound',
    );
    metrics.record(completedRequest({ bytesOut: 30, outcome: 'client-gone' }), 'outbound');
    metrics.record(completedRequest({ bytesIn: 7, bytesOut: 0 }), 'inbound');
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_faults_injected_total')).toEqual({
      'trellis_faults_injected_total{route="route/catalog.shop"}': 1,
    });
    expect(seriesOf(samples, 'trellis_bytes_sent_total')).toEqual({
      'trellis_bytes_sent_total{direction="outbound"}': 130,
    });
    expect(seriesOf(samples, 'trellis_bytes_received_total')).toEqual({
      'trellis_bytes_received_total{direction="outbound"}': 40,
      'trellis_bytes_received_total{direction="inbound"}': 7,
    });
    expect(seriesOf(samples, 'trellis_client_aborts_total')).toEqual({
      'trellis_client_aborts_total{direction="outbound"}': 1,
    });
  });

  it('records nothing but the request, its duration and bytes for a plain success', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(completedRequest(), 'outbound');
    const samples = await scrape(metrics);
    for (const name of [
      'trellis_retries_total',
      'trellis_local_responses_total',
      'trellis_rate_limited_total',
      'trellis_overloaded_total',
      'trellis_faults_injected_total',
      'trellis_client_aborts_total',
      'trellis_metric_label_overflow_total',
    ])
      expect(seriesOf(samples, name)).toEqual({});
  });
});

describe('listeners', () => {
  it('exports the connections and HTTP/2 streams open on each listener, read at each scrape', async () => {
    const metrics = new SidecarMetrics();
    const stats = (connections: number, streams: number) => ({
      address: '127.0.0.1:1',
      connections,
      streams,
      tunnels: { active: 0, total: 0 },
    });
    let listeners = { outbound: stats(3, 7), inbound: stats(1, 0) };
    metrics.observeListeners(() => listeners);
    let samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_downstream_connections')).toEqual({
      'trellis_downstream_connections{direction="outbound"}': 3,
      'trellis_downstream_connections{direction="inbound"}': 1,
    });
    expect(seriesOf(samples, 'trellis_downstream_streams')).toEqual({
      'trellis_downstream_streams{direction="outbound"}': 7,
      'trellis_downstream_streams{direction="inbound"}': 0,
    });
    listeners = { outbound: stats(0, 0), inbound: stats(2, 1) };
    samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_downstream_streams')).toEqual({
      'trellis_downstream_streams{direction="outbound"}': 0,
      'trellis_downstream_streams{direction="inbound"}': 1,
    });
  });
});

describe('access-log drops', () => {
  it('exports the lines the access log dropped, read at each scrape', async () => {
    const metrics = new SidecarMetrics();
    expect(seriesOf(await scrape(metrics), 'trellis_access_log_dropped_lines_total')).toEqual({
      trellis_access_log_dropped_lines_total: 0,
    });
    let dropped = 1200;
    metrics.observeAccessLogDrops(() => dropped);
    expect(seriesOf(await scrape(metrics), 'trellis_access_log_dropped_lines_total')).toEqual({
      trellis_access_log_dropped_lines_total: 1200,
    });
    dropped = 1500;
    expect(seriesOf(await scrape(metrics), 'trellis_access_log_dropped_lines_total')).toEqual({
      trellis_access_log_dropped_lines_total: 1500,
    });
  });
});

describe('settings', () => {
  it('stops counting requests when turned off, keeping what was counted, and resumes', async () => {
    const metrics = new SidecarMetrics();
    metrics.record(completedRequest(), 'outbound');
    metrics.configure({ enabled: false });
    metrics.record(completedRequest(), 'outbound');
    metrics.record(completedRequest({ record: { retryReasons: ['5xx'] } }), 'outbound');
    const series = `trellis_requests_total{direction="outbound",${CATALOG},code_class="2xx",grpc_status=""}`;
    const off = await scrape(metrics);
    expect(seriesOf(off, 'trellis_requests_total')).toEqual({ [series]: 1 });
    expect(seriesOf(off, 'trellis_retries_total')).toEqual({});
    expect(off.get('trellis_config_version')).toBe(0);
    metrics.configure(undefined);
    metrics.record(completedRequest(), 'outbound');
    expect(seriesOf(await scrape(metrics), 'trellis_requests_total')).toEqual({ [series]: 2 });
  });
});

describe('request duration histogram', () => {
  it('has buckets from 0.1 ms to 30 s', () => {
    expect(DURATION_BUCKETS_SECONDS[0]).toBe(0.0001);
    expect(DURATION_BUCKETS_SECONDS.at(-1)).toBe(30);
  });

  it('counts durations into cumulative buckets, with sum and count', async () => {
    const metrics = new SidecarMetrics();
    for (const durationMs of [0.05, 0.1, 3, 12, 12, 40_000])
      metrics.record(completedRequest({ durationMs }), 'outbound');
    const samples = await scrape(metrics);
    const labels = `direction="outbound",${CATALOG}`;
    const buckets = seriesOf(samples, 'trellis_request_duration_seconds_bucket');
    const byLe = Object.fromEntries(
      Object.entries(buckets).map(([series, value]) => [/le="([^"]+)"/.exec(series)![1], value]),
    );
    expect(byLe).toEqual({
      '0.0001': 2,
      '0.00025': 2,
      '0.0005': 2,
      '0.001': 2,
      '0.0025': 2,
      '0.005': 3,
      '0.01': 3,
      '0.025': 5,
      '0.05': 5,
      '0.1': 5,
      '0.25': 5,
      '0.5': 5,
      '1': 5,
      '2.5': 5,
      '5': 5,
      '10': 5,
      '30': 5,
      '+Inf': 6,
    });
    expect(samples.get(`trellis_request_duration_seconds_count{${labels}}`)).toBe(6);
    expect(samples.get(`trellis_request_duration_seconds_sum{${labels}}`)).toBeCloseTo(40.02715, 9);
  });
});

const CONFIG = `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {ports: [{port: 8080}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  endpoints: [{address: 10.0.0.1, port: 8080}, {address: 10.0.0.2, port: 8080}]
---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  outlierDetection: {consecutive5xx: 1, maxEjectionPercent: 100}
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {ports: [{port: 9090}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: cart, namespace: shop}
spec:
  service: cart
  endpoints: [{address: 10.0.1.1, port: 9090}]
---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: cart, namespace: shop}
spec:
  service: cart
  failureAccrual: {consecutiveFailures: 2}
`;

function runtime(version: number): ProxyRuntime {
  const { resources, issues } = loadConfig([{ file: 'test.yaml', text: CONFIG }]);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(JSON.stringify(errors));
  return ProxyRuntime.build(buildSnapshot(resources, version), undefined, {
    localNamespace: 'shop',
    clock: new FakeClock(1_000),
    random: () => 0,
  });
}

describe('runtime gauges', () => {
  it('reads ejected endpoints, active requests and the config version and hash at scrape time', async () => {
    const metrics = new SidecarMetrics();
    const current = runtime(7);
    metrics.observeRuntime(() => current);
    const catalog = current.cluster('catalog.shop:8080')!;
    const lease = catalog.endpoints.start(catalog.endpoints.endpoints[0]!);
    lease.end({ outcome: '5xx', latencyMs: 1 });
    current.cluster('cart.shop:9090')!.breaker.tryAcquire('active-requests');
    current.cluster('cart.shop:9090')!.breaker.tryAcquire('active-requests');
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_endpoint_ejected')).toEqual({
      'trellis_endpoint_ejected{destination="catalog.shop:8080"}': 1,
      'trellis_endpoint_ejected{destination="cart.shop:9090"}': 0,
    });
    expect(seriesOf(samples, 'trellis_active_requests')).toEqual({
      'trellis_active_requests{destination="catalog.shop:8080"}': 0,
      'trellis_active_requests{destination="cart.shop:9090"}': 2,
    });
    expect(seriesOf(samples, 'trellis_endpoint_ejections_total')).toEqual({
      'trellis_endpoint_ejections_total{destination="catalog.shop:8080"}': 1,
      'trellis_endpoint_ejections_total{destination="cart.shop:9090"}': 0,
    });
    // Only cart has a consecutive-failure breaker; it has not opened yet.
    expect(seriesOf(samples, 'trellis_breaker_opens_total')).toEqual({
      'trellis_breaker_opens_total{destination="cart.shop:9090"}': 0,
    });
    expect(seriesOf(samples, 'trellis_config_version')).toEqual({ trellis_config_version: 7 });
    expect(seriesOf(samples, 'trellis_config_info')).toEqual({
      [`trellis_config_info{hash="${current.snapshot.hash}"}`]: 1,
    });
  });

  it('counts the times a consecutive-failure breaker opened', async () => {
    const metrics = new SidecarMetrics();
    const current = runtime(1);
    metrics.observeRuntime(() => current);
    const accrual = current.cluster('cart.shop:9090')!.failureAccrual!;
    for (let i = 0; i < 2; i++) accrual.report(accrual.acquire() as 'admitted', 'failure');
    expect(accrual.state).toBe('open');
    expect(seriesOf(await scrape(metrics), 'trellis_breaker_opens_total')).toEqual({
      'trellis_breaker_opens_total{destination="cart.shop:9090"}': 1,
    });
  });

  it('follows the runtime swap: the old hash leaves the scrape', async () => {
    const metrics = new SidecarMetrics();
    let current = runtime(1);
    const before = current.snapshot.hash;
    metrics.observeRuntime(() => current);
    await metrics.metrics();
    current = ProxyRuntime.empty({
      localNamespace: 'shop',
      clock: new FakeClock(0),
      random: () => 0,
    });
    expect(current.snapshot.hash).not.toBe(before);
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_config_info')).toEqual({
      [`trellis_config_info{hash="${current.snapshot.hash}"}`]: 1,
    });
    expect(seriesOf(samples, 'trellis_endpoint_ejected')).toEqual({});
  });

  it('reports version 0 and no destinations before any config', async () => {
    const metrics = new SidecarMetrics();
    metrics.observeRuntime(() => undefined);
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_config_version')).toEqual({ trellis_config_version: 0 });
    expect(seriesOf(samples, 'trellis_config_info')).toEqual({});
    expect(seriesOf(samples, 'trellis_active_requests')).toEqual({});
  });
});

describe('label-set cap', () => {
  it('folds route and destination of new label sets past the cap into __overflow__', async () => {
    const metrics = new SidecarMetrics({ maxLabelSets: 2 });
    for (const name of ['a', 'b', 'c', 'd'])
      metrics.record(
        completedRequest({ record: { route: `r-${name}`, destination: `d-${name}` } }),
        'outbound',
      );
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_requests_total')).toEqual({
      'trellis_requests_total{direction="outbound",route="r-a",destination="d-a",code_class="2xx",grpc_status=""}': 1,
      'trellis_requests_total{direction="outbound",route="r-b",destination="d-b",code_class="2xx",grpc_status=""}': 1,
      'trellis_requests_total{direction="outbound",route="__overflow__",destination="__overflow__",code_class="2xx",grpc_status=""}': 2,
    });
    expect(
      samples.get(
        'trellis_request_duration_seconds_count{direction="outbound",route="__overflow__",destination="__overflow__"}',
      ),
    ).toBe(2);
    expect(seriesOf(samples, 'trellis_metric_label_overflow_total')).toEqual({
      'trellis_metric_label_overflow_total{metric="trellis_requests_total"}': 2,
      'trellis_metric_label_overflow_total{metric="trellis_request_duration_seconds"}': 2,
    });
  });

  it('keeps counting label sets admitted before the cap was reached', async () => {
    const metrics = new SidecarMetrics({ maxLabelSets: 1 });
    metrics.record(completedRequest({ record: { destination: 'd-a' } }), 'outbound');
    metrics.record(completedRequest({ record: { destination: 'd-b' } }), 'outbound');
    metrics.record(completedRequest({ record: { destination: 'd-a' } }), 'outbound');
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_requests_total')).toEqual({
      'trellis_requests_total{direction="outbound",route="route/catalog.shop",destination="d-a",code_class="2xx",grpc_status=""}': 2,
      'trellis_requests_total{direction="outbound",route="__overflow__",destination="__overflow__",code_class="2xx",grpc_status=""}': 1,
    });
  });

  it('caps each metric on its own', async () => {
    const metrics = new SidecarMetrics({ maxLabelSets: 1 });
    metrics.record(completedRequest({ record: { retryReasons: ['5xx', 'reset'] } }), 'outbound');
    const samples = await scrape(metrics);
    expect(seriesOf(samples, 'trellis_retries_total')).toEqual({
      'trellis_retries_total{destination="catalog.shop:8080",reason="5xx"}': 1,
      'trellis_retries_total{destination="__overflow__",reason="reset"}': 1,
    });
    expect(seriesOf(samples, 'trellis_metric_label_overflow_total')).toEqual({
      'trellis_metric_label_overflow_total{metric="trellis_retries_total"}': 1,
    });
  });
});

describe('exposition', () => {
  it('declares every metric of the table once, with its type', async () => {
    const text = await new SidecarMetrics().metrics();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(types).toEqual(Object.values(SIDECAR_METRICS).map((s) => `${s.name} ${s.type}`));
  });

  it('serves the Prometheus text content type', () => {
    expect(new SidecarMetrics().contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
