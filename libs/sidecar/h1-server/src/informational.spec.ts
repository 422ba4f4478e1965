// Interim 1xx responses written ahead of the head (103 Early Hints relayed by the proxy), and
// every case in which the writer must send nothing instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient } from './testing/client.js';
import { echoBody, respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

const LINK = ['link', '</style.css>; rel=preload; as=style'];
const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload; as=style\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

let server: TestServer;
let onExchange: (exchange: DownstreamExchange) => void = () => undefined;

beforeAll(async () => {
  server = await startServer({ onExchange: (exchange) => onExchange(exchange) });
});

afterAll(() => server.close());

/** Sends `request` and returns every byte up to the end of the final response. */
async function rawExchange(request: string): Promise<string> {
  const client = await RawClient.connect(server.port);
  client.write(request);
  let raw = '';
  for (let i = 0; i < 5; i++) {
    const response = await client.readResponse();
    raw += response.raw;
    if (response.status >= 200) break;
  }
  client.destroy();
  return raw;
}

const GET_11 = 'GET / HTTP/1.1\r\nHost: web\r\n\r\n';

describe('ResponseWriter.informational', () => {
  it('writes a 103 with its fields before the final response', async () => {
    onExchange = (exchange) => {
      exchange.response.informational(103, LINK);
      respondText(exchange, 'ok');
    };
    expect(await rawExchange(GET_11)).toBe(EARLY_HINTS + OK);
  });

  it('writes several interim responses in order, without their framing fields', async () => {
    onExchange = (exchange) => {
      exchange.response.informational(102, ['content-length', '9', 'x-step', '1']);
      exchange.response.informational(103, LINK);
      respondText(exchange, 'ok');
    };
    expect(await rawExchange(GET_11)).toBe(
      `HTTP/1.1 102 Processing\r\nx-step: 1\r\n\r\n${EARLY_HINTS}${OK}`,
    );
  });

  it.each([
    ['100 (sent by body.start() alone)', 100],
    ['101 (upgrades only)', 101],
    ['a final status', 200],
    ['a status below 100', 99],
  ])('sends nothing for %s', async (_name, status) => {
    onExchange = (exchange) => {
      exchange.response.informational(status, LINK);
      respondText(exchange, 'ok');
    };
    expect(await rawExchange(GET_11)).toBe(OK);
  });

  it('sends nothing once the head was sent', async () => {
    onExchange = (exchange) => {
      const response = exchange.response;
      response.head(200, ['content-length', '2'], false, false);
      response.informational(103, LINK);
      response.write(Buffer.from('ok'));
      response.end();
      response.informational(103, LINK);
    };
    expect(await rawExchange(GET_11)).toBe(OK);
  });

  it('sends nothing to an HTTP/1.0 client (RFC 9110 §15.2)', async () => {
    onExchange = (exchange) => {
      exchange.response.informational(103, LINK);
      respondText(exchange, 'ok');
    };
    expect(await rawExchange('GET / HTTP/1.0\r\n\r\n')).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
    );
  });

  it('drops an interim response with a field HTTP/1.1 cannot carry, and still answers', async () => {
    onExchange = (exchange) => {
      exchange.response.informational(103, ['link', 'a\r\nset-cookie: x=1']);
      respondText(exchange, 'ok');
    };
    expect(await rawExchange(GET_11)).toBe(OK);
  });

  it('keeps Expect: 100-continue as it was: the 100 still follows body.start()', async () => {
    onExchange = (exchange) => {
      exchange.response.informational(103, LINK);
      echoBody(exchange);
    };
    const client = await RawClient.connect(server.port);
    client.write(
      'POST / HTTP/1.1\r\nHost: web\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n',
    );
    const hints = await client.readResponse();
    expect(hints.raw).toBe(EARLY_HINTS);
    const invite = await client.readResponse();
    expect(invite.raw).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.write('hi');
    const final = await client.readResponse();
    expect(final.status).toBe(200);
    expect(final.body.toString()).toBe('hi');
    client.destroy();
  });
});
