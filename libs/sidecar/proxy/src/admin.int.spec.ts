// The admin endpoint of a real gateway, over HTTP: readiness before and after config, the
// config in force, per-endpoint cluster state (load, EWMA, ejection), counters that move with
// traffic, and drain on POST.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '@trellis/sidecar-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRequest } from './int-testing/clients.js';
import { config, doc, service, snapshotOf } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import { startH1Upstream } from './int-testing/upstreams.js';
import type { Upstream } from './int-testing/upstreams.js';

let good: Upstream;
let bad: Upstream;
let gateway: TestGateway;
let admin: Server;
let adminPort: number;

const configText = () =>
  config(
    service('web', [good.port]),
    service('flaky', [good.port, bad.port]),
    doc('DestinationPolicy', 'flaky', {
      service: 'flaky',
      outlierDetection: {
        consecutiveGatewayErrors: 2,
        baseEjectionTime: '60s',
        maxEjectionPercent: 50,
      },
    }),
  );

async function get(path: string, method = 'GET') {
  const res = await nodeRequest(adminPort, { path, method });
  const text = res.body.toString();
  return {
    status: res.status,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  good = await startH1Upstream((_req, res) => res.end('good'));
  bad = await startH1Upstream((_req, res) => res.writeHead(503).end('bad'));
  gateway = await startGateway();
  admin = createAdminServer(gateway.sidecar.adminEndpoints());
  await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
  adminPort = (admin.address() as AddressInfo).port;
});

afterAll(async () => {
  admin.closeAllConnections();
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  await gateway.close();
  await good.close();
  await bad.close();
});

describe('admin endpoint', () => {
  it('is not ready before the first config, and the proxy answers no-route meanwhile', async () => {
    const ready = await get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.text).toBe('not ready\n');
    const config = await get('/config');
    expect(config.status).toBe(503);
    expect(config.json()).toMatchObject({ version: null, hash: null });
    const res = await nodeRequest(gateway.port, { headers: { host: 'web' } });
    expect(res.status).toBe(404);
    expect(res.headers['x-trellis-error']).toBe('no-route');
  });

  it('is ready once config is applied, and /config shows its version and hash', async () => {
    gateway.apply(configText());
    expect((await get('/ready')).status).toBe(200);
    const config = await get('/config');
    expect(config.status).toBe(200);
    const body = config.json();
    expect(body.version).toBe(1);
    expect(body.hash).toBe(snapshotOf(configText(), 1).hash);
    expect(body.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(body.hosts).toContain('web');
  });

  it('/stats counts requests, responses by class and local answers', async () => {
    const before = (await get('/stats')).json();
    for (let i = 0; i < 3; i++)
      expect((await nodeRequest(gateway.port, { headers: { host: 'web' } })).status).toBe(200);
    expect((await nodeRequest(gateway.port, { headers: { host: 'nowhere' } })).status).toBe(404);
    const after = (await get('/stats')).json();
    const delta = (name: string) => Number(after[name] ?? 0) - Number(before[name] ?? 0);
    expect(delta('requests_total')).toBe(4);
    expect(delta('responses_2xx')).toBe(3);
    expect(delta('responses_4xx')).toBe(1);
    expect(delta('local_responses.no-route')).toBe(1);
    expect(after.config_version).toBe(1);
    expect(after.listeners).toMatchObject({ gateway: { address: `127.0.0.1:${gateway.port}` } });
  });

  it('/clusters shows each endpoint with load, EWMA and ejection state', async () => {
    // Half the picks go to the endpoint that always answers 503: two in a row eject it.
    for (let i = 0; i < 30; i++) await nodeRequest(gateway.port, { headers: { host: 'flaky' } });
    const clusters = (await get('/clusters')).json() as unknown as {
      name: string;
      limits: { activeRequests: number };
      endpoints: Record<string, unknown>[];
    }[];
    const flaky = clusters.find((c) => c.name === 'flaky.test:80');
    expect(flaky?.limits.activeRequests).toBe(0);
    const byPort = new Map(flaky?.endpoints.map((e) => [e.port, e]));
    const goodState = byPort.get(good.port);
    const badState = byPort.get(bad.port);
    expect(goodState).toMatchObject({ ejected: false, activeRequests: 0, failures: 0 });
    expect(goodState?.successes).toBeGreaterThan(0);
    expect(typeof goodState?.ewmaMs).toBe('number');
    expect(badState).toMatchObject({ ejected: true, activeRequests: 0, totalEjections: 1 });
    expect(badState?.failures).toBeGreaterThanOrEqual(2);
    // With the bad endpoint ejected, every request now goes to the good one.
    for (let i = 0; i < 5; i++) {
      const res = await nodeRequest(gateway.port, { headers: { host: 'flaky' } });
      expect(res.body.toString()).toBe('good');
    }
  });

  it('POST /drain starts draining: 202, then not ready', async () => {
    expect((await get('/drain')).status).toBe(405);
    const drain = await get('/drain', 'POST');
    expect(drain.status).toBe(202);
    expect(drain.json()).toEqual({ draining: true });
    const ready = await get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.text).toBe('draining\n');
  });
});
