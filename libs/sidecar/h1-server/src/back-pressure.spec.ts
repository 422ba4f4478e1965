import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient } from './testing/client.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
let onExchange: (exchange: DownstreamExchange) => void = () => undefined;

beforeAll(async () => {
  server = await startServer({ onExchange: (exchange) => onExchange(exchange) });
});

afterAll(() => server.close());

describe('response back-pressure', () => {
  it('write() reports a slow client and onDrain fires once when it catches up', async () => {
    const chunk = Buffer.alloc(64 * 1024, 98);
    const total = 16 * 1024 * 1024;
    let written = 0;
    let refusals = 0;
    let drains = 0;
    let blockedAt = -1;
    onExchange = (exchange) => {
      const response = exchange.response;
      response.head(200, ['content-length', String(total)], false, false);
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!response.write(chunk)) {
            refusals++;
            if (blockedAt < 0) blockedAt = written;
            response.onDrain(() => {
              drains++;
              pump();
            });
            return;
          }
        }
        response.end();
      };
      pump();
    };
    const client = await RawClient.connect(server.port);
    client.socket.pause(); // a client that does not read
    client.write('GET /big HTTP/1.1\r\nHost: web\r\n\r\n');
    await waitFor(() => refusals > 0, { timeoutMs: 5_000, what: 'write() to return false' });
    // The kernel's buffers absorb some more; then the writer stalls for good.
    let last = -1;
    await waitFor(
      async () => {
        const now = written;
        await new Promise((resolve) => setTimeout(resolve, 150));
        const stalled = now === last && written === now;
        last = written;
        return stalled;
      },
      { timeoutMs: 10_000, what: 'the writer to stall' },
    );
    expect(written).toBeLessThan(total);
    expect(blockedAt).toBeLessThanOrEqual(written);
    expect(drains).toBe(refusals - 1); // the last refusal waits for its drain
    client.socket.resume();
    const response = await client.readResponse();
    expect(response.body.length).toBe(total);
    expect(drains).toBe(refusals);
    client.destroy();
  });

  it('onDrain with nothing waiting to drain fires soon, once', async () => {
    let drains = 0;
    onExchange = (exchange) => {
      exchange.response.head(200, ['content-length', '2'], false, false);
      exchange.response.onDrain(() => {
        drains++;
        exchange.response.write(Buffer.from('ok'));
        exchange.response.end();
      });
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('ok');
    expect(drains).toBe(1);
    client.destroy();
  });
});
