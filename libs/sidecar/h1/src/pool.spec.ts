import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Error } from './errors.js';
import { H1Pool } from './pool.js';
import { Collector, exchange, get } from './testing/collector.js';
import { startHttpUpstream, waitFor } from './testing/servers.js';
import type { TestUpstream } from './testing/servers.js';
import type { H1PoolOptions } from './types.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(upstream: TestUpstream, options: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({
    host: '127.0.0.1',
    port: upstream.port,
    maxConnections: 4,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
    ...options,
  });
  cleanups.push(() => p.destroy());
  return p;
}

/** An upstream that answers `/held` only when the test says so, everything else at once. */
async function heldUpstream(): Promise<TestUpstream & { held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const upstream = await startHttpUpstream((req, res) => {
    res.setHeader('X-Client-Port', String(req.socket.remotePort));
    if (req.url === '/held') held.push(res);
    else res.end(`hello ${req.url}`);
  });
  cleanups.push(() => upstream.close());
  return Object.assign(upstream, { held });
}

function header(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]?.toLowerCase() === name) return headers[i + 1];
  }
  return undefined;
}

describe('H1Pool keep-alive reuse', () => {
  it('sends sequential requests over one connection', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    const bodies: string[] = [];
    for (const path of ['/a', '/b', '/c']) {
      const outcome = await exchange(p, get(path)).done;
      bodies.push(outcome.body.toString());
    }
    expect(bodies).toEqual(['hello /a', 'hello /b', 'hello /c']);
    expect(upstream.connections()).toBe(1);
    expect(p.stats()).toEqual({
      open: 1,
      connecting: 0,
      busy: 0,
      idle: 1,
      queued: 0,
      created: 1,
      reused: 2,
      requests: 3,
    });
  });

  it('reports the response head, keep-alive and ordered callbacks', async () => {
    const upstream = await heldUpstream();
    const outcome = await exchange(pool(upstream), get('/x')).done;
    expect(outcome.status).toBe(200);
    expect(outcome.reason).toBe('OK');
    expect(outcome.keepAlive).toBe(true);
    expect(header(outcome.headers, 'content-length')).toBe('8');
    expect(outcome.calls).toEqual(['head:200', 'data', 'end']);
  });

  it('reuses the most recently released idle connection first', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    const first = exchange(p, get('/held'));
    const second = exchange(p, get('/held'));
    await waitFor(() => upstream.held.length === 2);
    upstream.held[0]?.end();
    const a = await first.done;
    upstream.held[1]?.end();
    const b = await second.done;
    const c = await exchange(p, get('/next')).done;
    expect(header(c.headers, 'x-client-port')).toBe(header(b.headers, 'x-client-port'));
    expect(header(c.headers, 'x-client-port')).not.toBe(header(a.headers, 'x-client-port'));
  });

  it('retires a connection after maxRequestsPerConnection', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream, { maxRequestsPerConnection: 2 });
    for (const path of ['/1', '/2', '/3']) await exchange(p, get(path)).done;
    expect(upstream.connections()).toBe(2);
    expect(p.stats().created).toBe(2);
  });

  it('closes the connection when the upstream answers Connection: close', async () => {
    const upstream = await startHttpUpstream((_req, res) => {
      res.setHeader('Connection', 'close');
      res.end('bye');
    });
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const first = await exchange(p, get('/1')).done;
    const second = await exchange(p, get('/2')).done;
    expect([first.keepAlive, second.keepAlive]).toEqual([false, false]);
    expect(second.body.toString()).toBe('bye');
    expect(upstream.connections()).toBe(2);
    expect(p.stats().open).toBe(0);
  });

  it('closes the connection after a request that carried Connection: close', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    await exchange(p, get('/1', ['Connection', 'close'])).done;
    expect(p.stats().open).toBe(0);
  });
});

