import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import type { H1ServerError } from './errors.js';
import { RequestParser } from './request-parser.js';
import { echoBody } from './testing/respond.js';
import { rawExchange, startServer, statusLines } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';
import { H1Server } from './server.js';

let server: TestServer;
const dispatched: string[] = [];
const refused: string[] = [];
let onExchange: (exchange: DownstreamExchange) => void = echoBody;

beforeAll(async () => {
  server = await startServer({
    maxBodyBytes: 10,
    onExchange: (exchange) => {
      dispatched.push(exchange.target);
      onExchange(exchange);
    },
    onBadRequest: (reason) => refused.push(reason),
  });
});

afterAll(() => server.close());

describe('maxBodyBytes', () => {
  it('serves a Content-Length body of exactly the limit', async () => {
    onExchange = echoBody;
    const raw = await rawExchange(server.port, [
      'POST /ten HTTP/1.1\r\nHost: web\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789',
    ]);
    expect(statusLines(raw.text)).toEqual([200]);
    expect(raw.text.endsWith('0123456789\r\n0\r\n\r\n')).toBe(true);
  });

  it('refuses a larger Content-Length with 413 before dispatching, then closes', async () => {
    onExchange = echoBody;
    const before = dispatched.length;
    const raw = await rawExchange(server.port, [
      'POST /eleven HTTP/1.1\r\nHost: web\r\nContent-Length: 11\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([413]);
    expect(raw.text).toContain('x-trellis-error: request-too-large\r\n');
    expect(raw.text).toContain('connection: close\r\n');
    expect(raw.closedByServer).toBe(true);
    expect(dispatched.length).toBe(before);
    expect(refused.at(-1)).toBe('body-too-large');
  });

  it('refuses a chunked body at the chunk that passes the limit, failing the reader', async () => {
    const errors: Error[] = [];
    const received: string[] = [];
    onExchange = (exchange) =>
      exchange.body.start({
        onData: (chunk) => received.push(chunk.toString()),
        onEnd: () => undefined,
        onError: (error) => errors.push(error),
      });
    const raw = await rawExchange(
      server.port,
      [
        'POST /chunked HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n',
        '5\r\nghijk\r\n0\r\n\r\n',
      ],
      { gapMs: 30 },
    );
    expect(statusLines(raw.text)).toEqual([413]);
    expect(raw.text).toContain('x-trellis-error: request-too-large\r\n');
    expect(raw.closedByServer).toBe(true);
    expect(received).toEqual(['abcdef']);
    expect(errors.map((e) => (e as H1ServerError).code)).toEqual(['TRL_H1S_BAD_REQUEST']);
  });

  it('cuts the connection when the response had already started', async () => {
    onExchange = (exchange) => {
      exchange.body.start({
        onData: () => undefined,
        onEnd: () => undefined,
        onError: () => undefined,
      });
      exchange.response.head(200, ['content-length', '100'], false, false);
      exchange.response.write(Buffer.from('early'));
    };
    const raw = await rawExchange(
      server.port,
      [
        'POST /started HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n',
        '8\r\nefghijkl\r\n0\r\n\r\n',
      ],
      { gapMs: 30 },
    );
    expect(statusLines(raw.text)).toEqual([200]);
    expect(raw.text.endsWith('early')).toBe(true);
    expect(raw.closedByServer).toBe(true);
  });

  it('counts every chunk of one request, and starts again with the next request', () => {
    const parser = new RequestParser(
      { onBody: () => undefined, onEnd: () => undefined },
      { maxHeaderBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 4 },
    );
    const first = Buffer.from(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n',
    );
    let at = parser.execute(first, 0);
    expect(parser.takeHead()?.chunked).toBe(true);
    while (!parser.complete) at = parser.execute(first, at);
    parser.reset();
    const second = Buffer.from(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n1\r\ne\r\n',
    );
    at = parser.execute(second, 0);
    expect(() => {
      while (at < second.length) at = parser.execute(second, at);
    }).toThrow(expect.objectContaining({ reason: 'body-too-large', status: 413 }) as Error);
  });

  it('rejects a negative or NaN limit', () => {
    for (const maxBodyBytes of [-1, Number.NaN]) {
      expect(() => new H1Server({ onExchange: () => undefined, maxBodyBytes })).toThrow(
        expect.objectContaining({ code: 'TRL_H1S_INVALID_OPTIONS' }) as Error,
      );
    }
  });
});
