import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient, header } from './testing/client.js';
import { respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

const execFileAsync = promisify(execFile);

let server: TestServer;
const seen: DownstreamExchange[] = [];

beforeAll(async () => {
  server = await startServer({
    onExchange(exchange) {
      seen.push(exchange);
      if (exchange.target === '/close') {
        respondText(exchange, 'bye', 200, ['connection', 'close']);
        return;
      }
      respondText(exchange, `you asked for ${exchange.target}`);
    },
  });
});

afterAll(() => server.close());

describe('keep-alive', () => {
  it('serves 300 sequential requests on one connection', async () => {
    const client = await RawClient.connect(server.port);
    const before = server.accepted();
    for (let i = 0; i < 300; i++) {
      client.write(`GET /r${i} HTTP/1.1\r\nHost: web\r\n\r\n`);
      const response = await client.readResponse();
      expect(response.status).toBe(200);
      expect(response.body.toString()).toBe(`you asked for /r${i}`);
      expect(header(response, 'connection')).toBeUndefined();
    }
    expect(server.accepted()).toBe(before);
    expect(client.ended).toBe(false);
    client.destroy();
  });

  it('hands the exchange its request facts', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /facts?x=1 HTTP/1.1\r\nHost: Web.Example\r\nX-Custom: A b\r\n\r\n');
    await client.readResponse();
    const exchange = seen.at(-1) as DownstreamExchange;
    expect({
      protocol: exchange.protocol,
      method: exchange.method,
      authority: exchange.authority,
      target: exchange.target,
      headers: exchange.headers,
      remoteAddress: exchange.remoteAddress,
      hasBody: exchange.hasBody,
    }).toEqual({
      protocol: 'http/1.1',
      method: 'GET',
      authority: 'Web.Example',
      target: '/facts?x=1',
      headers: ['host', 'Web.Example', 'x-custom', 'A b'],
      remoteAddress: '127.0.0.1',
      hasBody: false,
    });
    client.destroy();
  });

  it('answers Connection: close with Connection: close and closes', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /a HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    const response = await client.readResponse();
    expect(header(response, 'connection')).toBe('close');
    await client.closed;
    expect(client.unread).toBe('');
  });

  it('closes after a response that carries Connection: close', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /close HTTP/1.1\r\nHost: web\r\n\r\n');
    const response = await client.readResponse();
    expect(response.raw).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbye',
    );
    await client.closed;
  });

  it('closes an HTTP/1.0 connection that did not ask for keep-alive', async () => {
    const client = await RawClient.connect(server.port);
    client.write('GET /old HTTP/1.0\r\n\r\n');
    const response = await client.readResponse();
    expect(header(response, 'connection')).toBe('close');
    await client.closed;
  });

  it('keeps an HTTP/1.0 connection that asked for keep-alive', async () => {
    const client = await RawClient.connect(server.port);
    for (const path of ['/one', '/two']) {
      client.write(`GET ${path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`);
      const response = await client.readResponse();
      expect(header(response, 'connection')).toBe('keep-alive');
      expect(response.body.toString()).toBe(`you asked for ${path}`);
    }
    expect(client.ended).toBe(false);
    client.destroy();
  });

  it('reuses one connection across URLs with curl', async () => {
    const before = server.accepted();
    const { stdout, stderr } = await execFileAsync('curl', [
      '-sS',
      '-v',
      `http://127.0.0.1:${server.port}/c1`,
      `http://127.0.0.1:${server.port}/c2`,
    ]);
    expect(stdout).toBe('you asked for /c1you asked for /c2');
    expect(stderr).toContain('Re-using existing connection');
    expect(server.accepted()).toBe(before + 1);
  });
});
