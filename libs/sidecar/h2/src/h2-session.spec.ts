import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import type { ServerHttp2Stream } from 'node:http2';
import { FakeClock } from '@trellis/time';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectH2c } from './connect.js';
import { H2ErrorCode } from './constants.js';
import type { H2Session } from './h2-session.js';
import {
  collect,
  failure,
  patternBytes,
  sha256,
  startNodeH2Server,
  writePattern,
} from './testing/h2-test-support.js';
import type { NodeH2Server } from './testing/h2-test-support.js';

const MiB = 1 << 20;

function get(path: string): string[] {
  return [':method', 'GET', ':scheme', 'http', ':path', path, ':authority', 'test'];
}

function post(path: string): string[] {
  return [':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'test'];
}

/** Server side of the shared router: one behaviour per path. */
function route(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): void {
  const url = new URL(headers[':path'] ?? '/', 'http://x');
  switch (url.pathname) {
    case '/hello':
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-dup': ['a', 'b'] });
      stream.end('hello');
      return;
    case '/echo-headers':
      stream.respond({ ':status': 200 });
      stream.end(JSON.stringify(raw));
      return;
    case '/upload': {
      const hash = createHash('sha256');
      let bytes = 0;
      stream.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(JSON.stringify({ bytes, hash: hash.digest('hex') }));
      });
      return;
    }
    case '/download': {
      const size = Number(url.searchParams.get('size'));
      // Reading the (empty) request body keeps Node from "gracefully" closing a never-read stream
      // with RST_STREAM(NO_ERROR) when its END_STREAM is still held up by flow control.
      stream.resume();
      stream.respond({ ':status': 200 });
      writePattern(
        (c) => stream.write(c),
        (cb) => stream.once('drain', cb),
        () => stream.end(),
        size,
        64 * 1024,
        7,
      );
      return;
    }
    case '/echo':
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
      return;
    case '/trailers': {
      const received: Record<string, string | string[] | undefined> = {};
      stream.on('trailers', (t: http2.IncomingHttpHeaders) => Object.assign(received, t));
      stream.resume();
      stream.on('end', () => {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () =>
          stream.sendTrailers({ 'x-sum': '42', 'x-echo': String(received['x-client'] ?? '') }),
        );
        stream.end('body');
      });
      return;
    }
    case '/refuse':
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    case '/cancel':
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    case '/continue':
      stream.additionalHeaders({ ':status': 100 });
      stream.respond({ ':status': 204 });
      stream.end();
      return;
    case '/big-headers':
      stream.respond({ ':status': 200, 'x-big': 'v'.repeat(30_000) });
      stream.end();
      return;
    case '/trailers-only':
      stream.respond({ ':status': 200, 'grpc-status': '5' }, { endStream: true });
      return;
    default:
      stream.respond({ ':status': 404 });
      stream.end();
  }
}

