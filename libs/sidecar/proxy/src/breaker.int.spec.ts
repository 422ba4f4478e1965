// The failure-accrual breaker against a real upstream that fails, then recovers: consecutive
// failures open the circuit (503 circuit-open without touching the upstream), and after the
// cool-down one probe finds the recovered upstream and closes it.
import { systemClock } from '@trellis/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolConnector } from './connectors.js';
import { nodeRequest } from './int-testing/clients.js';
import { config, doc, service, snapshotOf } from './int-testing/config.js';
import { startH1Upstream } from './int-testing/upstreams.js';
import type { Upstream } from './int-testing/upstreams.js';
import { ProxyListener } from './listener.js';
import { Proxy } from './proxy.js';
import { ProxyRuntime } from './runtime.js';
import { buildStack } from './stack.js';

const COOL_DOWN_MS = 200;
const breaker = {
  consecutiveFailures: 3,
  minPenalty: `${COOL_DOWN_MS}ms`,
  maxPenalty: `${COOL_DOWN_MS}ms`,
};

let failing = true;
let upstream: Upstream;
let refusing: Upstream;
let listener: ProxyListener;
let connector: PoolConnector;
let port: number;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  upstream = await startH1Upstream((_req, res) => {
    if (failing) res.writeHead(500).end('down');
    else res.end('up');
  });
  refusing = await startH1Upstream((_req, res) => res.end('listening again'));
  const runtime = ProxyRuntime.build(
    snapshotOf(
      config(
        service('web', [upstream.port]),
        service('gone', [refusing.port]),
        doc('Route', 'web', { hosts: ['web'], destinations: [{ service: 'web' }] }),
        doc('Route', 'gone', { hosts: ['gone'], destinations: [{ service: 'gone' }] }),
        ...['web', 'gone'].map((name) =>
          doc('DestinationPolicy', name, { service: name, failureAccrual: breaker }),
        ),
      ),
      1,
    ),
    undefined,
    { localNamespace: 'test', clock: systemClock, random: Math.random },
  );
  connector = new PoolConnector(systemClock);
  const proxy = new Proxy({
    runtime: () => runtime,
    stack: buildStack(connector),
    clock: systemClock,
    random: Math.random,
    replayLimitBytes: 64 * 1024,
  });
  listener = new ProxyListener({ onExchange: (exchange) => proxy.handle(exchange) });
  port = (await listener.listen(0, '127.0.0.1')).port;
});

afterAll(async () => {
  await listener.drain(500);
  await connector.close();
  await upstream.close();
  await refusing.close();
});

describe('failure-accrual breaker', () => {
  it('opens on consecutive 500s and closes once the recovered upstream answers the probe', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await nodeRequest(port, { headers: { host: 'web' } })).status).toBe(500);
    }
    const open = await nodeRequest(port, { headers: { host: 'web' } });
    expect(open.status).toBe(503);
    expect(open.headers['x-trellis-error']).toBe('circuit-open');
    expect(upstream.requests).toHaveLength(3);

    failing = false;
    await sleep(COOL_DOWN_MS + 50);
    const probe = await nodeRequest(port, { headers: { host: 'web' } });
    expect(probe.status).toBe(200);
    expect(probe.body.toString()).toBe('up');
    expect((await nodeRequest(port, { headers: { host: 'web' } })).status).toBe(200);
    expect(upstream.requests).toHaveLength(5);
  });

  it('opens on refused connections and closes when the endpoint listens again', async () => {
    await refusing.close();
    for (let i = 0; i < 3; i++) {
      const refused = await nodeRequest(port, { headers: { host: 'gone' } });
      expect(refused.headers['x-trellis-error']).toBe('upstream-connect-failure');
    }
    const open = await nodeRequest(port, { headers: { host: 'gone' } });
    expect(open.headers['x-trellis-error']).toBe('circuit-open');

    await refusing.listen();
    await sleep(COOL_DOWN_MS + 50);
    const probe = await nodeRequest(port, { headers: { host: 'gone' } });
    expect(probe.status).toBe(200);
    expect(probe.body.toString()).toBe('listening again');
  });
});
