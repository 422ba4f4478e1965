import { afterEach, describe, expect, it } from 'vitest';
import { createServer, get } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { waitFor } from '@trellis/testing';
import { deliveryRoutes } from './http-routes.js';
import { DeliveryMetrics } from './metrics.js';
import { SyncTracker } from './sync-tracker.js';
import type { ProxySyncView } from './sync-tracker.js';

const identity: ProxyIdentity = {
  namespace: 'shop',
  pod: 'web-1',
  service: 'web',
  role: 'sidecar',
  labels: {},
  startedAt: '2025-01-01T00:00:00.000Z',
};

interface ProxiesBody {
  latest: unknown;
  counts: unknown;
  proxies: ProxySyncView[];
}
interface ProxyBody {
  proxy: ProxySyncView;
  configInForce: unknown;
  latest: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve() {
  const clock = new FakeClock();
  const tracker = new SyncTracker({ clock });
  const metrics = new DeliveryMetrics();
  metrics.bind({
    sidecarStates: () => tracker.counts(),
    isWriter: () => true,
    storedVersion: () => tracker.latest?.version ?? 0,
  });
  const route = deliveryRoutes({ tracker, metrics, clock, keepAliveMs: 7_000 });
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!route.handle(req, res, path)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
  return { clock, tracker, metrics, route, base };
}

describe('deliveryRoutes', () => {
  it('lists the proxies with their sync state', async () => {
    const { tracker, base } = await serve();
    tracker.setLatest(2, 'h2');
    tracker.status({ proxy: identity, kind: 'ack', version: 2, hash: 'h2', at: '' });
    const res = await fetch(`${base}/api/v1/proxies`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ProxiesBody;
    expect(body.latest).toEqual({ version: 2, hash: 'h2' });
    expect(body.counts).toEqual({ SYNCED: 1, STALE: 0, NACKED: 0, DISCONNECTED: 0 });
    expect(body.proxies.map((p) => [p.key, p.state])).toEqual([['shop/web-1', 'SYNCED']]);
  });

  it('shows one proxy with the config version in force and its hash', async () => {
    const { tracker, base } = await serve();
    tracker.setLatest(3, 'h3');
    tracker.status({ proxy: identity, kind: 'ack', version: 2, hash: 'h2', at: '' });
    const body = (await (await fetch(`${base}/api/v1/proxies/shop/web-1`)).json()) as ProxyBody;
    expect(body.configInForce).toEqual({ version: 2, hash: 'h2' });
    expect(body.latest).toEqual({ version: 3, hash: 'h3' });
    expect(body.proxy).toMatchObject({ key: 'shop/web-1', identity, state: 'SYNCED' });
  });

  it('answers 404 for an unknown proxy or a malformed path', async () => {
    const { base } = await serve();
    expect((await fetch(`${base}/api/v1/proxies/shop/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/proxies/shop`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/proxies/a/b/c`)).status).toBe(404);
  });

  it('streams the current list, then each sync-state change, as server-sent events', async () => {
    const { clock, tracker, base } = await serve();
    tracker.setLatest(1, 'h1');
    const chunks: string[] = [];
    const res = await new Promise<IncomingMessage>((resolve) =>
      get(`${base}/api/v1/events`, resolve),
    );
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => chunks.push(chunk));
    await waitFor(() => chunks.join('').includes('event: snapshot'), {
      timeoutMs: 5_000,
      what: 'the snapshot event',
    });
    tracker.announce(identity, 0, '');
    clock.advance(5_000); // web-1 has not caught up: STALE
    clock.advance(2_000); // a keep-alive comment is due
    const events = () => chunks.join('').split('\n\n').filter(Boolean);
    await waitFor(() => events().length === 4, { timeoutMs: 5_000, what: 'four events' });
    const parsed = events().map((e) =>
      Object.fromEntries(
        e.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      ),
    );
    expect(parsed.map((e) => e.event ?? e[''])).toEqual([
      'snapshot',
      'change',
      'change',
      'keep-alive',
    ]);
    expect(parsed.map((e) => e.id)).toEqual(['1', '2', '3', undefined]);
    expect(JSON.parse(parsed[0]?.data ?? '')).toEqual({
      latest: { version: 1, hash: 'h1' },
      proxies: [],
    });
    const changes = parsed.slice(1, 3).map((e) => JSON.parse(e.data ?? ''));
    expect(
      changes.map((c) => [c.kind, c.proxy.key, c.previousState ?? null, c.proxy.state]),
    ).toEqual([
      ['updated', 'shop/web-1', null, 'SYNCED'],
      ['updated', 'shop/web-1', 'SYNCED', 'STALE'],
    ]);
    res.destroy();
  });

  it('serves the Prometheus metrics', async () => {
    const { tracker, metrics, base } = await serve();
    tracker.announce(identity, 0, '');
    metrics.reject('status', 'TRL_PROTO_IDENTITY_MISMATCH');
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('trellis_control_plane_sidecars{state="SYNCED"} 1\n');
    expect(text).toContain('trellis_control_plane_writer 1\n');
    expect(text).toContain(
      'trellis_control_plane_rejected_messages_total{subject="status",code="TRL_PROTO_IDENTITY_MISMATCH"} 1\n',
    );
    expect(text).toContain('trellis_control_plane_push_ack_latency_seconds_bucket{le="0.001"} 0\n');
    expect(text).toContain('trellis_control_plane_push_ack_latency_seconds_bucket{le="10"} 0\n');
  });

  it('leaves other paths to the next handler', async () => {
    const { route, base } = await serve();
    expect((await fetch(`${base}/api/v1/other`)).status).toBe(404);
    expect(route.endpoints).toEqual([
      '/api/v1/proxies',
      '/api/v1/proxies/<namespace>/<pod>',
      '/api/v1/events',
      '/metrics',
    ]);
  });
});
