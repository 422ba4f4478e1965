// End to end over a real nats-server with the mesh's users: sidecar-side windows fed synthetic
// completed requests on a fake clock, their publisher on a sidecar-user connection, the
// aggregator subscribed on a control-plane-user connection, and the HTTP API serving the rollup.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { inboxPrefix, subjects } from '@trellis/mesh-protocol';
import { createApiServer } from '@trellis/control-plane-core';
import {
  CONTROL_PLANE_NATS_USER,
  sidecarNatsUser,
  trellisNatsUsers,
} from '@trellis/control-plane-delivery';
// The test spans both sides of the protocol on purpose; the library code never does.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { DestinationWindows, SummaryPublisher } from '@trellis/sidecar-telemetry';
import { startNatsServer, stopAllNatsServers, waitFor } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { FakeClock } from '@trellis/time';
import { TelemetryAggregator } from './telemetry-aggregator.js';
import { telemetryRoutes } from './telemetry-routes.js';
import { subscribeTelemetry } from './telemetry-subscriber.js';

const CONTROL_PLANE_PASSWORD = 'cp-secret';
const PODS = ['web-1', 'web-2', 'web-3'];
const sidecarPassword = (pod: string) => `sidecar-secret-${pod}`;

type Completed = Parameters<DestinationWindows['record']>[0];

/** A finished request with only the fields telemetry reads. */
function completed(
  destination: string | undefined,
  status: number,
  durationMs: number,
  grpcStatus?: string,
): Completed {
  return {
    request: { record: { destination } },
    status,
    grpcStatus,
    outcome: 'complete',
    durationMs,
    bytesOut: 0,
  } as unknown as Completed;
}

let nats: NatsServerHandle;
const connections: NatsConnection[] = [];
let server: Server;
let api: string;
const cpClock = new FakeClock(0);
const aggregator = new TelemetryAggregator({ clock: cpClock, expireAfterMs: 15_000 });