describe('H2Session against a Node http2 server', () => {
  let server: NodeH2Server;
  let session: H2Session;

  beforeAll(async () => {
    server = await startNodeH2Server(route, { settings: { maxHeaderListSize: 256 * 1024 } });
    session = await connectH2c({ host: '127.0.0.1', port: server.port });
  });

  afterAll(async () => {
    session.destroy();
    await server.close();
  });

  it('performs a GET with response headers in order, duplicates kept', async () => {
    const res = await collect(session.request(get('/hello'), { endStream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.slice(0, 6)).toEqual([
      'content-type',
      'text/plain',
      'x-dup',
      'a',
      'x-dup',
      'b',
    ]);
    expect(res.body.toString()).toBe('hello');
    expect(res.trailers).toBeNull();
  });

  it('sends request headers in order with duplicate names', async () => {
    const res = await collect(
      session.request(
        [
          [':method', 'GET'],
          [':scheme', 'http'],
          [':path', '/echo-headers'],
          [':authority', 'svc.local'],
          ['x-a', '1'],
          ['x-b', '2'],
          ['x-a', '3'],
        ],
        { endStream: true },
      ),
    );
    expect(JSON.parse(res.body.toString())).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':path',
      '/echo-headers',
      ':authority',
      'svc.local',
      'x-a',
      '1',
      'x-b',
      '2',
      'x-a',
      '3',
    ]);
  });

  it('reuses the HPACK dynamic table across requests', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await collect(
        session.request([...get('/echo-headers'), 'x-tenant', 'blue', 'user-agent', 'trellis'], {
          endStream: true,
        }),
      );
      expect(JSON.parse(res.body.toString()).slice(8)).toEqual([
        'x-tenant',
        'blue',
        'user-agent',
        'trellis',
      ]);
    }
  });

  it('uploads a 20 MiB body with back-pressure and the server sees every byte', async () => {
    const stream = session.request(post('/upload'));
    let onDrain = (): void => undefined;
    const done = collect(stream, { onDrain: () => onDrain() });
    let drains = 0;
    const hash = writePattern(
      (c) => stream.write(c),
      (cb) => {
        onDrain = () => {
          drains++;
          cb();
        };
      },
      () => stream.end(),
      20 * MiB,
      256 * 1024,
      3,
    );
    const res = await done;
    expect(JSON.parse(res.body.toString())).toEqual({ bytes: 20 * MiB, hash });
    expect(drains).toBeGreaterThan(0);
  });

  it('downloads a 20 MiB body intact', async () => {
    const res = await collect(
      session.request(get(`/download?size=${20 * MiB}`), { endStream: true }),
    );
    expect(res.body.length).toBe(20 * MiB);
    expect(sha256(res.body)).toBe(sha256(patternBytes(20 * MiB, 7)));
  });

  it('echoes 20 MiB while sending 20 MiB on the same stream (flow control both ways)', async () => {
    const stream = session.request(post('/echo'));
    let onDrain = (): void => undefined;
    const done = collect(stream, { onDrain: () => onDrain() });
    const sent = writePattern(
      (c) => stream.write(c),
      (cb) => {
        onDrain = cb;
      },
      () => stream.end(),
      20 * MiB,
      100_000,
      11,
    );
    const res = await done;
    expect(res.body.length).toBe(20 * MiB);
    expect(sha256(res.body)).toBe(sent);
  });

  it('exchanges trailers both ways', async () => {
    const stream = session.request(post('/trailers'));
    const done = collect(stream);
    stream.write(Buffer.from('payload'));
    stream.end([['x-client', 'hi']]);
    const res = await done;
    expect(res.body.toString()).toBe('body');
    expect(res.trailers).toEqual(['x-sum', '42', 'x-echo', 'hi']);
  });

  it('reports a trailers-only response as headers with endStream', async () => {
    const res = await collect(session.request(get('/trailers-only'), { endStream: true }));
    expect(res.headersEndStream).toBe(true);
    expect(res.headers).toContain('grpc-status');
    expect(res.body.length).toBe(0);
  });

  it('distinguishes REFUSED_STREAM (retriable) from CANCEL', async () => {
    const refused = await failure(session.request(get('/refuse'), { endStream: true }));
    expect([refused.code, refused.h2Code, refused.retriable]).toEqual([
      'TRL_H2_REFUSED_STREAM',
      H2ErrorCode.REFUSED_STREAM,
      true,
    ]);
    const cancelled = await failure(session.request(get('/cancel'), { endStream: true }));
    expect([cancelled.code, cancelled.h2Code, cancelled.retriable]).toEqual([
      'TRL_H2_STREAM_RESET',
      H2ErrorCode.CANCEL,
      false,
    ]);
  });

  it('surfaces a 100 Continue before the final response', async () => {
    const res = await collect(session.request(get('/continue'), { endStream: true }));
    expect(res.informational).toEqual([100]);
    expect(res.status).toBe(204);
  });

  it('sends request headers larger than a frame as HEADERS + CONTINUATION', async () => {
    const big = 'x'.repeat(40_000);
    const res = await collect(
      session.request([...get('/echo-headers'), 'x-big', big], { endStream: true }),
    );
    expect(JSON.parse(res.body.toString()).slice(8)).toEqual(['x-big', big]);
  });

  it('receives response headers split over CONTINUATION frames', async () => {
    const res = await collect(session.request(get('/big-headers'), { endStream: true }));
    expect(res.headers.slice(0, 2)).toEqual(['x-big', 'v'.repeat(30_000)]);
  });

  it('answers ping with a round-trip time', async () => {
    const rtt = await session.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it('delivers nothing after a local reset and tells the server CANCEL', async () => {
    const closed = new Promise<number>((resolve) => {
      server.server.once('stream', (s: ServerHttp2Stream) =>
        s.on('close', () => resolve(s.rstCode)),
      );
    });
    const stream = session.request(get(`/download?size=${4 * MiB}`), { endStream: true });
    let events = 0;
    stream.setHandler({
      onResponseHeaders: () => {
        events++;
        stream.reset();
      },
      onData: () => events++,
      onEnd: () => events++,
      onError: () => events++,
    });
    expect(await closed).toBe(H2ErrorCode.CANCEL);
    await session.ping();
    expect(events).toBe(1);
    expect(stream.isTerminated).toBe(true);
  });
});

