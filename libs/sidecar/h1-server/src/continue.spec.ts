import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamExchange } from './exchange.js';
import { RawClient, header } from './testing/client.js';
import { echoBody, respondText } from './testing/respond.js';
import { startServer } from './testing/servers.js';
import type { TestServer } from './testing/servers.js';

const execFileAsync = promisify(execFile);

let server: TestServer;
let dir: string;
let onExchange: (exchange: DownstreamExchange) => void = echoBody;

beforeAll(async () => {
  server = await startServer({ onExchange: (exchange) => onExchange(exchange) });
  dir = await mkdtemp(join(tmpdir(), 'h1s-continue-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Expect: 100-continue', () => {
  it('sends 100 only when the body is read, then takes the body (curl)', async () => {
    const file = join(dir, 'upload.bin');
    const content = Buffer.alloc(256 * 1024, 7);
    await writeFile(file, content);
    const events: string[] = [];
    onExchange = (exchange) => {
      events.push('dispatched');
      // Read the body later than the dispatch but before curl's 1 s wait for 100 runs out.
      setTimeout(() => {
        events.push('body read');
        echoBody(exchange);
      }, 300);
    };
    const { stdout, stderr } = await execFileAsync(
      'curl',
      [
        '-sS',
        '-v',
        '-o',
        '-',
        '-H',
        'Expect: 100-continue',
        '--expect100-timeout',
        '5',
        '--data-binary',
        `@${file}`,
        `http://127.0.0.1:${server.port}/upload`,
      ],
      { encoding: 'buffer', maxBuffer: 4 * 1024 * 1024 },
    );
    const log = stderr.toString();
    expect(log).toContain('< HTTP/1.1 100 Continue');
    expect(log).toContain('< HTTP/1.1 200 OK');
    expect(stdout.equals(content)).toBe(true);
    expect(events).toEqual(['dispatched', 'body read']);
  });

  it('sends nothing before body.start(): the 100 follows it', async () => {
    let start: (() => void) | undefined;
    onExchange = (exchange) => {
      start = () => echoBody(exchange);
    };
    const client = await RawClient.connect(server.port);
    client.write(
      'POST / HTTP/1.1\r\nHost: web\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n',
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(client.unread).toBe('');
    start?.();
    await client.waitFor((s) => s.length >= 25);
    expect(client.unread).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.write('data');
    await client.waitFor((s) => s.includes('data'));
    const text = client.unread;
    expect(text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n')).toBe(true);
    client.destroy();
  });

  it('never invites the body of a refused request, and closes after refusing', async () => {
    onExchange = (exchange) => respondText(exchange, 'no', 417);
    const client = await RawClient.connect(server.port);
    client.write(
      'POST / HTTP/1.1\r\nHost: web\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n',
    );
    const response = await client.readResponse();
    expect(response.raw).toBe(
      'HTTP/1.1 417 Expectation Failed\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno',
    );
    await client.closed;
    expect(client.unread).toBe('');
  });

  it('curl sees the refusal without a 100 and without sending its body', async () => {
    onExchange = (exchange) => respondText(exchange, 'refused', 403);
    const { stdout, stderr } = await execFileAsync('curl', [
      '-sS',
      '-v',
      '-H',
      'Expect: 100-continue',
      '--expect100-timeout',
      '5',
      '--data-binary',
      'x'.repeat(5000),
      `http://127.0.0.1:${server.port}/refuse`,
    ]);
    expect(stdout).toBe('refused');
    expect(stderr).not.toContain('100 Continue');
    expect(stderr).toContain('< HTTP/1.1 403 Forbidden');
  });

  it('ignores Expect on an HTTP/1.0 request', async () => {
    onExchange = echoBody;
    const client = await RawClient.connect(server.port);
    client.write('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi');
    const response = await client.readResponse();
    expect(response.raw.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(response.body.toString()).toBe('hi');
    expect(header(response, 'connection')).toBe('close');
  });
});
