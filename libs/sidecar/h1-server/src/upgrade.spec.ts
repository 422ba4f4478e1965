import type { Socket } from 'node:net';
import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import type { RequestHead } from './request-head.js';
import { RawClient } from './testing/client.js';
import { respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

let server: TestServer;
const upgrades: { request: RequestHead; head: string }[] = [];
const exchanges: DownstreamExchange[] = [];

/** Switches to an echo protocol: everything the client sends comes back. */
function echo(request: RequestHead, socket: Socket, head: Buffer): void {
  upgrades.push({ request, head: head.toString('latin1') });
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${request.upgrade}\r\n\r\n`,
  );
  if (head.length > 0) socket.write(head);
  socket.on('error', () => undefined);
  socket.pipe(socket);
}

beforeAll(async () => {
  server = await startServer({
    onExchange(exchange) {
      exchanges.push(exchange);
      respondText(exchange, `plain answer to ${exchange.target}`);
    },
    onUpgrade: echo,
  });
});

afterAll(() => server.close());

describe('Upgrade', () => {
  it('hands the raw socket and the bytes read past the head to onUpgrade', async () => {
    const client = await RawClient.connect(server.port);
    client.write(
      'GET /chat HTTP/1.1\r\nHost: web\r\nConnection: keep-alive, Upgrade\r\nUpgrade: echo/1\r\n\r\nearly ',
    );
    await client.waitFor((s) => s.endsWith('early '));
    expect(client.unread).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo/1\r\n\r\nearly ',
    );
    client.write('ping');
    await client.waitFor((s) => s.endsWith('ping'));
    expect(upgrades.at(-1)?.head).toBe('early ');
    expect(upgrades.at(-1)?.request.target).toBe('/chat');
    // Handed off: the server no longer counts or times the connection.
    await waitFor(() => server.h1.connections === 0, { timeoutMs: 5_000, what: 'the hand-off' });
    client.destroy();
  });

  it('serves Upgrade: h2c as plain HTTP/1.1', async () => {
    const before = upgrades.length;
    const client = await RawClient.connect(server.port);
    client.write(
      'GET /h2c HTTP/1.1\r\nHost: web\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    );
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('plain answer to /h2c');
    expect(upgrades.length).toBe(before);
    client.destroy();
  });

  it('hands Upgrade: h2c to onH2cUpgrade when it accepts the request, else serves HTTP/1.1', async () => {
    const taken: { target: string; head: string }[] = [];
    const h2c = await startServer({
      onExchange: (exchange) => respondText(exchange, `plain answer to ${exchange.target}`),
      onUpgrade: echo,
      onH2cUpgrade: {
        accepts: (request) => request.target === '/take',
        upgrade: (request, socket, head) => {
          taken.push({ target: request.target, head: head.toString('latin1') });
          socket.end('switched');
        },
      },
    });
    try {
      const ask = (target: string) =>
        `GET ${target} HTTP/1.1\r\nHost: web\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n';
      const kept = await RawClient.connect(h2c.port);
      kept.write(ask('/keep'));
      expect((await kept.readResponse()).body.toString()).toBe('plain answer to /keep');
      kept.destroy();
      const client = await RawClient.connect(h2c.port);
      client.write(`${ask('/take')}PRI * HTTP/2.0`);
      await client.waitFor((s) => s.endsWith('switched'));
      expect(taken).toEqual([{ target: '/take', head: 'PRI * HTTP/2.0' }]);
      client.destroy();
    } finally {
      await h2c.close();
    }
  });

  it('serves Upgrade without Connection: upgrade as plain HTTP/1.1', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /plain HTTP/1.1\r\nHost: web\r\nUpgrade: echo\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('plain answer to /plain');
    client.destroy();
  });

  it('ignores Upgrade on HTTP/1.0', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /old HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('plain answer to /old');
  });

  it('serves upgrade requests as plain requests when no onUpgrade is given', async () => {
    const plain = await startServer({ onExchange: (ex) => respondText(ex, 'no upgrade here') });
    try {
      const client = await RawClient.connect(plain.port);
      client.write(
        'GET / HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
      );
      expect((await client.readResponse()).body.toString()).toBe('no upgrade here');
      client.destroy();
    } finally {
      await plain.close();
    }
  });

  it('answers CONNECT with 501 and closes', async () => {
    const before = exchanges.length;
    const client = await RawClient.connect(server.port);
    client.write('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(501);
    await client.closed;
    expect(exchanges.length).toBe(before);
  });
});