describe('H1Pool responses without body', () => {
  it('handles HEAD, 204 and 304 on one kept-alive connection', async () => {
    const upstream = await startHttpUpstream((req, res) => {
      if (req.method === 'HEAD') {
        res.setHeader('Content-Length', '11');
        res.end();
      } else if (req.url === '/204') {
        res.writeHead(204).end();
      } else {
        res.writeHead(304, { ETag: '"v1"' }).end();
      }
    });
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const head = await exchange(p, { method: 'HEAD', path: '/', headers: [], hasBody: false }).done;
    const noContent = await exchange(p, get('/204')).done;
    const notModified = await exchange(p, get('/304', ['If-None-Match', '"v1"'])).done;
    expect([head.status, noContent.status, notModified.status]).toEqual([200, 204, 304]);
    expect(header(head.headers, 'content-length')).toBe('11');
    expect([head.body.length, noContent.body.length, notModified.body.length]).toEqual([0, 0, 0]);
    expect([head.calls, noContent.calls, notModified.calls]).toEqual([
      ['head:200', 'end'],
      ['head:204', 'end'],
      ['head:304', 'end'],
    ]);
    expect(upstream.connections()).toBe(1);
  });
});

describe('H1Pool chunked responses', () => {
  it('delivers a chunked body and its trailers', async () => {
    const upstream = await startHttpUpstream((_req, res) => {
      res.setHeader('Trailer', 'X-Checksum');
      res.write('first,');
      res.write('second');
      res.addTrailers({ 'X-Checksum': 'abc123' });
      res.end();
    });
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const outcome = await exchange(p, get('/')).done;
    expect(header(outcome.headers, 'transfer-encoding')).toBe('chunked');
    expect(outcome.body.toString()).toBe('first,second');
    expect(outcome.trailers).toEqual(['X-Checksum', 'abc123']);
    expect(outcome.calls).toEqual(['head:200', 'data', 'trailers', 'end']);
    await exchange(p, get('/again')).done;
    expect(upstream.connections()).toBe(1);
  });
});

describe('H1Pool concurrency and queueing', () => {
  it('opens up to maxConnections, then queues in FIFO order', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream, { maxConnections: 2 });
    const order: string[] = [];
    const runs = ['/held', '/held', '/q1', '/q2'].map((path, i) => {
      const run = exchange(p, get(path));
      void run.done.then(() => order.push(`${i}`));
      return run;
    });
    await waitFor(() => upstream.held.length === 2);
    expect(p.stats()).toEqual({
      open: 2,
      connecting: 0,
      busy: 2,
      idle: 0,
      queued: 2,
      created: 2,
      reused: 0,
      requests: 2,
    });
    upstream.held[1]?.end();
    await runs[1]?.done;
    await runs[2]?.done;
    await runs[3]?.done;
    expect(order).toEqual(['1', '2', '3']);
    upstream.held[0]?.end();
    await runs[0]?.done;
    expect(upstream.connections()).toBe(2);
    expect(p.stats()).toMatchObject({ open: 2, idle: 2, queued: 0, reused: 2, requests: 4 });
  });

  it('throws TRL_H1_POOL_QUEUE_FULL beyond maxQueued', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream, { maxConnections: 1, maxQueued: 1 });
    exchange(p, get('/held'));
    exchange(p, get('/queued'));
    let thrown: unknown = null;
    try {
      p.request(get('/third'), new Collector());
    } catch (err) {
      thrown = err;
    }
    expect((thrown as H1Error).code).toBe('TRL_H1_POOL_QUEUE_FULL');
    expect(p.stats().queued).toBe(1);
  });

  it('drops an aborted queued request without a callback', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream, { maxConnections: 1 });
    const held = exchange(p, get('/held'));
    const queued = exchange(p, get('/never'));
    await waitFor(() => upstream.held.length === 1);
    queued.handle.abort();
    expect(p.stats().queued).toBe(0);
    upstream.held[0]?.end();
    await held.done;
    const after = await exchange(p, get('/after')).done;
    expect(after.body.toString()).toBe('hello /after');
    expect(queued.collector.outcome.calls).toEqual([]);
  });
});

