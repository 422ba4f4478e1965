// Interim 1xx responses through a real gateway (RFC 9110 §15.2: a proxy forwards them): Node's
// HTTP/1.1 and HTTP/2 servers send `103 Early Hints` with writeEarlyHints(), and Node's http and
// http2 clients and curl must see it, link header included, before the intact 200. What must
// not pass: an unsolicited 100 Continue, and any 1xx to an HTTP/1.0 client.
import { createServer as createH1Server } from 'node:http';
import type { Server as H1Server, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import type { Http2Server, Http2ServerResponse, ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, h2Connect } from './int-testing/clients.js';
import { config, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';

const LINK = '</style.css>; rel=preload; as=style';
const PAGE = 'the page, after its hints';
/** Longest an upstream holds its 200 waiting for the client to have seen the 103. */
const HOLD_BOUND_MS = 3_000;

/**
 * Releases held responses: a client that received the 103 releases the 200, so the hint is
 * proven to arrive on its own, not flushed along with the final response.
 */
const held = new Map<string, () => void>();

function release(token: string): void {
  held.get(token)?.();
}

/** Sends the 200 once released (or after HOLD_BOUND_MS, then the test fails on the order). */
function holdUntilHinted(token: string, finish: () => void): void {
  const timer = setTimeout(() => held.get(token)?.(), HOLD_BOUND_MS);
  held.set(token, () => {
    held.delete(token);
    clearTimeout(timer);
    finish();
  });
}

/** The handler both Node servers share (their responses have the same API for this). */
function answer(url: string, res: ServerResponse | Http2ServerResponse): void {
  const finish = () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(PAGE);
  };
  if (url.startsWith('/hold/')) {
    holdUntilHinted(url.slice('/hold/'.length), finish);
    res.writeEarlyHints({ link: LINK });
    return;
  }
  if (url === '/unsolicited-continue' && 'writeContinue' in res) {
    res.writeContinue();
  }
  res.writeEarlyHints({ link: LINK });
  finish();
}

interface Listening {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: H1Server | Http2Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let h1: Listening;
let h2: Listening;
let gateway: TestGateway;
const h2Sessions = new Set<ServerHttp2Session>();

beforeAll(async () => {
  h1 = await listen(createH1Server((req, res) => answer(req.url ?? '/', res)));
  const h2Server = createH2Server((req, res) => answer(req.url, res));
  h2Server.on('session', (session: ServerHttp2Session) => {
    h2Sessions.add(session);
    session.on('close', () => h2Sessions.delete(session));
    session.on('error', () => undefined);
  });
  h2 = await listen(h2Server);
  gateway = await startGateway({
    config: config(service('web', [h1.port]), service('h2web', [h2.port], { protocol: 'h2c' })),
  });
});

afterAll(async () => {
  await gateway.close();
  for (const session of h2Sessions) session.destroy();
  await h1.close();
  await h2.close();
});

let tokens = 0;
const nextToken = () => `t${++tokens}`;

/** Node's HTTP/1.1 client: every event in arrival order, the 103 releasing the held 200. */
function viaNodeHttp(host: string): Promise<string[]> {
  const token = nextToken();
  return new Promise((resolve, reject) => {
    const events: string[] = [];
    const req = httpRequest(
      { host: '127.0.0.1', port: gateway.port, path: `/hold/${token}`, headers: { host } },
      (res) => {
        events.push(`response ${res.statusCode}`);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          events.push(`body ${Buffer.concat(chunks).toString()}`);
          resolve(events);
        });
      },
    );
    req.on('information', (info) => {
      events.push(`information ${info.statusCode} ${String(info.headers['link'])}`);
      release(token);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('client request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Node's HTTP/2 client (prior knowledge): the same, from 'headers' and 'response' events. */
async function viaNodeHttp2(host: string): Promise<string[]> {
  const token = nextToken();
  const session = await h2Connect(gateway.port);
  try {
    return await new Promise((resolve, reject) => {
      const events: string[] = [];
      const stream = session.request({ ':path': `/hold/${token}`, ':authority': host });
      stream.on('headers', (headers) => {
        events.push(`information ${String(headers[':status'])} ${String(headers['link'])}`);
        release(token);
      });
      stream.on('response', (headers) => events.push(`response ${String(headers[':status'])}`));
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        events.push(`body ${Buffer.concat(chunks).toString()}`);
        resolve(events);
      });
      stream.setTimeout(10_000, () => stream.close());
      stream.on('error', reject);
    });
  } finally {
    session.close();
  }
}

const EXPECTED = [`information 103 ${LINK}`, 'response 200', `body ${PAGE}`];

describe.each([
  ['HTTP/1.1', 'web'],
  ['h2c', 'h2web'],
])('a 103 from an %s upstream', (_protocol, host) => {
  it('reaches Node’s HTTP/1.1 client before the 200, which is intact', async () => {
    expect(await viaNodeHttp(host)).toEqual(EXPECTED);
  });

  it('reaches Node’s HTTP/2 client before the 200, which is intact', async () => {
    expect(await viaNodeHttp2(host)).toEqual(EXPECTED);
  });

  it('shows in curl -v over HTTP/1.1', async () => {
    const res = await curl(['-v', '-H', `Host: ${host}`, `${gateway.origin}/hints`]);
    expect(res.stderr).toContain('< HTTP/1.1 103 Early Hints');
    expect(res.stderr).toContain(`< link: ${LINK}`);
    expect(res.interim).toEqual([103]);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(PAGE);
  });

  it('never reaches an HTTP/1.0 client', async () => {
    const res = await curl(['-v', '--http1.0', '-H', `Host: ${host}`, `${gateway.origin}/hints`]);
    expect(res.interim).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(PAGE);
  });
});

describe('interim responses the gateway keeps to itself', () => {
  it('drops an unsolicited 100 Continue and still forwards the 103', async () => {
    const res = await curl(['-v', '-H', 'Host: web', `${gateway.origin}/unsolicited-continue`]);
    expect(res.stderr).not.toContain('< HTTP/1.1 100');
    expect(res.interim).toEqual([103]);
    expect(res.body.toString()).toBe(PAGE);
  });
});
