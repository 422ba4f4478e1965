import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeClock } from '@trellis/time';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool } from './pool.js';
import { Collector, exchange } from './testing/collector.js';
import { startHttpUpstream, startRawUpstream, waitFor } from './testing/servers.js';
import type { TestUpstream } from './testing/servers.js';
import type { H1RequestInit, RequestHandle } from './types.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(upstream: TestUpstream, clock?: FakeClock): H1Pool {
  const p = new H1Pool({
    host: '127.0.0.1',
    port: upstream.port,
    maxConnections: 2,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
    ...(clock ? { clock } : {}),
  });
  cleanups.push(() => p.destroy());
  return p;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Streams the request body back as it arrives (honouring back-pressure), hash as a trailer. */
function echoWithHashTrailer(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  let received = 0;
  res.writeHead(200, { Trailer: 'X-Body-Sha256' });
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    if (!res.write(chunk)) {
      req.pause();
      res.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    res.addTrailers({ 'X-Body-Sha256': hash.digest('hex'), 'X-Body-Bytes': String(received) });
    res.end();
  });
}

async function echoUpstream(): Promise<TestUpstream> {
  const upstream = await startHttpUpstream(echoWithHashTrailer);
  cleanups.push(() => upstream.close());
  return upstream;
}

/** Writes `body` in 64 KiB pieces, waiting for onDrain whenever write() says so. */
async function streamBody(
  handle: RequestHandle,
  body: Buffer,
): Promise<{ refusals: number; drains: number }> {
  let refusals = 0;
  let drains = 0;
  for (let off = 0; off < body.length; off += 65_536) {
    if (!handle.write(body.subarray(off, off + 65_536))) {
      refusals++;
      await new Promise<void>((resolve) => {
        handle.onDrain = () => {
          drains++;
          handle.onDrain = null;
          resolve();
        };
      });
    }
  }
  handle.end();
  return { refusals, drains };
}

/** A consumer that pauses reading on every chunk and resumes a turn later. */
function slowConsumer(collector: Collector, handle: RequestHandle): { pauses: () => number } {
  let pauses = 0;
  collector.onChunk = () => {
    pauses++;
    handle.pause();
    setImmediate(() => handle.resume());
  };
  return { pauses: () => pauses };
}

describe('H1Pool request bodies', () => {
  const size = 8 * 1024 * 1024;

  it.each([
    ['chunked', [] as string[]],
    ['Content-Length', ['Content-Length', String(size)]],
  ])(
    'streams 8 MiB up (%s) and back down to a slow consumer, hash-verified',
    async (_framing, headers) => {
      const upstream = await echoUpstream();
      const p = pool(upstream);
      const body = randomBytes(size);
      const collector = new Collector();
      const handle = p.request(
        { method: 'POST', path: '/echo', headers, hasBody: true },
        collector,
      );
      const slow = slowConsumer(collector, handle);
      const upload = await streamBody(handle, body);
      const outcome = await collector.done;
      expect(outcome.error).toBeNull();
      expect(outcome.body.length).toBe(size);
      expect(sha256(outcome.body)).toBe(sha256(body));
      expect(outcome.trailers).toEqual([
        'X-Body-Sha256',
        sha256(body),
        'X-Body-Bytes',
        String(size),
      ]);
      // The slow reader pushed back all the way to the writer.
      expect(upload.refusals).toBeGreaterThan(0);
      expect(upload.drains).toBe(upload.refusals);
      expect(slow.pauses()).toBeGreaterThan(0);
      // And the connection is clean for the next request.
      const next = await exchange(
        p,
        { method: 'POST', path: '/', headers: ['Content-Length', '2'], hasBody: true },
        Buffer.from('ok'),
      ).done;
      expect(next.body.toString()).toBe('ok');
      expect(upstream.connections()).toBe(1);
    },
  );

  it('buffers writes made before the connection exists and reports drain after', async () => {
    const upstream = await echoUpstream();
    const p = pool(upstream);
    const collector = new Collector();
    const handle = p.request({ method: 'PUT', path: '/', headers: [], hasBody: true }, collector);
    let drained = 0;
    handle.onDrain = () => drained++;
    expect(handle.write(Buffer.from('early '))).toBe(false);
    expect(handle.write(Buffer.from('bird'))).toBe(false);
    handle.end();
    const outcome = await collector.done;
    expect(outcome.body.toString()).toBe('early bird');
    expect(drained).toBe(1);
  });

  it('sends an empty chunked body as the last chunk alone', async () => {
    const upstream = await echoUpstream();
    const p = pool(upstream);
    const run = exchange(p, { method: 'POST', path: '/', headers: [], hasBody: true });
    run.handle.write(Buffer.alloc(0));
    run.handle.end();
    const outcome = await run.done;
    expect(outcome.body.length).toBe(0);
    expect(outcome.trailers).toEqual([
      'X-Body-Sha256',
      sha256(Buffer.alloc(0)),
      'X-Body-Bytes',
      '0',
    ]);
  });

  const warm = (p: H1Pool): Promise<unknown> =>
    exchange(p, { method: 'GET', path: '/', headers: [], hasBody: false }).done;

  it('throws TRL_H1_BODY_LENGTH_MISMATCH on a body longer than its Content-Length', async () => {
    const upstream = await echoUpstream();
    const p = pool(upstream);
    await warm(p);
    const run = exchange(p, {
      method: 'POST',
      path: '/',
      headers: ['Content-Length', '3'],
      hasBody: true,
    });
    expect(() => run.handle.write(Buffer.from('four'))).toThrow(
      expect.objectContaining({ code: 'TRL_H1_BODY_LENGTH_MISMATCH' }),
    );
    // The half-sent request poisoned the connection: it is gone, silently.
    expect(p.stats().open).toBe(0);
    expect(run.collector.outcome.calls).toEqual([]);
  });

  it('throws TRL_H1_BODY_LENGTH_MISMATCH when end() comes short of Content-Length', async () => {
    const upstream = await echoUpstream();
    const p = pool(upstream);
    await warm(p);
    const run = exchange(p, {
      method: 'POST',
      path: '/',
      headers: ['Content-Length', '3'],
      hasBody: true,
    });
    run.handle.write(Buffer.from('ab'));
    expect(() => run.handle.end()).toThrow(
      expect.objectContaining({ code: 'TRL_H1_BODY_LENGTH_MISMATCH' }),
    );
    expect(p.stats().open).toBe(0);
  });

  it('keeps a connecting connection when its request is abandoned before it was sent', async () => {
    const upstream = await echoUpstream();
    const p = pool(upstream);
    const run = exchange(p, {
      method: 'POST',
      path: '/',
      headers: ['Content-Length', '1'],
      hasBody: true,
    });
    expect(() => run.handle.write(Buffer.from('xx'))).toThrow(
      expect.objectContaining({ code: 'TRL_H1_BODY_LENGTH_MISMATCH' }),
    );
    await waitFor(() => p.stats().idle === 1);
    const next = await warm(p);
    expect(next).toMatchObject({ status: 200 });
    expect(upstream.connections()).toBe(1);
  });

  it('throws TRL_H1_INVALID_REQUEST on write() to a request without body', async () => {
    const upstream = await echoUpstream();
    const run = exchange(pool(upstream), { method: 'GET', path: '/', headers: [], hasBody: false });
    expect(() => run.handle.write(Buffer.from('x'))).toThrow(
      expect.objectContaining({ code: 'TRL_H1_INVALID_REQUEST' }),
    );
    await run.done;
  });
});