describe('H1Pool abort', () => {
  it('destroys the connection of an aborted in-flight request, silently', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    const run = exchange(p, get('/held'));
    await waitFor(() => upstream.held.length === 1);
    run.handle.abort();
    expect(p.stats().open).toBe(0);
    await waitFor(() => upstream.sockets.size === 0);
    expect(run.collector.outcome.calls).toEqual([]);
  });

  it('stops the callbacks when the handler aborts from inside onData', async () => {
    const upstream = await startHttpUpstream((_req, res) => {
      res.write('a'.repeat(1000));
      setImmediate(() => res.end('b'.repeat(1000)));
    });
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const collector = new Collector();
    const handle = p.request(get('/'), collector);
    collector.onChunk = () => handle.abort();
    await waitFor(() => collector.outcome.calls.includes('data'));
    await waitFor(() => upstream.sockets.size === 0);
    expect(collector.outcome.calls).toEqual(['head:200', 'data']);
    expect(p.stats().open).toBe(0);
  });
});

describe('H1Pool close and destroy', () => {
  it('close() refuses new requests, drains in-flight ones, then resolves', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    await exchange(p, get('/warm')).done;
    const run = exchange(p, get('/held'));
    await waitFor(() => upstream.held.length === 1);
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    expect(() => p.request(get('/late'), new Collector())).toThrow(H1Error);
    expect(closed).toBe(false);
    upstream.held[0]?.end();
    const outcome = await run.done;
    await closing;
    expect(outcome.ended).toBe(true);
    expect(p.stats().open).toBe(0);
  });

  it('close() resolves at once on an idle pool', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    await exchange(p, get('/warm')).done;
    await p.close();
    expect(p.stats().open).toBe(0);
    await waitFor(() => upstream.sockets.size === 0);
  });

  it('destroy() fails in-flight and queued requests with TRL_H1_POOL_CLOSED', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream, { maxConnections: 1 });
    const inflight = exchange(p, get('/held'));
    const queued = exchange(p, get('/queued'));
    await waitFor(() => upstream.held.length === 1);
    p.destroy();
    const [a, b] = await Promise.all([inflight.done, queued.done]);
    expect([a.error?.code, b.error?.code]).toEqual(['TRL_H1_POOL_CLOSED', 'TRL_H1_POOL_CLOSED']);
    expect(p.stats()).toMatchObject({ open: 0, queued: 0 });
  });
});

describe('H1Pool validation', () => {
  it.each([
    ['maxConnections 0', { maxConnections: 0 }],
    ['fractional maxConnections', { maxConnections: 1.5 }],
    ['port 70000', { port: 70_000 }],
    ['negative connect timeout', { connectTimeoutMs: -1 }],
    ['NaN idle timeout', { idleTimeoutMs: Number.NaN }],
    ['maxRequestsPerConnection 0', { maxRequestsPerConnection: 0 }],
    ['empty host', { host: '' }],
  ] as [string, Partial<H1PoolOptions>][])('rejects %s', (_name, bad) => {
    const options: H1PoolOptions = {
      host: '127.0.0.1',
      port: 80,
      maxConnections: 1,
      connectTimeoutMs: 1,
      idleTimeoutMs: 1,
      ...bad,
    };
    expect(() => new H1Pool(options)).toThrow(
      expect.objectContaining({ code: 'TRL_H1_INVALID_OPTIONS' }),
    );
  });

  it('throws TRL_H1_INVALID_REQUEST for an upgrade request without onUpgrade', async () => {
    const upstream = await heldUpstream();
    const p = pool(upstream);
    const handler = {
      onResponseHead: () => undefined,
      onData: () => undefined,
      onTrailers: () => undefined,
      onEnd: () => undefined,
      onError: () => undefined,
    };
    expect(() =>
      p.request(get('/ws', ['Connection', 'Upgrade', 'Upgrade', 'websocket']), handler),
    ).toThrow(expect.objectContaining({ code: 'TRL_H1_INVALID_REQUEST' }));
    expect(p.stats().requests).toBe(0);
  });

  it('sends a default Host of host:port', async () => {
    const upstream = await startHttpUpstream((req, res) => res.end(req.headers.host));
    cleanups.push(() => upstream.close());
    const outcome = await exchange(pool(upstream), get('/')).done;
    expect(outcome.body.toString()).toBe(`127.0.0.1:${upstream.port}`);
  });
});
