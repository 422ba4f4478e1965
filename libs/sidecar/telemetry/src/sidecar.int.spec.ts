// Telemetry wired into a real gateway the way apps/sidecar does it: requests over HTTP to an
// upstream on 127.0.0.1:0, then the access-log lines and the /metrics admin view they leave.
import { createServer, request } from 'node:http';
import { connect as connectH2 } from 'node:http2';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSnapshot, loadConfig } from '@trellis/config';
import { createAdminServer } from '@trellis/sidecar-admin';
import { PoolConnector, Sidecar } from '@trellis/sidecar-proxy';
import { systemClock } from '@trellis/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessLog } from './access-log.js';
import { telemetryFor } from './telemetry-select.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { parseExposition, seriesOf } from './testing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let upstream: Server;
let admin: Server;
let sidecar: Sidecar;
let gatewayPort: number;
let adminPort: number;
const lines: string[] = [];
/** Answers the request the upstream is holding (path /hold), once one is. */
let releaseHeld: (() => void) | undefined;
const metrics = new SidecarMetrics();

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function get(port: number, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string; type: string | undefined }>(
    (resolve, reject) => {
      const method = body === undefined ? 'GET' : 'POST';
      const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            type: res.headers['content-type'],
          }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

beforeAll(async () => {
  // Reads the whole request body before answering, as an app does.
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hold') releaseHeld = () => res.end('held');
      else res.end('hello');
    });
  });
  const upstreamPort = await listen(upstream);
  const accessLog = new AccessLog({
    destination: { write: (chunk: Buffer) => lines.push(chunk.toString()) },
    batchBytes: 0,
  });
  sidecar = new Sidecar({
    role: 'gateway',
    gateway: { host: '127.0.0.1', port: 0 },
    localNamespace: 'shop',
    drainTimeoutMs: 1_000,
    replayLimitBytes: 64 * 1024,
    connector: new PoolConnector(systemClock),
    clock: systemClock,
    random: Math.random,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onComplete: (completed, listener) => {
      metrics.record(completed, listener);
      accessLog.log(completed, listener);
    },
  });
  metrics.observeRuntime(() => sidecar.holder.current?.runtime);
  metrics.observeListeners(() => sidecar.listenerStats());
  sidecar.holder.onApplied((applied) =>
    accessLog.configure(telemetryFor(applied.snapshot.resources, undefined)?.accessLog),
  );
  const { resources } = loadConfig([
    {
      file: 'int.yaml',
      text: `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: web, namespace: shop}
spec: {service: web, endpoints: [{address: 127.0.0.1, port: ${upstreamPort}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Telemetry
metadata: {name: mesh, namespace: shop}
spec: {accessLog: {format: '%METHOD% %STATUS% %ROUTE% %DESTINATION% %TRACE_ID% %ERROR% %BYTES_IN% %BYTES_OUT%'}}
`,
    },
  ]);
  expect(sidecar.holder.apply(buildSnapshot(resources, 3)).accepted).toBe(true);
  gatewayPort = (await sidecar.start())['gateway']!.port;
  const endpoints = sidecar.adminEndpoints();
  admin = createAdminServer({
    ...endpoints,
    views: {
      ...endpoints.views,
      '/metrics': async () => ({ status: 200, body: await metrics.metrics() }),
    },
  });
  adminPort = await listen(admin);
});

afterAll(async () => {
  admin.closeAllConnections();
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  await sidecar.drain();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('telemetry on a live gateway', () => {
  it('logs and counts proxied requests and a no-route answer', async () => {
    const ok = await get(gatewayPort, '/', {
      host: 'web',
      traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
    });
    expect(ok).toMatchObject({ status: 200, body: 'hello' });
    const posted = await get(gatewayPort, '/orders', { host: 'web' }, 'x'.repeat(1234));
    expect(posted).toMatchObject({ status: 200, body: 'hello' });
    expect((await get(gatewayPort, '/', { host: 'nowhere' })).status).toBe(404);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`GET 200 service/web.shop:80 web.shop:80 ${TRACE_ID} - 0 5\n`);
    expect(lines[1]).toBe('POST 200 service/web.shop:80 web.shop:80 - - 1234 5\n');
    expect(lines[2]).toBe('GET 404 - - - no-route 0 22\n');
    const page = await get(adminPort, '/metrics');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/plain; charset=utf-8');
    const samples = parseExposition(page.body);
    expect(seriesOf(samples, 'trellis_requests_total')).toEqual({
      'trellis_requests_total{direction="gateway",route="service/web.shop:80",destination="web.shop:80",code_class="2xx",grpc_status=""}': 2,
      'trellis_requests_total{direction="gateway",route="",destination="",code_class="4xx",grpc_status=""}': 1,
    });
    expect(seriesOf(samples, 'trellis_local_responses_total')).toEqual({
      'trellis_local_responses_total{direction="gateway",error="no-route"}': 1,
    });
    expect(seriesOf(samples, 'trellis_bytes_sent_total')).toEqual({
      'trellis_bytes_sent_total{direction="gateway"}': 32,
    });
    expect(seriesOf(samples, 'trellis_bytes_received_total')).toEqual({
      'trellis_bytes_received_total{direction="gateway"}': 1234,
    });
    expect(seriesOf(samples, 'trellis_config_version')).toEqual({ trellis_config_version: 3 });
    expect(seriesOf(samples, 'trellis_active_requests')).toEqual({
      'trellis_active_requests{destination="web.shop:80"}': 0,
    });
  });

  it('shows the client connections and HTTP/2 streams open on each listener', async () => {
    const gauges = async () => {
      const samples = parseExposition((await get(adminPort, '/metrics')).body);
      return {
        connections: samples.get('trellis_downstream_connections{direction="gateway"}'),
        streams: samples.get('trellis_downstream_streams{direction="gateway"}'),
      };
    };
    const client = connectH2(`http://127.0.0.1:${gatewayPort}`);
    try {
      const stream = client.request({ ':path': '/hold', ':authority': 'web' });
      const body = new Promise<string>((resolve) => {
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(text));
      });
      for (let i = 0; i < 200 && releaseHeld === undefined; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(releaseHeld).toBeDefined();
      const open = await gauges();
      expect(open.streams).toBe(1);
      // The HTTP/2 connection, and any keep-alive connection of the requests before.
      expect(open.connections).toBeGreaterThanOrEqual(1);
      releaseHeld?.();
      expect(await body).toBe('held');
      expect((await gauges()).streams).toBe(0);
    } finally {
      client.close();
    }
  });
});
