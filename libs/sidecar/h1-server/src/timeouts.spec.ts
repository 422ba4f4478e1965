import { FakeClock } from '@trellis/time';
import { waitFor } from '@trellis/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient } from './testing/client.js';
import { respondText } from './testing/respond.js';
import { startServer, statusLines } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let clock: FakeClock;
let server: TestServer;
const refusals: string[] = [];

beforeEach(async () => {
  clock = new FakeClock();
  refusals.length = 0;
  server = await startServer({
    clock,
    headersTimeoutMs: 30_000,
    idleTimeoutMs: 300_000,
    lingerMs: 2_000,
    onExchange: (exchange) => respondText(exchange, 'ok'),
    onBadRequest: (reason) => refusals.push(reason),
  });
});

afterEach(() => server.close());

/** Lets socket events settle after the fake clock moved. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('timeouts', () => {
  it('answers a head that takes longer than headersTimeoutMs with 408 and closes', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: w');
    await settle();
    clock.advance(29_999);
    await settle();
    expect(client.unread).toBe('');
    clock.advance(1);
    await client.closed;
    expect(statusLines(client.unread)).toEqual([408]);
    expect(client.unread).toContain('\r\nx-trellis-error: bad-request\r\nconnection: close\r\n');
    expect(refusals).toEqual(['headers-timeout']);
  });

  it('closes a new connection that sends nothing, without a response', async () => {
    const client = await RawClient.connect(server.port);
    await settle();
    clock.advance(30_000);
    await client.closed;
    expect(client.unread).toBe('');
    expect(refusals).toEqual([]);
  });

  it('closes a keep-alive connection idle for idleTimeoutMs', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.readResponse();
    clock.advance(299_999);
    await settle();
    expect(client.ended).toBe(false);
    clock.advance(1);
    await client.closed;
    expect(client.unread).toBe('');
  });

  it('times the next head from its first byte, not from the end of the last response', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.readResponse();
    clock.advance(200_000); // idle, well past headersTimeoutMs
    client.write('GET / HTTP/1.1\r\n');
    await settle();
    clock.advance(29_000);
    await settle();
    expect(client.ended).toBe(false);
    client.write('Host: web\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    clock.advance(250_000);
    await settle();
    expect(client.ended).toBe(false);
    client.destroy();
  });

  it('does not time a request whose response is pending', async () => {
    const slow = await startServer({
      clock,
      headersTimeoutMs: 1_000,
      idleTimeoutMs: 1_000,
      onExchange: (exchange) => setTimeout(() => respondText(exchange, 'late'), 100),
    });
    try {
      const client = await RawClient.connect(slow.port);
      client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
      await settle();
      clock.advance(10_000);
      expect((await client.readResponse()).body.toString()).toBe('late');
      client.destroy();
    } finally {
      await slow.close();
    }
  });

  it('destroys a refused connection whose client never closes after lingerMs', async () => {
    const client = await RawClient.connect(server.port);
    // The client ignores the server's FIN (half-open), so only the linger timer ends it.
    client.socket.removeAllListeners('end');
    client.write('GET / HTTP/1.1\r\nHost: web\r\nHost: web\r\n\r\n');
    await client.waitFor((s) => s.includes('\r\n\r\n'));
    await settle();
    expect(server.h1.connections).toBe(1);
    clock.advance(2_000);
    await waitFor(() => server.h1.connections === 0, { timeoutMs: 5_000, what: 'the close' });
    expect(statusLines(client.unread)).toEqual([400]);
    client.destroy();
  });
});
