// HTTP/2 cleartext clients (prior knowledge and `Upgrade: h2c`) through a real gateway, to an
// HTTP/1.1 upstream and to an h2c upstream: curl, nghttp and h2load as real clients, Node's http2
// client for many concurrent streams, large bodies both ways and trailers.
import { randomBytes } from 'node:crypto';
import type { ClientHttp2Session, ServerHttp2Stream } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  curl,
  h2Connect,
  h2Request,
  rawExchange,
  runTool,
  statusLines,
} from './int-testing/clients.js';
import { config, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import {
  echoH1,
  echoH2,
  sha256,
  startH1Upstream,
  startH2Upstream,
} from './int-testing/upstreams.js';
import type { Echo, H1Handler, H2Handler, Upstream } from './int-testing/upstreams.js';

const BIG = randomBytes(10 * 1024 * 1024);

const h1Handler: H1Handler = (req, res, seen) => {
  if (req.url === '/stream-back') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  } else if (req.url?.startsWith('/reset-mid/')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    setTimeout(() => req.socket.destroy(), 10);
  } else if (req.url === '/trailers-unannounced') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.addTrailers({ 'x-checksum': 'h1-trailer' });
    res.end('chunked body');
  } else if (req.url === '/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(BIG);
  } else echoH1(req, res, seen);
};

/** Streams `data` with back-pressure, then trailers if asked. */
function respondH2(
  stream: ServerHttp2Stream,
  data: Buffer,
  trailers?: Record<string, string>,
  announce = false,
) {
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/octet-stream',
      ...(trailers && announce ? { trailer: Object.keys(trailers).join(', ') } : {}),
    },
    { waitForTrailers: trailers !== undefined },
  );
  if (trailers) stream.once('wantTrailers', () => stream.sendTrailers(trailers));
  stream.end(data);
}

const h2Handler: H2Handler = (stream, headers, seen) => {
  switch (headers[':path']) {
    case '/stream-back':
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      stream.pipe(stream);
      return;
    case '/big':
      respondH2(stream, BIG);
      return;
    case '/trailers':
      respondH2(stream, Buffer.from('body'), { 'x-checksum': 'abc123' }, true);
      return;
    case '/trailers-unannounced':
      respondH2(stream, Buffer.from('body'), { 'x-checksum': 'abc123' });
      return;
    case '/echo-trailers':
      void seen.bodyDone.then((body) => respondH2(stream, body));
      return;
    default:
      echoH2(stream, headers, seen);
  }
};

let h1: Upstream;
let h2: Upstream;
let gateway: TestGateway;
let session: ClientHttp2Session;
const receivedTrailers = new Map<string, unknown>();

beforeAll(async () => {
  h1 = await startH1Upstream(h1Handler);
  h2 = await startH2Upstream((stream, headers, seen) => {
    stream.once('trailers', (t) => receivedTrailers.set(String(headers[':path']), t));
    h2Handler(stream, headers, seen);
  });
  gateway = await startGateway({
    config: config(service('web', [h1.port]), service('h2web', [h2.port], { protocol: 'h2c' })),
  });
  session = await h2Connect(gateway.port);
});

afterAll(async () => {
  session.destroy();
  await gateway.close();
  await h1.close();
  await h2.close();
});

const echoOf = (body: Buffer): Echo => JSON.parse(body.toString()) as Echo;

