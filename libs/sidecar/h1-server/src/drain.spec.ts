import { connect } from 'node:net';
import { waitFor } from '@trellis/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { H1Server } from './server.js';
import { RawClient, header } from './testing/client.js';
import { respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
const pending: DownstreamExchange[] = [];

beforeEach(async () => {
  pending.length = 0;
  server = await startServer({
    onExchange(exchange) {
      if (exchange.target === '/hold') pending.push(exchange);
      else respondText(exchange, 'ok');
    },
  });
});

afterEach(() => server.close());

async function idleClient(): Promise<RawClient> {
  const client = await RawClient.connect(server.port);
  client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
  await client.readResponse();
  return client;
}

async function heldClient(): Promise<RawClient> {
  const client = await RawClient.connect(server.port);
  const before = pending.length;
  client.write('GET /hold HTTP/1.1\r\nHost: web\r\n\r\n');
  await waitFor(() => pending.length > before, { timeoutMs: 5_000, what: 'the held request' });
  return client;
}

describe('drain', () => {
  it('closes idle connections now, lets in-flight responses finish with Connection: close', async () => {
    const idle = await idleClient();
    const busy = await heldClient();
    expect(server.h1.connections).toBe(2);
    let drained = false;
    const done = server.h1.drain().then(() => (drained = true));
    await idle.closed;
    expect(server.h1.draining).toBe(true);
    expect(busy.ended).toBe(false);
    expect(drained).toBe(false);
    respondText(pending[0] as DownstreamExchange, 'finished');
    const response = await busy.readResponse();
    expect(response.body.toString()).toBe('finished');
    expect(header(response, 'connection')).toBe('close');
    await busy.closed;
    await done;
    expect(drained).toBe(true);
    expect(server.h1.connections).toBe(0);
  });

  it('closes after a response whose head was already out, and reads no pipelined request', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /hold HTTP/1.1\r\nHost: web\r\n\r\nGET /next HTTP/1.1\r\nHost: web\r\n\r\n');
    await waitFor(() => pending.length === 1, { timeoutMs: 5_000, what: 'the held request' });
    const exchange = pending[0] as DownstreamExchange;
    exchange.response.head(200, ['content-length', '4'], false, false);
    await client.waitFor((s) => s.includes('\r\n\r\n'));
    const done = server.h1.drain();
    exchange.response.write(Buffer.from('body'));
    exchange.response.end();
    const response = await client.readResponse();
    expect(header(response, 'connection')).toBeUndefined();
    await client.closed;
    await done;
    expect(client.unread).toBe('');
  });

  it('resolves at once with no connections', async () => {
    await expect(server.h1.drain()).resolves.toBeUndefined();
  });

  it('answers the first request of a connection handed over while draining, then closes', async () => {
    const h1 = new H1Server({ onExchange: (exchange) => respondText(exchange, 'late') });
    void h1.drain();
    const { createServer } = await import('node:net');
    const listener = createServer((socket) => {
      socket.once('data', (first: Buffer) => {
        socket.pause();
        h1.handle(socket, first);
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    try {
      const client = await RawClient.connect(port);
      client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
      const response = await client.readResponse();
      expect(response.body.toString()).toBe('late');
      expect(header(response, 'connection')).toBe('close');
      await client.closed;
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});

describe('closeIdle and destroy', () => {
  it('closeIdle() closes only connections that wait for a request', async () => {
    const idle = await idleClient();
    const busy = await heldClient();
    expect(server.h1.closeIdle()).toBe(1);
    await idle.closed;
    expect(busy.ended).toBe(false);
    respondText(pending[0] as DownstreamExchange, 'still served');
    const response = await busy.readResponse();
    expect(header(response, 'connection')).toBeUndefined();
    busy.destroy();
  });

  it('destroy() closes every connection now', async () => {
    const idle = await idleClient();
    const busy = await heldClient();
    let aborted = 0;
    (pending[0] as DownstreamExchange).onAbort(() => aborted++);
    server.h1.destroy();
    await Promise.all([idle.closed, busy.closed]);
    expect(aborted).toBe(1);
    expect(server.h1.connections).toBe(0);
  });

  it('hands bytes read before handle() to the parser first', async () => {
    const h1 = new H1Server({ onExchange: (exchange) => respondText(exchange, exchange.target) });
    const { createServer } = await import('node:net');
    const listener = createServer((socket) => {
      socket.once('data', (first: Buffer) => {
        socket.pause();
        h1.handle(socket, first);
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    try {
      const socket = connect({ host: '127.0.0.1', port });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.write('GET /sniffed HTTP/1.1\r\nHo');
      await new Promise((resolve) => setTimeout(resolve, 30));
      socket.write('st: web\r\n\r\n');
      await waitFor(() => text.endsWith('/sniffed'), { timeoutMs: 5_000, what: 'the answer' });
      expect(text).toBe('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n/sniffed');
      socket.destroy();
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});
