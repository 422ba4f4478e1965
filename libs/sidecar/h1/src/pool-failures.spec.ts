import { Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '@trellis/time';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool } from './pool.js';
import { Collector, exchange, get } from './testing/collector.js';
import { readUntil, startHttpUpstream, startRawUpstream, waitFor } from './testing/servers.js';
import type { TestUpstream } from './testing/servers.js';
import type { H1PoolOptions } from './types.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(port: number, options: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({
    host: '127.0.0.1',
    port,
    maxConnections: 2,
    connectTimeoutMs: 1_000,
    idleTimeoutMs: 30_000,
    responseTimeoutMs: 5_000,
    ...options,
  });
  cleanups.push(() => p.destroy());
  return p;
}

async function raw(onConnection: (socket: Socket) => void): Promise<TestUpstream> {
  const upstream = await startRawUpstream(onConnection);
  cleanups.push(() => upstream.close());
  return upstream;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** Answers each request (one per head) with `respond(n)`, n counting from 1 per connection. */
function perRequest(respond: (socket: Socket, n: number) => void): (socket: Socket) => void {
  return (socket) => {
    let seen = '';
    let n = 0;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      while (seen.includes('\r\n\r\n')) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
        respond(socket, ++n);
      }
    });
  };
}

describe('H1Pool connect failures', () => {
  it('reports TRL_H1_CONNECT_REFUSED, retriable, when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const p = pool(port);
    const outcome = await exchange(p, get('/')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECT_REFUSED');
    expect(outcome.error?.retriable).toBe(true);
    expect(p.stats()).toMatchObject({ open: 0, created: 1 });
  });

  it('reports TRL_H1_CONNECT_TIMEOUT when the connect never completes', async () => {
    const clock = new FakeClock();
    const dialled: Socket[] = [];
    // A dialer whose socket never connects stands in for a peer that never accepts.
    const p = pool(1, {
      clock,
      dial: () => {
        const socket = new Socket();
        dialled.push(socket);
        return socket;
      },
    });
    const run = exchange(p, get('/'));
    clock.advance(999);
    expect(run.collector.outcome.calls).toEqual([]);
    clock.advance(1);
    const outcome = await run.done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECT_TIMEOUT');
    expect(outcome.error?.retriable).toBe(true);
    expect(dialled[0]?.destroyed).toBe(true);
    expect(p.stats().open).toBe(0);
  });

  it('dials again for a queued request when a connect fails', async () => {
    const clock = new FakeClock();
    const p = pool(1, { clock, maxConnections: 1, dial: () => new Socket() });
    const first = exchange(p, get('/1'));
    const second = exchange(p, get('/2'));
    expect(p.stats()).toMatchObject({ connecting: 1, queued: 1 });
    clock.advance(1_000);
    expect((await first.done).error?.code).toBe('TRL_H1_CONNECT_TIMEOUT');
    expect(p.stats()).toMatchObject({ connecting: 1, queued: 0, created: 2 });
    clock.advance(1_000);
    expect((await second.done).error?.code).toBe('TRL_H1_CONNECT_TIMEOUT');
  });
});