describe('H2Session flow control and back-pressure', () => {
  let server: NodeH2Server;
  const sessions: H2Session[] = [];

  beforeAll(async () => {
    server = await startNodeH2Server(route);
  });

  afterEach(() => {
    for (const s of sessions.splice(0)) s.destroy();
  });

  afterAll(async () => {
    await server.close();
  });

  async function open(initialWindowSize: number): Promise<H2Session> {
    const s = await connectH2c({
      host: '127.0.0.1',
      port: server.port,
      settings: { initialWindowSize },
    });
    sessions.push(s);
    return s;
  }

  it('a paused stream holds exactly its window, then completes on resume', async () => {
    const session = await open(65_536);
    const stream = session.request(get(`/download?size=${2 * MiB}`), { endStream: true });
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) =>
      stream.setHandler({
        onData: (c) => {
          chunks.push(c);
          if (chunks.length === 1) stream.pause();
        },
        onEnd: resolve,
        onError: reject,
      }),
    );
    while (stream.receivedBytes < 65_536) await session.ping();
    // The server cannot send more than the window we granted while we do not credit it.
    await session.ping();
    await session.ping();
    expect(stream.receivedBytes).toBe(65_536);
    expect(chunks).toHaveLength(1);
    stream.resume();
    await done;
    expect(sha256(chunks)).toBe(sha256(patternBytes(2 * MiB, 7)));
  });

  it('write() returns false while the server does not read, and drain follows', async () => {
    const release: Array<() => void> = [];
    const slow = await startNodeH2Server((stream) => {
      stream.pause();
      release.push(() => {
        stream.resume();
        stream.on('end', () => {
          stream.respond({ ':status': 200 });
          stream.end();
        });
      });
    });
    const session = await connectH2c({ host: '127.0.0.1', port: slow.port });
    sessions.push(session);
    const stream = session.request(post('/'));
    let onDrain = (): void => undefined;
    const done = collect(stream, { onDrain: () => onDrain() });
    const chunk = Buffer.alloc(16 * 1024, 1);
    let accepted = 0;
    while (stream.write(chunk)) accepted++;
    await session.ping();
    await session.ping();
    // 7 × 16 KiB accepted, 65 535 bytes sent within Node's default stream window, the rest queued.
    expect(stream.writableLength).toBe(8 * 16 * 1024 - 65_535);
    const drained = new Promise<void>((resolve) => (onDrain = resolve));
    expect(release).toHaveLength(1);
    release[0]!();
    await drained;
    expect(stream.writableLength).toBe(0);
    stream.end();
    expect((await done).status).toBe(200);
    expect(accepted).toBe(7);
    await slow.close();
  });
});

describe('H2Session concurrency limit', () => {
  it('queues streams beyond MAX_CONCURRENT_STREAMS and completes all 100', async () => {
    let open = 0;
    let peak = 0;
    const server = await startNodeH2Server(
      (stream) => {
        open++;
        peak = Math.max(peak, open);
        setImmediate(() => {
          stream.respond({ ':status': 200 });
          stream.end(String(stream.id));
          open--;
        });
      },
      { settings: { maxConcurrentStreams: 5 } },
    );
    const session = await connectH2c({ host: '127.0.0.1', port: server.port });
    expect(session.maxConcurrentStreams).toBe(5);
    const streams = Array.from({ length: 100 }, () =>
      session.request(get('/'), { endStream: true }),
    );
    expect(session.activeStreams).toBe(5);
    expect(session.pendingStreams).toBe(95);
    const results = await Promise.all(streams.map((s) => collect(s)));
    expect(results.map((r) => r.status)).toEqual(new Array(100).fill(200));
    expect(streams.map((s) => s.id)).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 1));
    expect(peak).toBeLessThanOrEqual(5);
    session.destroy();
    await server.close();
  });
});

