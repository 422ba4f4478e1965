import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient } from './testing/client.js';
import { respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
let onExchange: (exchange: DownstreamExchange) => void = () => undefined;

beforeAll(async () => {
  server = await startServer({ onExchange: (exchange) => onExchange(exchange) });
});

afterAll(() => server.close());

describe('aborts', () => {
  it('a client that leaves mid-response fires each onAbort callback once', async () => {
    const fired: string[] = [];
    let current: DownstreamExchange | undefined;
    onExchange = (exchange) => {
      current = exchange;
      exchange.onAbort(() => fired.push('first'));
      exchange.onAbort(() => fired.push('second'));
      exchange.response.head(200, [], false, false);
      exchange.response.write(Buffer.from('partial'));
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.waitFor((s) => s.includes('partial'));
    client.destroy();
    await waitFor(() => fired.length === 2, { timeoutMs: 5_000, what: 'the abort callbacks' });
    const exchange = current as DownstreamExchange;
    // The writer is inert now: no throw, nothing blocks.
    expect(exchange.response.write(Buffer.from('more'))).toBe(true);
    exchange.response.end();
    expect(fired).toEqual(['first', 'second']);
    // Registered after the client left: called at once.
    exchange.onAbort(() => fired.push('late'));
    expect(fired).toEqual(['first', 'second', 'late']);
  });

  it('a client that leaves before the head fires onAbort', async () => {
    let aborted = 0;
    let dispatched = false;
    onExchange = (exchange) => {
      dispatched = true;
      exchange.onAbort(() => aborted++);
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await waitFor(() => dispatched, { timeoutMs: 5_000, what: 'the request' });
    client.destroy();
    await waitFor(() => aborted === 1, { timeoutMs: 5_000, what: 'onAbort' });
  });

  it('does not fire onAbort once the response finished', async () => {
    let aborted = 0;
    onExchange = (exchange) => {
      exchange.onAbort(() => aborted++);
      respondText(exchange, 'done');
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.readResponse();
    const before = server.h1.connections;
    client.destroy();
    await waitFor(() => server.h1.connections === before - 1, {
      timeoutMs: 5_000,
      what: 'the close',
    });
    expect(aborted).toBe(0);
  });

  it('abort() closes the connection mid-response', async () => {
    let aborted = 0;
    onExchange = (exchange) => {
      exchange.onAbort(() => aborted++);
      exchange.response.head(200, ['content-length', '100'], false, false);
      exchange.response.write(Buffer.from('some'));
      setTimeout(() => exchange.response.abort(), 20);
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.closed;
    expect(client.unread).toBe('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome');
    expect(aborted).toBe(1);
  });
});