describe('H1Pool response timeout', () => {
  it('fails with TRL_H1_RESPONSE_TIMEOUT when the upstream never answers', async () => {
    const clock = new FakeClock();
    const got: string[] = [];
    const upstream = await raw(
      (socket) => void readUntil(socket, '\r\n\r\n').then((s) => got.push(s)),
    );
    const p = pool(upstream.port, { clock });
    const run = exchange(p, get('/slow'));
    await waitFor(() => got.length === 1);
    clock.advance(4_999);
    expect(run.collector.outcome.calls).toEqual([]);
    clock.advance(1);
    const outcome = await run.done;
    expect(outcome.error?.code).toBe('TRL_H1_RESPONSE_TIMEOUT');
    expect(outcome.error?.responseStarted).toBe(false);
    expect(p.stats().open).toBe(0);
    await waitFor(() => upstream.sockets.size === 0);
  });

  it('re-arms the timeout on every read, so a slow but live response completes', async () => {
    const clock = new FakeClock();
    let server: Socket | null = null;
    const upstream = await raw(
      perRequest((socket) => {
        server = socket;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab');
      }),
    );
    const p = pool(upstream.port, { clock });
    const run = exchange(p, get('/'));
    await waitFor(() => run.collector.outcome.calls.includes('data'));
    clock.advance(4_000);
    (server as Socket | null)?.write('c');
    await waitFor(() => run.collector.chunks.length === 2);
    clock.advance(4_000);
    (server as Socket | null)?.write('d');
    const outcome = await run.done;
    expect(outcome.error).toBeNull();
    expect(outcome.body.toString()).toBe('abcd');
  });

  it('suspends the timeout while the consumer has paused reading', async () => {
    const clock = new FakeClock();
    let server: Socket | null = null;
    const upstream = await raw(
      perRequest((socket) => {
        server = socket;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab');
      }),
    );
    const p = pool(upstream.port, { clock });
    const run = exchange(p, get('/'));
    await waitFor(() => run.collector.outcome.calls.includes('data'));
    run.handle.pause();
    clock.advance(20_000);
    expect(run.collector.outcome.error).toBeNull();
    (server as Socket | null)?.write('cd');
    run.handle.resume();
    const outcome = await run.done;
    expect(outcome.body.toString()).toBe('abcd');
  });

  it('reports responseStarted when the timeout hits mid-body', async () => {
    const clock = new FakeClock();
    const upstream = await raw(
      perRequest((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npart')),
    );
    const p = pool(upstream.port, { clock });
    const run = exchange(p, get('/'));
    await waitFor(() => run.collector.outcome.calls.includes('data'));
    clock.advance(5_000);
    const outcome = await run.done;
    expect(outcome.calls).toEqual(['head:200', 'data', 'error:TRL_H1_RESPONSE_TIMEOUT']);
    expect(outcome.error?.responseStarted).toBe(true);
  });
});

describe('H1Pool idle connections', () => {
  it('closes an idle connection after idleTimeoutMs', async () => {
    const clock = new FakeClock();
    const upstream = await raw(perRequest((socket) => socket.write(OK)));
    const p = pool(upstream.port, { clock });
    await exchange(p, get('/')).done;
    clock.advance(29_999);
    expect(p.stats().idle).toBe(1);
    clock.advance(1);
    expect(p.stats()).toMatchObject({ open: 0, idle: 0 });
    await waitFor(() => upstream.sockets.size === 0);
  });

  it('keeps a reused connection alive from its last use, not its first', async () => {
    const clock = new FakeClock();
    const upstream = await raw(perRequest((socket) => socket.write(OK)));
    const p = pool(upstream.port, { clock });
    await exchange(p, get('/1')).done;
    clock.advance(20_000);
    await exchange(p, get('/2')).done;
    clock.advance(20_000);
    expect(p.stats().idle).toBe(1);
    clock.advance(10_000);
    expect(p.stats().idle).toBe(0);
  });

  it('drops an idle connection the upstream closed; the next request dials anew', async () => {
    const upstream = await startHttpUpstream((_req, res) => res.end('x'));
    cleanups.push(() => upstream.close());
    const p = pool(upstream.port);
    await exchange(p, get('/1')).done;
    for (const socket of upstream.sockets) socket.end();
    await waitFor(() => p.stats().open === 0);
    const outcome = await exchange(p, get('/2')).done;
    expect(outcome.body.toString()).toBe('x');
    expect(upstream.connections()).toBe(2);
    expect(p.stats().reused).toBe(0);
  });

  it('drops an idle connection that receives bytes nobody asked for', async () => {
    let server: Socket | null = null;
    const upstream = await raw(
      perRequest((socket) => {
        server = socket;
        socket.write(OK);
      }),
    );
    const p = pool(upstream.port);
    await exchange(p, get('/')).done;
    (server as Socket | null)?.write('HTTP/1.1 200 OK\r\n\r\n');
    await waitFor(() => p.stats().open === 0);
    await waitFor(() => upstream.sockets.size === 0);
  });

  it('does not reuse a connection that sent bytes past the response', async () => {
    const upstream = await raw(perRequest((socket) => socket.write(`${OK}junk`)));
    const p = pool(upstream.port);
    const outcome = await exchange(p, get('/')).done;
    expect(outcome.body.toString()).toBe('ok');
    expect(p.stats().open).toBe(0);
  });
});

describe('H1Pool resets', () => {
  it('marks a reset on a reused connection before any response byte as retriable', async () => {
    // The keep-alive race: the upstream closes the idle connection as the request arrives.
    const upstream = await raw(
      perRequest((socket, n) => {
        if (n === 1) socket.write(OK);
        else socket.destroy();
      }),
    );
    const p = pool(upstream.port);
    await exchange(p, get('/1')).done;
    const outcome = await exchange(p, get('/2')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECTION_RESET');
    expect(outcome.error?.retriable).toBe(true);
    expect(outcome.error?.reusedConnection).toBe(true);
    expect(outcome.error?.responseStarted).toBe(false);
    expect(p.stats().open).toBe(0);
  });

  it('marks a reset with a hard RST the same way', async () => {
    const upstream = await raw(
      perRequest((socket, n) => {
        if (n === 1) socket.write(OK);
        else socket.resetAndDestroy();
      }),
    );
    const p = pool(upstream.port);
    await exchange(p, get('/1')).done;
    const outcome = await exchange(p, get('/2')).done;
    expect([outcome.error?.code, outcome.error?.retriable]).toEqual([
      'TRL_H1_CONNECTION_RESET',
      true,
    ]);
  });

  /** A POST with a Content-Length body, as the proxy sends one. */
  const post = { method: 'POST', path: '/order', headers: ['content-length', '5'], hasBody: true };

  /** A pool whose one connection served a request and sits idle; `heads` counts what arrived. */
  async function idleConnection() {
    const heads: number[] = [];
    const upstream = await raw(
      perRequest((socket, n) => {
        heads.push(n);
        if (n === 1) socket.write(OK);
        else socket.destroy();
      }),
    );
    const p = pool(upstream.port);
    await exchange(p, get('/1')).done;
    const [server] = upstream.sockets;
    return { p, heads, server: server as Socket };
  }

  it('reports requestWritten false when the upstream reset the idle connection before the request', async () => {
    const { p, heads, server } = await idleConnection();
    // The reset is in the kernel but not yet read: the pool still holds the connection.
    server.resetAndDestroy();
    const outcome = await exchange(p, post, Buffer.from('hello')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECTION_RESET');
    expect(outcome.error?.reusedConnection).toBe(true);
    expect(outcome.error?.requestWritten).toBe(false);
    expect(outcome.error?.responseStarted).toBe(false);
    expect(heads).toEqual([1]);
    expect(p.stats()).toMatchObject({ open: 0, reused: 1 });
  });

  it('reports requestWritten true when the upstream closed the reused connection after reading the request', async () => {
    const { p, heads } = await idleConnection();
    const outcome = await exchange(p, post, Buffer.from('hello')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECTION_RESET');
    expect(outcome.error?.reusedConnection).toBe(true);
    expect(outcome.error?.requestWritten).toBe(true);
    expect(outcome.error?.responseStarted).toBe(false);
    expect(heads).toEqual([1, 2]);
  });

  it('reports requestWritten true for a write to an idle connection the upstream had closed (FIN)', async () => {
    // The socket takes the bytes; only the upstream's answering reset says they were dropped,
    // which cannot be told apart from a request read and then abandoned.
    const { p, heads, server } = await idleConnection();
    server.destroy();
    const outcome = await exchange(p, post, Buffer.from('hello')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECTION_RESET');
    expect(outcome.error?.requestWritten).toBe(true);
    expect(heads).toEqual([1]);
  });

  it('reports requestWritten false for a connect failure', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const outcome = await exchange(pool(port), post, Buffer.from('hello')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECT_REFUSED');
    expect(outcome.error?.requestWritten).toBe(false);
  });

  it('does not mark a reset on a fresh connection as retriable', async () => {
    const upstream = await raw(perRequest((socket) => socket.destroy()));
    const outcome = await exchange(pool(upstream.port), get('/')).done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECTION_RESET');
    expect(outcome.error?.retriable).toBe(false);
    expect(outcome.error?.reusedConnection).toBe(false);
  });

  it('does not mark a reset mid-response as retriable', async () => {
    const upstream = await raw(
      perRequest((socket, n) => {
        if (n === 1) socket.write(OK);
        else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      }),
    );
    const p = pool(upstream.port);
    await exchange(p, get('/1')).done;
    const outcome = await exchange(p, get('/2')).done;
    expect(outcome.calls).toEqual(['head:200', 'data', 'error:TRL_H1_CONNECTION_RESET']);
    expect(outcome.error?.retriable).toBe(false);
    expect(outcome.error?.responseStarted).toBe(true);
  });

  it('ends a body delimited by the close at the close', async () => {
    const upstream = await raw(
      perRequest((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil close')),
    );
    const p = pool(upstream.port);
    const outcome = await exchange(p, get('/')).done;
    expect(outcome.keepAlive).toBe(false);
    expect(outcome.body.toString()).toBe('until close');
    expect(outcome.ended).toBe(true);
    expect(p.stats().open).toBe(0);
  });
});

describe('H1Pool malformed responses', () => {
  const cases: [string, string][] = [
    ['garbage status line', 'HTTZ/1.1 200 OK\r\n\r\n'],
    ['both framings', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc'],
    ['bad header byte', 'HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n'],
    ['unrequested 101', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
    ['oversized head', `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`],
  ];

  it.each(cases)(
    'rejects %s with TRL_H1_PARSE_ERROR and discards the socket',
    async (_n, bytes) => {
      const upstream = await raw(perRequest((socket) => socket.write(bytes, 'latin1')));
      const p = pool(upstream.port);
      const outcome = await exchange(p, get('/')).done;
      expect(outcome.error?.code).toBe('TRL_H1_PARSE_ERROR');
      expect(outcome.error?.retriable).toBe(false);
      expect(p.stats().open).toBe(0);
      await waitFor(() => upstream.sockets.size === 0);
    },
  );

  it('delivers a parse error found mid-body after the head', async () => {
    const upstream = await raw(
      perRequest((socket) =>
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX'),
      ),
    );
    const collector = new Collector();
    pool(upstream.port).request(get('/'), collector);
    const outcome = await collector.done;
    expect(outcome.calls).toEqual(['head:200', 'data', 'error:TRL_H1_PARSE_ERROR']);
  });
});
