import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { echoBody, respondText } from './testing/respond.js';
import { rawExchange, startServer, statusLines } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';
import { malformed } from './testing/shapes.js';

let server: TestServer;
/** Targets dispatched to the handler. */
const dispatched: string[] = [];
const refusals: string[] = [];
let onExchange: (exchange: DownstreamExchange) => void = echoBody;

beforeAll(async () => {
  server = await startServer({
    onExchange(exchange) {
      dispatched.push(exchange.target);
      onExchange(exchange);
    },
    onBadRequest: (reason, remoteAddress) => refusals.push(`${reason} from ${remoteAddress}`),
  });
});

afterAll(() => server.close());

async function stillServes(): Promise<void> {
  const onExchangeBefore = onExchange;
  onExchange = (exchange) => respondText(exchange, 'fine');
  const ok = await rawExchange(server.port, [
    'GET /after HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n',
  ]);
  expect(statusLines(ok.text)).toEqual([200]);
  onExchange = onExchangeBefore;
}

describe('request smuggling shapes over a socket', () => {
  it.each(malformed)('$name: refused with $status, connection closed', async (shape) => {
    onExchange = echoBody;
    const halves = Math.floor(shape.text.length / 2);
    for (const pieces of [[shape.text], [shape.text.slice(0, halves), shape.text.slice(halves)]]) {
      dispatched.length = 0;
      refusals.length = 0;
      const raw = await rawExchange(
        server.port,
        pieces.map((p) => Buffer.from(p, 'latin1')),
        { gapMs: 20 },
      );
      expect(statusLines(raw.text)).toEqual([shape.status]);
      expect(raw.text).toContain(
        `\r\nx-trellis-error: ${shape.status === 431 ? 'headers-too-large' : 'bad-request'}\r\n`,
      );
      expect(raw.text).toContain('\r\nconnection: close\r\n');
      expect(raw.closedByServer).toBe(true);
      expect(dispatched).toHaveLength(shape.heads);
      expect(dispatched).not.toContain('/smuggled');
      expect(refusals).toEqual([`${shape.reason} from 127.0.0.1`]);
    }
    await stillServes();
  });

  it.each(malformed.filter((shape) => shape.heads === 1))(
    '$name, after the response was sent: no second response, connection closed',
    async (shape) => {
      // The handler answers at once without reading: the body error surfaces while the rest of
      // the body is discarded, when only closing is left.
      onExchange = (exchange) => respondText(exchange, 'early answer');
      dispatched.length = 0;
      const raw = await rawExchange(server.port, [Buffer.from(shape.text, 'latin1')]);
      expect(statusLines(raw.text)).toEqual([200]);
      expect(raw.closedByServer).toBe(true);
      expect(dispatched).toEqual(['/']);
      await stillServes();
    },
  );

  it('a body error while the response is streaming cuts the connection, no 400 spliced in', async () => {
    onExchange = (exchange) => {
      exchange.response.head(200, [], false, false);
      exchange.response.write(Buffer.from('partial'));
      exchange.body.start({
        onData: () => undefined,
        onEnd: () => undefined,
        onError: () => undefined,
      });
    };
    dispatched.length = 0;
    const raw = await rawExchange(
      server.port,
      [
        'POST /stream HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
        'zz\r\nGET /smuggled HTTP/1.1\r\nHost: web\r\n\r\n',
      ],
      { gapMs: 50 },
    );
    expect(statusLines(raw.text)).toEqual([200]);
    expect(raw.text).toContain('partial');
    expect(raw.text).not.toContain('0\r\n\r\n');
    expect(raw.closedByServer).toBe(true);
    expect(dispatched).toEqual(['/stream']);
  });

  it('a body error before the response tells the reader and the abort callbacks', async () => {
    const seen: string[] = [];
    onExchange = (exchange) => {
      exchange.onAbort(() => seen.push('abort'));
      exchange.body.start({
        onData: (chunk) => seen.push(`data ${chunk.toString()}`),
        onEnd: () => seen.push('end'),
        onError: (error) => seen.push(`error ${(error as { reason?: string }).reason}`),
      });
    };
    const raw = await rawExchange(server.port, [
      'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n2\r\nnope\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([400]);
    expect(seen).toEqual(['data ok', 'data no', 'error invalid-chunk-data', 'abort']);
  });
});
