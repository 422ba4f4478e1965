import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient } from './testing/client.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
let onExchange: (exchange: DownstreamExchange) => void = () => undefined;
/** socket.write calls on the latest server-side socket. */
let writes = 0;

beforeAll(async () => {
  server = await startServer(
    { onExchange: (exchange) => onExchange(exchange) },
    (socket: Socket) => {
      writes = 0;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        writes++;
        return write(...args);
      }) as Socket['write'];
    },
  );
});

afterAll(() => server.close());

async function exchangeOnce(request: string, noBody = false) {
  const client = await RawClient.connect(server.port);
  client.write(request);
  const response = await client.readResponse(noBody);
  return { client, response };
}

describe('responses', () => {
  it('writes head and a body known at end() in one socket write', async () => {
    onExchange = (exchange) => {
      exchange.response.head(
        200,
        ['content-type', 'text/plain', 'content-length', '5'],
        false,
        false,
      );
      exchange.response.write(Buffer.from('hel'));
      exchange.response.write(Buffer.from('lo'));
      exchange.response.end();
    };
    const { client, response } = await exchangeOnce('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(response.raw).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello',
    );
    expect(writes).toBe(1);
    client.destroy();
  });

  it('writes a chunked body with its trailers in one write when it is all known by end()', async () => {
    onExchange = (exchange) => {
      exchange.response.head(200, ['x-a', '1'], false, true);
      exchange.response.write(Buffer.from('abc'));
      exchange.response.write(Buffer.from('0123456789abcdef'));
      exchange.response.end(['grpc-status', '0']);
    };
    const { client, response } = await exchangeOnce('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(response.raw).toBe(
      'HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n' +
        '3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\ngrpc-status: 0\r\n\r\n',
    );
    expect(response.trailers).toEqual([['grpc-status', '0']]);
    expect(writes).toBe(1);
    client.destroy();
  });

  it('sends the head on its own when the body comes later, then streams chunks', async () => {
    let later: DownstreamExchange | undefined;
    onExchange = (exchange) => {
      exchange.response.head(200, [], false, false);
      later = exchange;
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    const head = await client.waitFor((s) => s.endsWith('\r\n\r\n'));
    expect(head).toBe('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
    const exchange = later as DownstreamExchange;
    exchange.response.write(Buffer.from('one'));
    await client.waitFor((s) => s.endsWith('one'));
    exchange.response.write(Buffer.from('two'));
    exchange.response.end();
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('onetwo');
    expect(response.raw.endsWith('3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n')).toBe(true);
    client.destroy();
  });

  it.each([
    ['chunked', [] as string[]],
    ['with a Content-Length', ['content-length', String(3 * 100 * 1024)]],
  ])('streams large writes intact (%s)', async (_name, headers) => {
    const pieces = [0, 1, 2].map((i) => Buffer.alloc(100 * 1024, 97 + i));
    onExchange = (exchange) => {
      exchange.response.head(200, headers, false, false);
      exchange.response.write(pieces[0] as Buffer); // joins the pending head, flushed corked
      setTimeout(() => {
        exchange.response.write(pieces[1] as Buffer); // written on its own
        exchange.response.write(pieces[2] as Buffer);
        exchange.response.end();
      }, 10);
    };
    const { client, response } = await exchangeOnce('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(response.body.equals(Buffer.concat(pieces))).toBe(true);
    client.destroy();
  });

  it('answers HEAD with the length and no body, and the connection stays in sync', async () => {
    onExchange = (exchange) => {
      exchange.response.head(200, ['content-length', '1234'], false, false);
      exchange.response.write(Buffer.alloc(1234, 97));
      exchange.response.end();
    };
    const { client, response } = await exchangeOnce('HEAD / HTTP/1.1\r\nHost: web\r\n\r\n', true);
    expect(response.raw).toBe('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n');
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    const get = await client.readResponse();
    expect(get.body.length).toBe(1234);
    client.destroy();
  });

  it.each([
    [204, 'HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n'],
    [304, 'HTTP/1.1 304 Not Modified\r\nx-a: 1\r\n\r\n'],
  ])('sends no body with %s, whatever is written', async (status, raw) => {
    onExchange = (exchange) => {
      exchange.response.head(status, ['x-a', '1'], false, false);
      exchange.response.write(Buffer.from('ignored'));
      exchange.response.end();
    };
    const { client, response } = await exchangeOnce('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(response.raw).toBe(raw);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect((await client.readResponse()).raw).toBe(raw);
    expect(client.unread).toBe('');
    client.destroy();
  });

  it('writes an empty response in one write with content-length: 0', async () => {
    onExchange = (exchange) => exchange.response.head(201, ['location', '/x'], true, false);
    const { client, response } = await exchangeOnce('POST / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(response.raw).toBe('HTTP/1.1 201 Created\r\nlocation: /x\r\ncontent-length: 0\r\n\r\n');
    expect(writes).toBe(1);
    client.destroy();
  });

  it('delimits an HTTP/1.0 body of unknown length by closing', async () => {
    onExchange = (exchange) => {
      exchange.response.head(200, [], false, false);
      exchange.response.write(Buffer.from('until the end'));
      exchange.response.end();
    };
    const { response } = await exchangeOnce('GET / HTTP/1.0\r\n\r\n');
    expect(response.raw).toBe('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end');
  });

  it('cuts the connection when the body ends short of its Content-Length', async () => {
    onExchange = (exchange) => {
      exchange.response.head(200, ['content-length', '10'], false, false);
      exchange.response.write(Buffer.from('short'));
      exchange.response.end();
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.closed;
    expect(client.unread).toBe('');
  });

  it('cuts the connection when the body runs past its Content-Length', async () => {
    let verdict: boolean | undefined;
    onExchange = (exchange) => {
      exchange.response.head(200, ['content-length', '2'], false, false);
      verdict = exchange.response.write(Buffer.from('too long'));
    };
    const client = await RawClient.connect(server.port);
    client.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    await client.closed;
    expect(verdict).toBe(true);
  });

  it('throws on misuse: write before head, head twice, write after end', async () => {
    const errors: string[] = [];
    onExchange = (exchange) => {
      const attempt = (f: () => void) => {
        try {
          f();
        } catch (error) {
          errors.push(`${(error as { code: string }).code}: ${(error as Error).message}`);
        }
      };
      attempt(() => exchange.response.write(Buffer.from('x')));
      attempt(() => exchange.response.end());
      exchange.response.head(200, ['content-length', '0'], false, false);
      attempt(() => exchange.response.head(200, [], false, false));
      exchange.response.end();
      attempt(() => exchange.response.write(Buffer.from('x')));
      expect(exchange.response.headSent).toBe(true);
      expect(exchange.response.finished).toBe(true);
    };
    const { client } = await exchangeOnce('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(errors).toEqual([
      'TRL_H1S_INVALID_RESPONSE: write() before head()',
      'TRL_H1S_INVALID_RESPONSE: end() before head()',
      'TRL_H1S_INVALID_RESPONSE: head() sent twice',
      'TRL_H1S_INVALID_RESPONSE: write() after end()',
    ]);
    client.destroy();
  });

  it('refuses header values that would split the response', async () => {
    let error: unknown;
    onExchange = (exchange) => {
      try {
        exchange.response.head(200, ['x-a', 'v\r\nset-cookie: a=b'], true, false);
      } catch (e) {
        error = e;
      }
      exchange.response.head(200, [], true, false);
    };
    const { client, response } = await exchangeOnce('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
    expect(error).toMatchObject({ code: 'TRL_H1S_INVALID_RESPONSE' });
    expect(response.raw).toBe('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    client.destroy();
  });
});
