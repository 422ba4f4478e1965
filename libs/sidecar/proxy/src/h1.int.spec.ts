// HTTP/1.1 clients through a real gateway to a real HTTP/1.1 upstream, on 127.0.0.1 sockets:
// connection reuse, large chunked bodies both ways, bodiless responses, 100-continue, routing
// by host and port, rewrites and local answers, header hygiene, and every proxy-made error.
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, nodeRequest, rawExchange, statusLines } from './int-testing/clients.js';
import { config, doc, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import { echoH1, sha256, startH1Upstream } from './int-testing/upstreams.js';
import type { Echo, H1Handler, Upstream } from './int-testing/upstreams.js';

const BIG = randomBytes(10 * 1024 * 1024);
const held: ServerResponse[] = [];

/** Streams `data` in 64 KiB writes, honouring back-pressure. */
function writeSlices(res: ServerResponse, data: Buffer): void {
  let offset = 0;
  const pump = () => {
    while (offset < data.length) {
      const slice = data.subarray(offset, offset + 64 * 1024);
      offset += slice.length;
      if (!res.write(slice)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const handler: H1Handler = (req, res, seen) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  switch (url.pathname) {
    case '/big':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      writeSlices(res, BIG);
      return;
    case '/stream-back':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    case '/len':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
      res.end('hello');
      return;
    case '/status':
      res.writeHead(Number(url.searchParams.get('code')), { etag: '"v1"' });
      res.end();
      return;
    case '/hop':
      res.writeHead(200, [
        ['connection', 'x-resp-private'],
        ['x-resp-private', 'leak'],
        ['keep-alive', 'timeout=9'],
        ['proxy-connection', 'keep-alive'],
        ['x-resp-public', 'ok'],
        ['content-length', '2'],
      ]);
      res.end('ok');
      return;
    case '/reset':
    case '/reset-chunked':
      res.writeHead(
        200,
        url.pathname === '/reset' ? { 'content-length': '100000' } : { 'x-framing': 'chunked' },
      );
      res.write(Buffer.alloc(1000, 97));
      setTimeout(() => req.socket.destroy(), 50);
      return;
    case '/slow/x': {
      const timer = setTimeout(() => res.end('late'), 3_000);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    case '/hold':
      held.push(res);
      return;
    default:
      echoH1(req, res, seen);
  }
};

let upstream: Upstream;
let gateway: TestGateway;
let deadPort: number;

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  upstream = await startH1Upstream(handler);
  deadPort = await unusedPort();
  gateway = await startGateway({
    config: config(
      service('web', [upstream.port]),
      service('tight', [upstream.port]),
      service('dead', [deadPort]),
      doc('DestinationPolicy', 'tight', {
        service: 'tight',
        connectionPool: { maxActiveRequests: 1 },
      }),
      doc('Route', 'wild', { hosts: ['*.example.com'], destinations: [{ service: 'web' }] }),
      doc('Route', 'ported', {
        hosts: ['ported.example.org:8080'],
        directResponse: { status: 200, body: 'port 8080', contentType: 'text/plain' },
      }),
      doc('Route', 'rewrite', {
        hosts: ['web'],
        match: { path: { prefix: '/old/' } },
        destinations: [{ service: 'web' }],
        rewrite: { prefix: '/new/', host: 'internal.web' },
        requestHeaders: {
          set: { 'x-set': 'set-value' },
          add: { 'x-added': 'added-value' },
          remove: ['x-remove-me'],
        },
        responseHeaders: { set: { 'x-edited': 'yes' }, remove: ['content-type'] },
      }),
      doc('Route', 'moved', {
        hosts: ['web'],
        match: { path: { exact: '/moved' } },
        redirect: { status: 301, path: '/new-home' },
      }),
      doc('Route', 'direct', {
        hosts: ['web'],
        match: { path: { exact: '/direct' } },
        directResponse: { status: 203, body: 'direct body', contentType: 'text/x-direct' },
        responseHeaders: { add: { 'x-direct': '1' } },
      }),
      doc('Route', 'slow', {
        hosts: ['web'],
        match: { path: { prefix: '/slow/' } },
        destinations: [{ service: 'web' }],
        timeout: '200ms',
      }),
      doc('Route', 'fault', {
        hosts: ['web'],
        match: { path: { prefix: '/fault' } },
        destinations: [{ service: 'web' }],
        fault: { abort: { percent: 100, httpStatus: 418 } },
      }),
      doc('Route', 'limited', {
        hosts: ['web'],
        match: { path: { prefix: '/limited' } },
        destinations: [{ service: 'web' }],
      }),
      doc('RateLimit', 'limited', {
        route: 'limited',
        tokenBucket: { maxTokens: 2, tokensPerFill: 1, fillInterval: '1h' },
      }),
    ),
  });
});

afterAll(async () => {
  for (const res of held) res.destroy();
  await gateway.close();
  await upstream.close();
});

const echoOf = (body: Buffer): Echo => JSON.parse(body.toString()) as Echo;

describe('connections and bodies', () => {
  it('reuses one client connection and one upstream connection for sequential requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = upstream.connections();
    const ports = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const res = await nodeRequest(gateway.port, {
        path: `/echo/${i}`,
        headers: { host: 'web' },
        agent,
      });
      expect(res.status).toBe(200);
      expect(echoOf(res.body).url).toBe(`/echo/${i}`);
      ports.add(res.localPort);
    }
    agent.destroy();
    expect(ports.size).toBe(1);
    expect(upstream.connections() - before).toBeLessThanOrEqual(1);
  });

  it('forwards a 10 MiB chunked request body intact', async () => {
    const res = await curl(
      [
        '-H',
        'Host: web',
        '-H',
        'Transfer-Encoding: chunked',
        '--data-binary',
        '@-',
        `${gateway.origin}/upload`,
      ],
      { input: BIG },
    );
    expect(res.status).toBe(200);
    const echo = echoOf(res.body);
    expect(echo.bodyLength).toBe(BIG.length);
    expect(echo.bodySha256).toBe(sha256(BIG));
    expect(echo.headers['transfer-encoding']).toBe('chunked');
  });

  it('streams a 10 MiB chunked response intact', async () => {
    const res = await nodeRequest(gateway.port, { path: '/big', headers: { host: 'web' } });
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body.length).toBe(BIG.length);
    expect(sha256(res.body)).toBe(sha256(BIG));
  });

  it('streams 10 MiB up and back at once (back-pressure both ways)', async () => {
    const res = await curl(
      [
        '-H',
        'Host: web',
        '-H',
        'Transfer-Encoding: chunked',
        '-H',
        'Content-Type: application/octet-stream',
        '--data-binary',
        '@-',
        `${gateway.origin}/stream-back`,
      ],
      { input: BIG, timeoutMs: 20_000 },
    );
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(BIG.length);
    expect(sha256(res.body)).toBe(sha256(BIG));
  });

  it('answers HEAD with the headers and no body, and the connection stays usable', async () => {
    const raw = await rawExchange(gateway.port, [
      'HEAD /len HTTP/1.1\r\nHost: web\r\n\r\n',
      'GET /len HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([200, 200]);
    const [head, get] = raw.text.split(/(?=HTTP\/1\.1 )/);
    expect(head).toMatch(/content-length: 5\r\n/i);
    expect(head?.endsWith('\r\n\r\n')).toBe(true);
    expect(get?.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('relays 204 and 304 without a body, keeping the connection in sync', async () => {
    const raw = await rawExchange(gateway.port, [
      'GET /status?code=204 HTTP/1.1\r\nHost: web\r\n\r\n',
      'GET /status?code=304 HTTP/1.1\r\nHost: web\r\nIf-None-Match: "v1"\r\n\r\n',
      'GET /len HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([204, 304, 200]);
    const [r204, r304, last] = raw.text.split(/(?=HTTP\/1\.1 )/);
    expect(r204?.endsWith('\r\n\r\n')).toBe(true);
    expect(r204).not.toMatch(/transfer-encoding/i);
    expect(r304?.endsWith('\r\n\r\n')).toBe(true);
    expect(r304).toMatch(/etag: "v1"/i);
    expect(last?.endsWith('hello')).toBe(true);
  });

  it('handles Expect: 100-continue: the client gets 100, then the body goes through', async () => {
    const body = randomBytes(200 * 1024);
    const res = await curl(
      [
        '-H',
        'Host: web',
        '-H',
        'Expect: 100-continue',
        '--data-binary',
        '@-',
        `${gateway.origin}/continue`,
      ],
      { input: body },
    );
    expect(res.interim).toEqual([100]);
    expect(res.status).toBe(200);
    expect(echoOf(res.body).bodySha256).toBe(sha256(body));
  });
});

describe('routing', () => {
  it('routes a wildcard host and keeps the client authority upstream', async () => {
    const res = await curl(['-H', 'Host: shop.example.com', `${gateway.origin}/w`]);
    expect(res.status).toBe(200);
    expect(echoOf(res.body).headers.host).toBe('shop.example.com');
  });

  it('does not route the bare wildcard suffix', async () => {
    const res = await curl(['-H', 'Host: example.com', `${gateway.origin}/w`]);
    expect(res.status).toBe(404);
    expect(res.headers['x-trellis-error']).toBe('no-route');
  });

  it('routes a host pinned to a port only on that port', async () => {
    const on = await curl(['-H', 'Host: ported.example.org:8080', `${gateway.origin}/`]);
    expect(on.status).toBe(200);
    expect(on.body.toString()).toBe('port 8080');
    const other = await curl(['-H', 'Host: ported.example.org:9090', `${gateway.origin}/`]);
    expect(other.status).toBe(404);
    const none = await curl(['-H', 'Host: ported.example.org', `${gateway.origin}/`]);
    expect(none.status).toBe(404);
  });

  it('rewrites path and host and edits headers both ways', async () => {
    const res = await curl([
      '-H',
      'Host: web',
      '-H',
      'X-Remove-Me: 1',
      '-H',
      'X-Set: client',
      `${gateway.origin}/old/item?q=1`,
    ]);
    expect(res.status).toBe(200);
    const echo = echoOf(res.body);
    expect(echo.url).toBe('/new/item?q=1');
    expect(echo.headers.host).toBe('internal.web');
    expect(echo.headers['x-set']).toBe('set-value');
    expect(echo.headers['x-added']).toBe('added-value');
    expect(echo.headers['x-remove-me']).toBeUndefined();
    expect(res.headers['x-edited']).toBe('yes');
    expect(res.headers['content-type']).toBeUndefined();
  });

  it('redirects without contacting the upstream', async () => {
    const before = upstream.requests.length;
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/moved?q=1`]);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('http://web/new-home?q=1');
    expect(res.body.length).toBe(0);
    expect(upstream.requests.length).toBe(before);
  });

  it('answers a direct response with its status, type, body and edits', async () => {
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/direct`]);
    expect(res.status).toBe(203);
    expect(res.headers['content-type']).toBe('text/x-direct');
    expect(res.headers['x-direct']).toBe('1');
    expect(res.headers['x-trellis-error']).toBeUndefined();
    expect(res.body.toString()).toBe('direct body');
  });
});

describe('headers', () => {
  it('adds x-request-id and x-forwarded-for upstream, keeping a client request id', async () => {
    const fresh = echoOf((await curl(['-H', 'Host: web', `${gateway.origin}/id`])).body);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.headers['x-forwarded-for']).toBe('127.0.0.1');
    const kept = echoOf(
      (
        await curl([
          '-H',
          'Host: web',
          '-H',
          'X-Request-Id: client-id-1',
          '-H',
          'X-Forwarded-For: 203.0.113.7',
          `${gateway.origin}/id`,
        ])
      ).body,
    );
    expect(kept.headers['x-request-id']).toBe('client-id-1');
    expect(kept.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('removes hop-by-hop request fields and those named by Connection; keeps te: trailers', async () => {
    const res = await curl([
      '-H',
      'Host: web',
      '-H',
      'Connection: keep-alive, X-Private',
      '-H',
      'X-Private: secret',
      '-H',
      'Keep-Alive: timeout=5',
      '-H',
      'Proxy-Connection: keep-alive',
      '-H',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      '-H',
      'TE: trailers, deflate',
      '-H',
      'X-Public: visible',
      `${gateway.origin}/hop-in`,
    ]);
    const headers = echoOf(res.body).headers;
    expect(headers['x-private']).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
    expect(headers['proxy-connection']).toBeUndefined();
    expect(headers['proxy-authorization']).toBeUndefined();
    expect(headers.te).toBe('trailers');
    expect(headers['x-public']).toBe('visible');
  });

  it('removes hop-by-hop response fields', async () => {
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/hop`]);
    expect(res.status).toBe(200);
    expect(res.headers['x-resp-public']).toBe('ok');
    expect(res.headers['x-resp-private']).toBeUndefined();
    expect(res.headers['proxy-connection']).toBeUndefined();
    expect(res.headers['keep-alive']).not.toBe('timeout=9');
    expect(res.body.toString()).toBe('ok');
  });

  it('sends no x-trellis-error on upstream answers', async () => {
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/len`]);
    expect(res.headers['x-trellis-error']).toBeUndefined();
  });
});

describe('proxy-made answers', () => {
  it('404 no-route for an unknown host', async () => {
    const res = await curl(['-H', 'Host: nowhere.test', `${gateway.origin}/`]);
    expect(res.status).toBe(404);
    expect(res.headers['x-trellis-error']).toBe('no-route');
  });

  it('503 upstream-connect-failure when nothing listens at the endpoint', async () => {
    const res = await curl(['-H', 'Host: dead', `${gateway.origin}/`]);
    expect(res.status).toBe(503);
    expect(res.headers['x-trellis-error']).toBe('upstream-connect-failure');
  });

  it('truncates the response when the upstream resets mid-body (Content-Length)', async () => {
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/reset`]);
    expect(res.status).toBe(200);
    expect(res.exitCode).toBe(18); // CURLE_PARTIAL_FILE: fewer bytes than Content-Length
    expect(res.body.length).toBe(1000);
  });

  it('aborts the response when the upstream resets mid-body (chunked)', async () => {
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/reset-chunked`]);
    expect(res.status).toBe(200);
    expect(res.exitCode).toBe(18); // curl saw the connection close before the last chunk
    expect(res.body.length).toBe(1000);
  });

  it('504 request-timeout when the route timeout expires first', async () => {
    const started = Date.now();
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/slow/x`]);
    expect(res.status).toBe(504);
    expect(res.headers['x-trellis-error']).toBe('request-timeout');
    // The upstream would answer after 3 s: the answer must come from the 200 ms route timeout.
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('429 rate-limited with retry-after once the route bucket is empty', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 3; i++) {
      last = await curl(['-H', 'Host: web', `${gateway.origin}/limited`]);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last?.headers['x-trellis-error']).toBe('rate-limited');
    // The next token comes at the end of the bucket's 1 h fill interval, counted from its creation.
    const retryAfter = Number(last?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3_000);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
  });

  it('503 overloaded with x-trellis-overloaded when the active-request limit is full', async () => {
    const first = nodeRequest(gateway.port, { path: '/hold', headers: { host: 'tight' } });
    await waitFor(() => held.length === 1, { timeoutMs: 5_000, what: 'the held request' });
    const second = await curl(['-H', 'Host: tight', `${gateway.origin}/hold`]);
    expect(second.status).toBe(503);
    expect(second.headers['x-trellis-error']).toBe('overloaded');
    expect(second.headers['x-trellis-overloaded']).toBe('active-requests');
    held[0]?.end('released');
    expect((await first).body.toString()).toBe('released');
    const third = await curl(['-H', 'Host: tight', `${gateway.origin}/len`]);
    expect(third.status).toBe(200);
  });

  it('answers an injected fault abort with its status without contacting the upstream', async () => {
    const before = upstream.requests.length;
    const res = await curl(['-H', 'Host: web', `${gateway.origin}/fault`]);
    expect(res.status).toBe(418);
    expect(res.headers['x-trellis-error']).toBe('fault-injected');
    expect(upstream.requests.length).toBe(before);
  });
});
