// Upstreams at the edges of the protocols, through the gateway: HTTP/1.1 bodies delimited by
// the connection close, interim 1xx answers, invalid responses, early answers, keep-alive
// connections the upstream closes; h2c upstreams with few stream slots, refused streams and
// restarts.
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, h2Connect, h2Request, nodeRequest } from './int-testing/clients.js';
import { config, doc, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import { startH1Upstream, startH2Upstream } from './int-testing/upstreams.js';
import type { Upstream } from './int-testing/upstreams.js';

/** A raw TCP upstream that answers each connection's first request with `reply(path)`. */
async function rawUpstream(
  reply: (path: string) => string,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '/';
      head = '';
      const text = reply(path);
      if (text.endsWith('<close>')) socket.end(text.slice(0, -'<close>'.length));
      else socket.write(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let raw: Awaited<ReturnType<typeof rawUpstream>>;
let shortKeepAlive: Upstream;
let narrow: Upstream;
let bigHeaders: Upstream;
let refusing: Upstream;
let gateway: TestGateway;
let refusedOnce = new Set<string>();

beforeAll(async () => {
  raw = await rawUpstream((path) => {
    switch (path) {
      case '/close-delimited':
        return 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nuntil the end<close>';
      case '/early-hints':
        return 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal';
      case '/cl-and-te':
        return 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
      case '/two-lengths':
        return 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\nhello';
      case '/bad-status':
        return 'HTTP/1.1 2000 Nope\r\ncontent-length: 0\r\n\r\n';
      case '/garbage':
        return 'this is not http\r\n\r\n<close>';
      default:
        return 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n';
    }
  });
  shortKeepAlive = await startH1Upstream((req, res) => {
    if (req.url === '/early-answer-close') {
      // Answers before the body has arrived and closes, as a server refusing an upload does.
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      res.end('too big');
      return;
    }
    if (req.url === '/early-answer') {
      // Answers before the body has arrived, then reads (and drops) the rest of it.
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('who are you');
      return;
    }
    res.end('ok');
  });
  bigHeaders = await startH2Upstream((stream, headers, seen) => {
    const path = String(headers[':path']);
    if (path === '/goaway') {
      // Answers, then asks the client to go away: the next request needs a new connection.
      stream.respond({ ':status': 200 });
      stream.end('bye');
      stream.session?.close();
      return;
    }
    stream.respond({
      ':status': 200,
      'x-big-response': 'r'.repeat(30 * 1024),
      'x-got-request-header-length': String(String(seen.headers['x-big-request'] ?? '').length),
    });
    stream.end('big');
  });
  narrow = await startH2Upstream(
    (stream, headers) => {
      const timer = setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end(String(headers[':path']));
      }, 20);
      stream.once('close', () => clearTimeout(timer));
    },
    { maxConcurrentStreams: 5 },
  );
  refusing = await startH2Upstream((stream, headers) => {
    const path = String(headers[':path']);
    if (!refusedOnce.has(path)) {
      refusedOnce.add(path);
      stream.close(0x7); // REFUSED_STREAM: the upstream did not process it
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end('second try');
  });
  gateway = await startGateway({
    config: config(
      service('raw', [raw.port]),
      service('short', [shortKeepAlive.port]),
      service('narrow', [narrow.port], { protocol: 'h2c' }),
      service('big', [bigHeaders.port], { protocol: 'h2c' }),
      service('refusing', [refusing.port], { protocol: 'h2c' }),
      doc('Route', 'refusing', {
        hosts: ['refusing'],
        destinations: [{ service: 'refusing' }],
        retries: { attempts: 2, retryOn: ['refused-stream'] },
      }),
    ),
  });
});

afterAll(async () => {
  await gateway.close();
  await raw.close();
  await shortKeepAlive.close();
  await narrow.close();
  await bigHeaders.close();
  await refusing.close();
});

describe('HTTP/1.1 upstream edges', () => {
  it('relays a body delimited by the upstream closing the connection', async () => {
    const res = await curl(['-H', 'Host: raw', `${gateway.origin}/close-delimited`]);
    expect(res.status).toBe(200);
    expect(res.exitCode).toBe(0);
    expect(res.body.toString()).toBe('until the end');
  });

  it('relays an upstream 103 ahead of the final answer', async () => {
    const res = await curl(['-H', 'Host: raw', `${gateway.origin}/early-hints`]);
    expect(res.interim).toEqual([103]);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('final');
  });

  it.each([
    ['Content-Length and Transfer-Encoding', '/cl-and-te'],
    ['two different Content-Lengths', '/two-lengths'],
    ['a four-digit status', '/bad-status'],
    ['bytes that are not HTTP', '/garbage'],
  ])('answers 502 upstream-protocol-error for %s', async (_name, path) => {
    const res = await curl(['-H', 'Host: raw', `${gateway.origin}${path}`]);
    expect(res.status).toBe(502);
    expect(res.headers['x-trellis-error']).toBe('upstream-protocol-error');
  });

  it('relays an answer the upstream sends before the request body arrived', async () => {
    const res = await nodeRequest(gateway.port, {
      method: 'POST',
      path: '/early-answer',
      headers: { host: 'short', 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(4 * 1024 * 1024, 1),
    });
    expect(res.status).toBe(401);
    expect(res.body.toString()).toBe('who are you');
  });

  // The upstream answers 413 with Connection: close while the body is still streaming, then
  // closes: the next body write fails with EPIPE. The pool's socket survives the failed write
  // and reads on, so the 413 already in the receive buffer reaches the client.
  it('relays an early 413 + Connection: close while the body is still streaming', async () => {
    const res = await nodeRequest(gateway.port, {
      method: 'POST',
      path: '/early-answer-close',
      headers: { host: 'short', 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(4 * 1024 * 1024, 1),
    });
    expect(res.status).toBe(413);
    expect(res.body.toString()).toBe('too big');
  });
});

describe('h2c upstream edges', () => {
  it('queues past the upstream MAX_CONCURRENT_STREAMS and answers every request', async () => {
    const session = await h2Connect(gateway.port);
    try {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          h2Request(session, { authority: 'narrow', path: `/n/${i}` }),
        ),
      );
      results.forEach((res, i) => {
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe(`/n/${i}`);
      });
    } finally {
      session.destroy();
    }
  });

  it('carries 30 KiB header fields both ways (CONTINUATION frames)', async () => {
    const session = await h2Connect(gateway.port);
    try {
      const res = await h2Request(session, {
        authority: 'big',
        path: '/big',
        headers: { 'x-big-request': 'q'.repeat(30 * 1024) },
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-got-request-header-length']).toBe(String(30 * 1024));
      expect(String(res.headers['x-big-response']).length).toBe(30 * 1024);
    } finally {
      session.destroy();
    }
    const h1 = await curl(['-H', 'Host: big', `${gateway.origin}/big`]);
    expect(h1.status).toBe(200);
    expect(h1.headers['x-big-response']?.length).toBe(30 * 1024);
  });

  it('moves to a new upstream connection after the upstream sends GOAWAY', async () => {
    const before = bigHeaders.connections();
    for (let i = 0; i < 3; i++) {
      const res = await nodeRequest(gateway.port, { path: '/goaway', headers: { host: 'big' } });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('bye');
    }
    expect(bigHeaders.connections() - before).toBeGreaterThanOrEqual(2);
  });

  it('retries a stream the upstream refused', async () => {
    refusedOnce = new Set();
    const res = await nodeRequest(gateway.port, { path: '/r1', headers: { host: 'refusing' } });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('second try');
  });

  it('recovers when the h2c upstream restarts', async () => {
    const first = await nodeRequest(gateway.port, { path: '/before', headers: { host: 'narrow' } });
    expect(first.status).toBe(200);
    await narrow.close();
    const down = await nodeRequest(gateway.port, { path: '/down', headers: { host: 'narrow' } });
    expect(down.status).toBe(503);
    expect(down.headers['x-trellis-error']).toBe('upstream-connect-failure');
    await narrow.listen();
    const after = await nodeRequest(gateway.port, { path: '/after', headers: { host: 'narrow' } });
    expect(after.status).toBe(200);
    expect(after.body.toString()).toBe('/after');
  });
});