describe('H1Pool Expect: 100-continue', () => {
  const post: H1RequestInit = {
    method: 'POST',
    path: '/upload',
    headers: ['Content-Length', '5'],
    hasBody: true,
    expectContinue: true,
  };

  it('holds the body until 100 Continue, then sends it', async () => {
    let bodyBeforeContinue = -1;
    const upstream = await startHttpUpstream(
      () => undefined,
      (server) =>
        server.on('checkContinue', (req, res) => {
          bodyBeforeContinue = req.readableLength;
          res.writeContinue();
          echoWithHashTrailer(req, res);
        }),
    );
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const collector = new Collector();
    const handle = p.request(post, collector);
    let drained = 0;
    handle.onDrain = () => drained++;
    expect(handle.write(Buffer.from('hello'))).toBe(false);
    handle.end();
    const outcome = await collector.done;
    expect(bodyBeforeContinue).toBe(0);
    expect(outcome.informational).toEqual([{ status: 100, reason: 'Continue', headers: [] }]);
    expect(outcome.calls).toEqual(['info:100', 'head:200', 'data', 'trailers', 'end']);
    expect(outcome.body.toString()).toBe('hello');
    expect(drained).toBe(1);
    expect(p.stats().idle).toBe(1);
  });

  it('drops the body and the connection when a final response comes instead', async () => {
    const upstream = await startHttpUpstream(
      () => undefined,
      (server) =>
        server.on('checkContinue', (_req, res) => {
          res.writeHead(417, { 'Content-Length': '4' }).end('nope');
        }),
    );
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const collector = new Collector();
    const handle = p.request(post, collector);
    expect(handle.write(Buffer.from('hello'))).toBe(false);
    const outcome = await collector.done;
    expect(outcome.status).toBe(417);
    expect(outcome.body.toString()).toBe('nope');
    expect(outcome.informational).toEqual([]);
    // The body is never sent and the connection is not trusted again.
    expect(handle.write(Buffer.from('more'))).toBe(true);
    handle.end();
    expect(p.stats().open).toBe(0);
  });

  it('sends the body anyway after continueTimeoutMs when the upstream ignores Expect', async () => {
    const clock = new FakeClock();
    let received = '';
    const upstream = await startRawUpstream((socket) =>
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.endsWith('\r\n\r\nhello')) {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ngot');
        }
      }),
    );
    cleanups.push(() => upstream.close());
    const p = pool(upstream, clock);
    const run = exchange(p, post, Buffer.from('hello'));
    await waitFor(() => received.endsWith('\r\n\r\n'));
    expect(received).toContain('Expect: 100-continue\r\n');
    clock.advance(999);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(received.endsWith('\r\n\r\n')).toBe(true);
    clock.advance(1);
    const outcome = await run.done;
    expect(outcome.body.toString()).toBe('got');
    expect(outcome.informational).toEqual([]);
    expect(p.stats().idle).toBe(1);
  });
});
