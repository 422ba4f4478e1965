import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient } from './testing/client.js';
import { echoBody, respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
/** What happened, in order: "dispatch /x" and "finish /x". */
const log: string[] = [];

beforeAll(async () => {
  server = await startServer({
    onExchange(exchange: DownstreamExchange) {
      log.push(`dispatch ${exchange.target}`);
      if (exchange.hasBody) {
        echoBody(exchange);
        return;
      }
      // Earlier requests answer later: only the server can keep the responses in order.
      const delay = Number(exchange.target.split('/')[2] ?? 0);
      setTimeout(() => {
        log.push(`finish ${exchange.target}`);
        respondText(exchange, `answer to ${exchange.target}`);
      }, delay);
    },
  });
});

afterAll(() => server.close());

describe('pipelining', () => {
  it('answers pipelined requests in order, dispatching each after the previous response', async () => {
    log.length = 0;
    const client = await RawClient.connect(server.port);
    client.write(
      'GET /slow/60 HTTP/1.1\r\nHost: web\r\n\r\n' +
        'GET /mid/30 HTTP/1.1\r\nHost: web\r\n\r\n' +
        'GET /fast/0 HTTP/1.1\r\nHost: web\r\n\r\n',
    );
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) bodies.push((await client.readResponse()).body.toString());
    expect(bodies).toEqual(['answer to /slow/60', 'answer to /mid/30', 'answer to /fast/0']);
    expect(log).toEqual([
      'dispatch /slow/60',
      'finish /slow/60',
      'dispatch /mid/30',
      'finish /mid/30',
      'dispatch /fast/0',
      'finish /fast/0',
    ]);
    client.destroy();
  });

  it('keeps bodies apart when requests with bodies are pipelined', async () => {
    const client = await RawClient.connect(server.port);
    client.write(
      'POST /a HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\nfirst' +
        'POST /b HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n' +
        'GET /c/0 HTTP/1.1\r\nHost: web\r\n\r\n',
    );
    expect((await client.readResponse()).body.toString()).toBe('first');
    expect((await client.readResponse()).body.toString()).toBe('second');
    expect((await client.readResponse()).body.toString()).toBe('answer to /c/0');
    client.destroy();
  });

  it('answers requests that arrive one byte at a time', async () => {
    const client = await RawClient.connect(server.port);
    const text =
      'GET /bytes/0 HTTP/1.1\r\nHost: web\r\n\r\nGET /more/0 HTTP/1.1\r\nHost: web\r\n\r\n';
    for (const byte of text) {
      client.write(byte);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await client.readResponse()).body.toString()).toBe('answer to /bytes/0');
    expect((await client.readResponse()).body.toString()).toBe('answer to /more/0');
    client.destroy();
  });

  it('stops reading a client that pipelines far ahead of its responses', async () => {
    log.length = 0;
    const client = await RawClient.connect(server.port);
    const one = 'GET /held/200 HTTP/1.1\r\nHost: web\r\nX-Pad: ' + 'p'.repeat(1000) + '\r\n\r\n';
    // ~4 MiB of pipelined requests: far more than the server may buffer.
    const burst = Buffer.from(one.repeat(4096));
    client.write(burst);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The socket is paused: the client's writes back up instead of piling up in the server.
    expect(client.socket.writableLength).toBeGreaterThan(1024 * 1024);
    expect(log).toEqual(['dispatch /held/200']);
    client.destroy();
  });
});
