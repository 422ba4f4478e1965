// Request mirroring against two real upstreams: the primary answers the client; the mirror gets
// the same request with the -shadow authority; a mirror that hangs or fails changes nothing for
// the client and is counted in the sidecar stats.
import { systemClock } from '@trellis/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolConnector } from './connectors.js';
import { nodeRequest } from './int-testing/clients.js';
import { config, doc, service, snapshotOf } from './int-testing/config.js';
import { sha256, startH1Upstream } from './int-testing/upstreams.js';
import type { Echo, Upstream } from './int-testing/upstreams.js';
import { ProxyListener } from './listener.js';
import { Proxy } from './proxy.js';
import { ProxyRuntime } from './runtime.js';
import { buildStack } from './stack.js';
import { SidecarStats } from './stats.js';

let primary: Upstream;
let mirror: Upstream;
let listener: ProxyListener;
let connector: PoolConnector;
let port: number;
const stats = new SidecarStats();

/** Resolves once `check` holds, polling; fails the test after `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  primary = await startH1Upstream();
  mirror = await startH1Upstream((req, res, seen) => {
    if (req.url?.startsWith('/hang')) return;
    void seen.bodyDone.then(() => {
      res.writeHead(req.url?.startsWith('/fail') ? 500 : 200).end('mirror');
    });
  });
  const runtime = ProxyRuntime.build(
    snapshotOf(
      config(
        service('web', [primary.port]),
        service('shadow', [mirror.port]),
        doc('Route', 'web', {
          hosts: ['web'],
          destinations: [{ service: 'web' }],
          mirror: { service: 'shadow', percent: 100 },
          timeout: '300ms',
        }),
      ),
      1,
    ),
    undefined,
    { localNamespace: 'test', clock: systemClock, random: Math.random },
  );
  connector = new PoolConnector(systemClock);
  const proxy = new Proxy({
    runtime: () => runtime,
    stack: buildStack(connector, { stats }),
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
  await primary.close();
  await mirror.close();
});

describe('request mirroring', () => {
  it('answers from the primary and sends the mirror the same request with the -shadow authority', async () => {
    const res = await nodeRequest(port, {
      path: '/items?page=2',
      headers: { host: 'web', 'x-custom': 'yes' },
    });
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body.toString()) as Echo;
    expect(echo.url).toBe('/items?page=2');
    expect(echo.headers.host).toBe('web');
    await eventually(() => mirror.requests.some((r) => r.url === '/items?page=2'));
    const copy = mirror.requests.find((r) => r.url === '/items?page=2');
    expect(copy?.method).toBe('GET');
    expect(copy?.headers.host).toBe('web-shadow');
    expect(copy?.headers['x-custom']).toBe('yes');
    expect(copy?.headers['x-request-id']).toBe(echo.headers['x-request-id']);
  });

  it('sends the mirror the whole request body', async () => {
    const body = Buffer.alloc(40_000, 'b');
    const res = await nodeRequest(port, {
      method: 'POST',
      path: '/upload',
      headers: { host: 'web', 'content-type': 'application/octet-stream' },
      body,
    });
    const echo = JSON.parse(res.body.toString()) as Echo;
    expect(echo.bodySha256).toBe(sha256(body));
    await eventually(() => mirror.requests.some((r) => r.url === '/upload'));
    const copy = mirror.requests.find((r) => r.url === '/upload');
    expect(sha256((await copy?.bodyDone) ?? Buffer.alloc(0))).toBe(sha256(body));
  });

  it('answers the client while the mirror hangs, and drops the copy at its timeout', async () => {
    const dropped = stats.get('mirror_dropped');
    const res = await nodeRequest(port, { path: '/hang', headers: { host: 'web' } });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body.toString()) as Echo).url).toBe('/hang');
    await eventually(() => stats.get('mirror_dropped') === dropped + 1);
  });

  it('relays the primary answer when the mirror fails, counting the failure', async () => {
    const failed = stats.get('mirror_failed');
    const res = await nodeRequest(port, { path: '/fail', headers: { host: 'web' } });
    expect(res.status).toBe(200);
    expect(res.headers['x-trellis-error']).toBeUndefined();
    await eventually(() => stats.get('mirror_failed') === failed + 1);
    expect(primary.requests.filter((r) => r.url === '/fail')).toHaveLength(1);
  });
});