beforeAll(async () => {
  const users = trellisNatsUsers({
    controlPlanePassword: CONTROL_PLANE_PASSWORD,
    sidecars: PODS.map((pod) => ({ namespace: 'shop', pod, password: sidecarPassword(pod) })),
  });
  nats = await startNatsServer({ users, jetstream: false });
  const cp = await connect({
    servers: nats.url,
    user: CONTROL_PLANE_NATS_USER,
    pass: CONTROL_PLANE_PASSWORD,
  });
  connections.push(cp);
  subscribeTelemetry(cp, aggregator);
  await cp.flush();
  server = createApiServer({ current: () => undefined }, [telemetryRoutes(aggregator)]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  for (const nc of connections) await nc.close();
  await stopAllNatsServers();
});

async function sidecarConnection(pod: string): Promise<NatsConnection> {
  const nc = await connect({
    servers: nats.url,
    user: sidecarNatsUser('shop', pod),
    pass: sidecarPassword(pod),
    inboxPrefix: inboxPrefix('shop', pod),
  });
  connections.push(nc);
  return nc;
}

/** A sidecar's windows and publisher on a fake clock, publishing on its own NATS connection. */
async function sidecar(pod: string) {
  const nc = await sidecarConnection(pod);
  const clock = new FakeClock(0);
  const identity = { namespace: 'shop', pod, service: 'web' };
  const windows = new DestinationWindows({ clock, identity });
  const publisher = new SummaryPublisher({
    windows,
    identity,
    clock,
    wallClock: () => Date.parse('2026-11-25T16:00:00.000Z') + clock.now(),
    publish: (payload) => {
      nc.publish(subjects.telemetry('shop', pod), payload);
      return true;
    },
  });
  publisher.start();
  return { nc, clock, windows, publisher };
}

async function getJson(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${api}${path}`);
  return { status: res.status, body: await res.json() };
}

describe('telemetry over NATS', () => {
  it('rolls the summaries of two sidecars up into /api/v1/telemetry', async () => {
    const web1 = await sidecar('web-1');
    const web2 = await sidecar('web-2');
    // web-1: 8 calls to catalog (2 of them 503), 2 gRPC calls to payments (1 UNAVAILABLE),
    // 4 inbound requests; web-2: 2 slow calls to catalog.
    for (let i = 0; i < 6; i++)
      web1.windows.record(completed('catalog.shop:8080', 200, 2), 'outbound');
    for (let i = 0; i < 2; i++)
      web1.windows.record(completed('catalog.shop:8080', 503, 40), 'outbound');
    web1.windows.record(completed('payments.shop:50051', 200, 5, '0'), 'outbound');
    web1.windows.record(completed('payments.shop:50051', 200, 5, '14'), 'outbound');
    for (let i = 0; i < 4; i++) web1.windows.record(completed(undefined, 200, 1), 'inbound');
    for (let i = 0; i < 2; i++)
      web2.windows.record(completed('catalog.shop:8080', 200, 100), 'outbound');
    web1.clock.advance(5_000);
    web2.clock.advance(5_000);
    await Promise.all([web1.nc.flush(), web2.nc.flush()]);
    await waitFor(() => aggregator.view().sidecars === 2, {
      what: 'both summaries',
      timeoutMs: 5_000,
    });

    expect(await getJson('/api/v1/telemetry')).toEqual({
      status: 200,
      body: {
        sidecars: 2,
        services: [
          {
            service: 'catalog.shop',
            direction: 'outbound',
            reporters: 2,
            requests: 10,
            failures: 2,
            rps: 1,
            successRate: 0.8,
            p50Ms: 2.016,
            p95Ms: 100.352,
            p99Ms: 100.352,
          },
          {
            service: 'payments.shop',
            direction: 'outbound',
            reporters: 1,
            requests: 2,
            failures: 1,
            rps: 0.2,
            successRate: 0.5,
            p50Ms: 4.992,
            p95Ms: 4.992,
            p99Ms: 4.992,
          },
          {
            service: 'web.shop',
            direction: 'inbound',
            reporters: 1,
            requests: 4,
            failures: 0,
            rps: 0.4,
            successRate: 1,
            p50Ms: 1.008,
            p95Ms: 1.008,
            p99Ms: 1.008,
          },
        ],
        edges: [
          {
            from: 'web.shop',
            to: 'catalog.shop',
            reporters: 2,
            requests: 10,
            failures: 2,
            rps: 1,
            successRate: 0.8,
          },
          {
            from: 'web.shop',
            to: 'payments.shop',
            reporters: 1,
            requests: 2,
            failures: 1,
            rps: 0.2,
            successRate: 0.5,
          },
        ],
        rejected: {},
      },
    });
    const one = await getJson('/api/v1/telemetry/shop/web-2');
    expect(one).toEqual({
      status: 200,
      body: {
        v: 1,
        proxy: { namespace: 'shop', pod: 'web-2', service: 'web' },
        at: '2026-11-25T16:00:05.000Z',
        windowSeconds: 10,
        destinations: [
          {
            direction: 'outbound',
            service: 'catalog.shop',
            requests: 2,
            failures: 0,
            rps: 0.2,
            successRate: 1,
            p50Ms: 100.352,
            p95Ms: 100.352,
            p99Ms: 100.352,
            latency: [216, 2],
          },
        ],
        edges: [{ from: 'web.shop', to: 'catalog.shop', requests: 2, failures: 0 }],
      },
    });
    web1.publisher.stop();
    web2.publisher.stop();

    // Both sidecars go quiet: once the expiry passes on the control plane's clock, they are gone.
    cpClock.advance(15_000);
    expect((await getJson('/api/v1/telemetry')).body).toEqual({
      sidecars: 0,
      services: [],
      edges: [],
      rejected: {},
    });
  });

  it('refuses a summary a sidecar publishes for another pod, and answers 404 for it', async () => {
    const rogue = await sidecar('web-3');
    // A summary naming web-4, on web-3's own subject (the only one its NATS user may publish on).
    const own = await rogue.publisher.summary();
    const forged = { ...own, proxy: { ...own.proxy, pod: 'web-4' } };
    rogue.nc.publish(
      subjects.telemetry('shop', 'web-3'),
      new TextEncoder().encode(JSON.stringify(forged)),
    );
    await rogue.nc.flush();
    await waitFor(() => aggregator.view().rejected['TRL_PROTO_IDENTITY_MISMATCH'] === 1, {
      what: 'the rejection',
      timeoutMs: 5_000,
    });
    rogue.publisher.stop();
    for (const pod of ['web-3', 'web-4'])
      expect(await getJson(`/api/v1/telemetry/shop/${pod}`)).toEqual({
        status: 404,
        body: { error: `no live telemetry from shop/${pod}` },
      });
  });
});
