// Graceful drain on real sockets: requests in flight when drain starts finish normally, HTTP/2
// clients get GOAWAY, new connections are refused, and drain resolves — at once when the last
// request is done, or at the drain deadline when one never finishes.
import type { ServerResponse } from 'node:http';
import { waitFor } from '@trellis/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { curl, h2Connect, h2Request, nodeRequest } from './int-testing/clients.js';
import { config, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import { startH1Upstream } from './int-testing/upstreams.js';
import type { Upstream } from './int-testing/upstreams.js';

let upstream: Upstream | undefined;
let gateway: TestGateway | undefined;
const stuck: ServerResponse[] = [];

afterEach(async () => {
  for (const res of stuck.splice(0)) res.destroy();
  await gateway?.close();
  await upstream?.close();
});

async function setup(drainTimeoutMs: number) {
  upstream = await startH1Upstream((req, res) => {
    if (req.url === '/stuck') {
      stuck.push(res);
      return;
    }
    // Every request is slow: 500 ms before the answer.
    const timer = setTimeout(() => res.end(`slow ${req.url}`), 500);
    res.once('close', () => clearTimeout(timer));
  });
  gateway = await startGateway({
    config: config(service('web', [upstream.port])),
    drainTimeoutMs,
  });
  return { upstream, gateway };
}

describe('drain', () => {
  it('lets in-flight requests finish, sends GOAWAY, refuses new connections, then resolves', async () => {
    const { upstream, gateway } = await setup(5_000);
    const session = await h2Connect(gateway.port);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    session.on('error', () => undefined);
    const h1InFlight = nodeRequest(gateway.port, { path: '/h1', headers: { host: 'web' } });
    const h2InFlight = h2Request(session, { authority: 'web', path: '/h2' });
    await waitFor(() => upstream.requests.length === 2, {
      timeoutMs: 5_000,
      what: 'both requests to reach the upstream',
    });

    let drained = false;
    const draining = gateway.sidecar.drain().then(() => (drained = true));
    await waitFor(() => goaway, { timeoutMs: 2_000, what: 'GOAWAY on the h2 connection' });
    expect(gateway.sidecar.ready).toBe(false);
    expect(drained).toBe(false);

    const refused = await curl([
      '--connect-timeout',
      '2',
      '-H',
      'Host: web',
      `${gateway.origin}/new`,
    ]);
    expect(refused.exitCode).toBe(7); // CURLE_COULDNT_CONNECT
    await expect(h2Request(session, { authority: 'web', path: '/after-goaway' })).rejects.toThrow();

    const h1 = await h1InFlight;
    expect(h1.status).toBe(200);
    expect(h1.body.toString()).toBe('slow /h1');
    const h2 = await h2InFlight;
    expect(h2.status).toBe(200);
    expect(h2.body.toString()).toBe('slow /h2');

    await draining;
    expect(drained).toBe(true);
    expect(upstream.requests.map((r) => r.url).sort()).toEqual(['/h1', '/h2']);
    session.destroy();
  });

  it('forces the rest closed at the drain deadline', async () => {
    const { gateway } = await setup(300);
    const pending = nodeRequest(gateway.port, { path: '/stuck', headers: { host: 'web' } }).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await waitFor(() => stuck.length === 1, { timeoutMs: 5_000, what: 'the stuck request' });
    const started = Date.now();
    await gateway.sidecar.drain();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await pending).toBe('socket hang up');
  });
});
