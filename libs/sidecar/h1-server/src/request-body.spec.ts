import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BodyHandlers, DownstreamExchange } from './exchange.js';
import { RawClient, header } from './testing/client.js';
import { echoBody, respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
let onExchange: (exchange: DownstreamExchange) => void = echoBody;

beforeAll(async () => {
  server = await startServer({ onExchange: (exchange) => onExchange(exchange) });
});

afterAll(() => server.close());

/** A body reader that records what it is told. */
function recorder(): BodyHandlers & { data: Buffer[]; ended: unknown; error: Error | undefined } {
  return {
    data: [],
    ended: 'not yet',
    error: undefined,
    onData(chunk) {
      this.data.push(Buffer.from(chunk));
    },
    onEnd(trailers) {
      this.ended = trailers;
    },
    onError(error) {
      this.error = error;
    },
  };
}

describe('request bodies', () => {
  it('delivers a Content-Length body', async () => {
    onExchange = echoBody;
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 11\r\n\r\nhello');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write(' world');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('hello world');
    client.destroy();
  });

  it('delivers a chunked body and its trailers, names lower-cased', async () => {
    onExchange = echoBody;
    const client = await RawClient.connect(server.port);
    client.write(
      'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '4;note=x\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Checksum: 42\r\nX-Other: y\r\n\r\n',
    );
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('abcdefg');
    expect(header(response, 'x-trailer-count')).toBe('2');
    expect(response.trailers).toEqual([
      ['x-checksum', '42'],
      ['x-other', 'y'],
    ]);
    client.destroy();
  });

  it('ends a request without a body at once', async () => {
    const reader = recorder();
    onExchange = (exchange) => {
      exchange.body.start(reader);
      respondText(exchange, 'ok');
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.readResponse();
    expect(reader.ended).toBeUndefined();
    expect(reader.data).toEqual([]);
    client.destroy();
  });

  it('pauses the client while the reader is paused, and resumes it', async () => {
    const reader = recorder();
    let exchange: DownstreamExchange | undefined;
    onExchange = (ex) => {
      exchange = ex;
      ex.body.start({
        onData: (chunk) => {
          reader.onData(chunk);
          ex.body.pause();
        },
        onEnd: (trailers) => {
          reader.onEnd(trailers);
          respondText(ex, 'done');
        },
        onError: (error) => reader.onError(error),
      });
    };
    const size = 8 * 1024 * 1024;
    const client = await RawClient.connect(server.port);
    client.write(`POST / HTTP/1.1\r\nHost: web\r\nContent-Length: ${size}\r\n\r\n`);
    client.write(Buffer.alloc(size, 120));
    await waitFor(() => reader.data.length > 0, { timeoutMs: 5_000, what: 'the first chunk' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const received = reader.data.reduce((n, c) => n + c.length, 0);
    // Paused after the first chunk: nothing more is delivered and the client is held back.
    expect(reader.data).toHaveLength(1);
    expect(client.socket.writableLength).toBeGreaterThan(size / 2);
    expect(received).toBeLessThan(size);
    const body = exchange as DownstreamExchange;
    while (reader.ended === 'not yet') {
      body.body.resume();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(reader.data.reduce((n, c) => n + c.length, 0)).toBe(size);
    expect((await client.readResponse()).body.toString()).toBe('done');
    client.destroy();
  });

  it('discards a small unread body that already arrived and keeps the connection', async () => {
    onExchange = (exchange) => respondText(exchange, `no thanks ${exchange.target}`, 413);
    const client = await RawClient.connect(server.port);
    client.write('POST /1 HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\nhello');
    const first = await client.readResponse();
    expect([first.status, header(first, 'connection')]).toEqual([413, undefined]);
    client.write('GET /2 HTTP/1.1\r\nHost: web\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('no thanks /2');
    expect(client.ended).toBe(false);
    client.destroy();
  });

  it('closes after the response when the unread body has not arrived', async () => {
    onExchange = (exchange) => respondText(exchange, 'too big', 413);
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 1000000\r\n\r\npartial');
    const response = await client.readResponse();
    expect(response.status).toBe(413);
    await client.closed;
  });

  it('tells the reader and the abort callbacks when the client leaves mid-body', async () => {
    const reader = recorder();
    let aborts = 0;
    onExchange = (exchange) => {
      exchange.onAbort(() => aborts++);
      exchange.body.start(reader);
    };
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 100\r\n\r\nonly a bit');
    await waitFor(() => reader.data.length > 0, { timeoutMs: 5_000, what: 'the first chunk' });
    client.destroy();
    await waitFor(() => reader.error, { timeoutMs: 5_000, what: 'the reader error' });
    expect(reader.error).toMatchObject({ code: 'TRL_H1S_CLIENT_ABORTED' });
    expect(aborts).toBe(1);
    expect(reader.ended).toBe('not yet');
  });

  it('fails a body the client half-closed before it was complete', async () => {
    const reader = recorder();
    onExchange = (exchange) => exchange.body.start(reader);
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 100\r\n\r\nshort');
    await waitFor(() => reader.data.length > 0, { timeoutMs: 5_000, what: 'the first chunk' });
    client.socket.end();
    await waitFor(() => reader.error, { timeoutMs: 5_000, what: 'the reader error' });
    expect(reader.error).toMatchObject({ code: 'TRL_H1S_CLIENT_ABORTED' });
  });

  it('aborts a request whose client sent FIN before the answer (Node’s default)', async () => {
    let aborted = 0;
    onExchange = (exchange) => exchange.onAbort(() => aborted++);
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\n\r\ndata');
    client.socket.end();
    await client.closed;
    await waitFor(() => aborted === 1, { timeoutMs: 5_000, what: 'onAbort' });
    expect(client.unread).toBe('');
  });

  it('with allowHalfOpen, answers a client that half-closed after a complete request', async () => {
    const halfOpen = await startServer({
      allowHalfOpen: true,
      onExchange: (exchange) => setTimeout(() => echoBody(exchange), 20),
    });
    try {
      const client = await RawClient.connect(halfOpen.port);
      client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\n\r\ndata');
      client.socket.end();
      const response = await client.readResponse();
      expect(response.body.toString()).toBe('data');
      await client.closed;
    } finally {
      await halfOpen.close();
    }
  });

  it('rejects a second start()', async () => {
    let error: unknown;
    onExchange = (exchange) => {
      exchange.body.start(recorder());
      try {
        exchange.body.start(recorder());
      } catch (e) {
        error = e;
      }
      respondText(exchange, 'ok');
    };
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 1\r\n\r\nx');
    await client.readResponse();
    expect(error).toMatchObject({ code: 'TRL_H1S_INVALID_RESPONSE' });
    client.destroy();
  });
});