describe.each([
  ['HTTP/1.1', 'web'],
  ['h2c', 'h2web'],
])('to an %s upstream', (_protocol, host) => {
  it('serves curl --http2-prior-knowledge', async () => {
    const res = await curl([
      '--http2-prior-knowledge',
      '-H',
      `Host: ${host}`,
      `${gateway.origin}/curl?x=1`,
    ]);
    expect(res.httpVersion).toBe('HTTP/2');
    expect(res.status).toBe(200);
    const echo = echoOf(res.body);
    expect(echo.url).toBe('/curl?x=1');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers[host === 'web' ? 'host' : ':authority']).toBe(host);
  });

  it('serves nghttp', async () => {
    const result = await runTool(
      'nghttp',
      ['-t', '5', '-H', `:authority: ${host}`, `${gateway.origin}/nghttp`],
      { timeoutMs: 10_000 },
    );
    expect(result.code).toBe(0);
    expect(echoOf(result.stdout).url).toBe('/nghttp');
  });

  it('uploads a 10 MiB body with nghttp', async () => {
    const result = await runTool(
      'nghttp',
      ['-t', '10', '-d', '-', '-H', `:authority: ${host}`, `${gateway.origin}/upload`],
      { input: BIG, timeoutMs: 15_000 },
    );
    expect(result.code).toBe(0);
    const echo = echoOf(result.stdout);
    expect(echo.bodyLength).toBe(BIG.length);
    expect(echo.bodySha256).toBe(sha256(BIG));
  });

  it('answers 500 requests, 100 concurrent streams on one connection (h2load)', async () => {
    const result = await runTool(
      'h2load',
      ['-n', '500', '-c', '1', '-m', '100', '-H', `:authority: ${host}`, `${gateway.origin}/load`],
      { timeoutMs: 20_000 },
    );
    expect(result.code).toBe(0);
    const out = result.stdout.toString();
    expect(out).toMatch(/requests: 500 total, 500 started, 500 done, 500 succeeded, 0 failed/);
    expect(out).toMatch(/status codes: 500 2xx/);
  });

  it('keeps 200 concurrent streams apart: each gets its own answer', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        h2Request(session, { authority: host, path: `/stream/${i}`, body: Buffer.from(`b${i}`) }),
      ),
    );
    results.forEach((res, i) => {
      expect(res.status).toBe(200);
      const echo = echoOf(res.body);
      expect(echo.url).toBe(`/stream/${i}`);
      expect(echo.bodySha256).toBe(sha256(Buffer.from(`b${i}`)));
    });
  });

  it('streams 10 MiB up and back at once', async () => {
    const res = await h2Request(session, { authority: host, path: '/stream-back', body: BIG });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(BIG.length);
    expect(sha256(res.body)).toBe(sha256(BIG));
  });

  it('downloads 10 MiB with curl', async () => {
    const res = await curl([
      '--http2-prior-knowledge',
      '-H',
      `Host: ${host}`,
      `${gateway.origin}/big`,
    ]);
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(sha256(BIG));
  });
});