describe('H2Session GOAWAY and connection loss', () => {
  it('finishes streams up to last-stream-id and fails later ones as retriable', async () => {
    const held: ServerHttp2Stream[] = [];
    let notify: () => void = () => undefined;
    const server = await startNodeH2Server((stream) => {
      held.push(stream);
      notify();
    });
    const session = await connectH2c({ host: '127.0.0.1', port: server.port });
    const streams = [1, 2, 3, 4].map(() => session.request(get('/'), { endStream: true }));
    const results = streams.map((s) =>
      collect(s).then(
        (r) => r.status,
        (e: { code: string; retriable: boolean }) => `${e.code}:${e.retriable}`,
      ),
    );
    while (held.length < 4) await new Promise<void>((r) => (notify = r));
    const serverSession = [...server.sessions][0]!;
    serverSession.goaway(http2.constants.NGHTTP2_NO_ERROR, 3);
    await session.ping().catch(() => undefined);
    for (const s of held.slice(0, 2)) {
      s.respond({ ':status': 200 });
      s.end();
    }
    expect(await Promise.all(results)).toEqual([
      200,
      200,
      'TRL_H2_GOAWAY:true',
      'TRL_H2_GOAWAY:true',
    ]);
    expect(session.isAccepting).toBe(false);
    const late = await failure(session.request(get('/'), { endStream: true }));
    expect([late.code, late.retriable]).toEqual(['TRL_H2_GOAWAY', true]);
    session.destroy();
    await server.close();
  });

  it('fails every open stream with TRL_H2_CONNECTION_CLOSED when the server drops the socket', async () => {
    let count = 0;
    let notify: () => void = () => undefined;
    const server = await startNodeH2Server(() => {
      count++;
      notify();
    });
    const session = await connectH2c({ host: '127.0.0.1', port: server.port });
    const errors = [1, 2, 3].map(() => failure(session.request(get('/'), { endStream: true })));
    while (count < 3) await new Promise<void>((r) => (notify = r));
    for (const socket of server.sockets) socket.destroy();
    const seen = await Promise.all(errors);
    expect(seen.map((e) => [e.code, e.retriable])).toEqual([
      ['TRL_H2_CONNECTION_CLOSED', false],
      ['TRL_H2_CONNECTION_CLOSED', false],
      ['TRL_H2_CONNECTION_CLOSED', false],
    ]);
    expect((await session.closed)?.code).toBe('TRL_H2_CONNECTION_CLOSED');
    expect(session.isClosed).toBe(true);
    await server.close();
  });

  it('close() lets open streams finish, then ends with GOAWAY', async () => {
    let held: ServerHttp2Stream | undefined;
    let notify: () => void = () => undefined;
    const server = await startNodeH2Server((stream) => {
      held = stream;
      notify();
    });
    const session = await connectH2c({ host: '127.0.0.1', port: server.port });
    const res = collect(session.request(get('/'), { endStream: true }));
    while (!held) await new Promise<void>((r) => (notify = r));
    const closing = session.close();
    const refused = await failure(session.request(get('/'), { endStream: true }));
    expect([refused.code, refused.retriable]).toEqual(['TRL_H2_SESSION_CLOSED', true]);
    held.respond({ ':status': 200 });
    held.end('bye');
    expect((await res).body.toString()).toBe('bye');
    await closing;
    expect(await session.closed).toBeUndefined();
    await server.close();
  });

  it('drains after its last stream id and refuses further streams as retriable', async () => {
    const server = await startNodeH2Server(route);
    const session = await connectH2c({ host: '127.0.0.1', port: server.port, maxStreamId: 5 });
    const ok = [1, 2, 3].map(() => collect(session.request(get('/hello'), { endStream: true })));
    expect(session.isAccepting).toBe(false);
    const refused = await failure(session.request(get('/hello'), { endStream: true }));
    expect([refused.code, refused.retriable]).toEqual(['TRL_H2_STREAM_IDS_EXHAUSTED', true]);
    expect((await Promise.all(ok)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await session.closed).toBeUndefined();
    await server.close();
  });

  it('closes after the idle timeout on the injected clock', async () => {
    const server = await startNodeH2Server(route);
    const clock = new FakeClock();
    const session = await connectH2c({
      host: '127.0.0.1',
      port: server.port,
      clock,
      idleTimeoutMs: 1_000,
    });
    await collect(session.request(get('/hello'), { endStream: true }));
    clock.advance(600);
    await collect(session.request(get('/hello'), { endStream: true }));
    clock.advance(600);
    expect(session.isAccepting).toBe(true);
    clock.advance(400);
    expect(session.isAccepting).toBe(false);
    expect(await session.closed).toBeUndefined();
    await server.close();
  });
});