describe('Upgrade: h2c (RFC 7540 §3.2)', () => {
  it.each([
    ['HTTP/1.1', 'web'],
    ['h2c', 'h2web'],
  ])('curl --http2 upgrades and gets its answer over HTTP/2 (%s upstream)', async (_p, host) => {
    const res = await curl(['--http2', '-H', `Host: ${host}`, `${gateway.origin}/upgraded?u=1`]);
    expect(res.interim).toEqual([101]);
    expect(res.httpVersion).toBe('HTTP/2');
    expect(res.status).toBe(200);
    expect(echoOf(res.body).url).toBe('/upgraded?u=1');
  });

  it('nghttp -u upgrades, then sends more requests on the connection', async () => {
    const result = await runTool(
      'nghttp',
      [
        '-u',
        '-t',
        '5',
        '-H',
        ':authority: web',
        `${gateway.origin}/nghttp-u`,
        `${gateway.origin}/again`,
      ],
      { timeoutMs: 10_000 },
    );
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('"url":"/again"');
  });

  it('a request with a body is answered over HTTP/1.1', async () => {
    const res = await curl([
      '--http2',
      '-H',
      'Host: web',
      '-d',
      'abc',
      `${gateway.origin}/with-body`,
    ]);
    expect(res.httpVersion).toBe('HTTP/1.1');
    expect(res.status).toBe(200);
    expect(echoOf(res.body).bodyLength).toBe(3);
  });

  it('a bad HTTP2-Settings is answered over HTTP/1.1', async () => {
    const raw = await rawExchange(gateway.port, [
      'GET /bad-settings HTTP/1.1\r\nHost: web\r\nUpgrade: h2c\r\n' +
        'Connection: Upgrade, HTTP2-Settings, close\r\nHTTP2-Settings: AAMAAABk!\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([200]);
  });
});

describe('trailers', () => {
  it('ends a small answer that came whole on its last DATA frame, with no empty trailers', async () => {
    const result = await runTool(
      'nghttp',
      ['-nv', '-t', '5', '-H', ':authority: h2web', `${gateway.origin}/small`],
      { timeoutMs: 10_000 },
    );
    expect(result.code).toBe(0);
    const received = result.stdout
      .toString()
      .split('\n')
      .filter((line) => line.includes('recv') && /recv (HEADERS|DATA) frame/.test(line));
    expect(received, result.stdout.toString()).toHaveLength(2);
    expect(received[0]).toContain('recv HEADERS frame');
    // flags=0x01: END_STREAM.
    expect(received[1]).toMatch(/recv DATA frame <.*flags=0x01,/);
  });

  it('relays response trailers announced with a Trailer field', async () => {
    const res = await h2Request(session, { authority: 'h2web', path: '/trailers' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('body');
    expect(res.trailers?.['x-checksum']).toBe('abc123');
  });

  it('relays response trailers the upstream did not announce', async () => {
    const res = await h2Request(session, { authority: 'h2web', path: '/trailers-unannounced' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('body');
    expect(res.trailers?.['x-checksum']).toBe('abc123');
  });

  it('relays chunked HTTP/1.1 trailers the upstream did not announce', async () => {
    const res = await h2Request(session, { authority: 'web', path: '/trailers-unannounced' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('chunked body');
    expect(res.trailers?.['x-checksum']).toBe('h1-trailer');
  });

  it('relays request trailers to the upstream', async () => {
    const res = await h2Request(session, {
      authority: 'h2web',
      path: '/echo-trailers',
      body: Buffer.from('payload'),
      trailers: { 'x-request-checksum': 'r-42' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('payload');
    expect(receivedTrailers.get('/echo-trailers')).toMatchObject({
      'x-request-checksum': 'r-42',
    });
  });

  it('relays request trailers sent by nghttp', async () => {
    const result = await runTool(
      'nghttp',
      [
        '-t',
        '5',
        '-d',
        '-',
        '--trailer',
        'x-nghttp-trailer: t-7',
        '-H',
        ':authority: h2web',
        `${gateway.origin}/echo-trailers?nghttp`,
      ],
      { input: Buffer.from('data'), timeoutMs: 10_000 },
    );
    expect(result.code).toBe(0);
    expect(receivedTrailers.get('/echo-trailers?nghttp')).toMatchObject({
      'x-nghttp-trailer': 't-7',
    });
  });
});

describe('upstream failures on an h2 connection', () => {
  it('resets the client stream when the upstream dies mid-body, and keeps the connection', async () => {
    const client = await h2Connect(gateway.port);
    try {
      // 150 aborted responses on one connection: the proxy's own resets must not look like a
      // rapid-reset attack from the client.
      for (let batch = 0; batch < 5; batch++) {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            h2Request(client, { authority: 'web', path: `/reset-mid/${batch}-${i}` }),
          ),
        );
        for (const res of results) {
          expect(res.status).toBe(200);
          expect(res.rstCode).toBe(2); // INTERNAL_ERROR: the body did not complete
          expect(res.body.toString()).toBe('partial');
        }
      }
      const after = await h2Request(client, { authority: 'web', path: '/after' });
      expect(after.status).toBe(200);
      expect(client.destroyed).toBe(false);
    } finally {
      client.destroy();
    }
  });
});
