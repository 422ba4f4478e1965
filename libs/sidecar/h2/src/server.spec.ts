// The server against real clients on 127.0.0.1: Node's http2 client (many streams, large bodies
// both ways), curl (prior knowledge and Upgrade: h2c), nghttp (also -u) and h2load.
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { H2ServerStream } from './server-stream.js';
import { echoStream, startTestServer } from './testing/h2-server-test-support.js';
import type { TestH2Server } from './testing/h2-server-test-support.js';
import { patternBytes, sha256 } from './testing/h2-test-support.js';

let server: TestH2Server | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Runs a client tool with a hard time bound; resolves with its exit code and stdout. */
function run(
  cmd: string,
  args: string[],
  input?: Buffer,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(chunks).toString() });
    });
    child.stdin.end(input);
  });
}

/** Echoes the request body back as it arrives, with back-pressure both ways. */
function streamBack(stream: H2ServerStream): void {
  stream.respond(200, ['content-type', 'application/octet-stream']);
  stream.setHandler({
    onData: (chunk) => {
      if (!stream.write(chunk)) stream.pause();
    },
    onDrain: () => stream.resume(),
    onEnd: () => stream.end(),
  });
  stream.resume();
}

describe('real clients', () => {
  it('Node http2: 200 concurrent streams, and 8 MiB streamed up and back', async () => {
    server = await startTestServer((s) => (s.path === '/back' ? streamBack(s) : echoStream(s)), {
      maxConcurrentStreams: 500,
    });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const request = (path: string, body?: Buffer) =>
        new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
          const req = session.request({ ':method': 'POST', ':path': path });
          const chunks: Buffer[] = [];
          let status = 0;
          req.on('response', (h) => (status = Number(h[':status'])));
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
          req.on('error', reject);
          req.end(body);
        });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => request(`/s/${i}`, Buffer.from(`b${i}`))),
      );
      results.forEach((r, i) => {
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body.toString())).toMatchObject({
          path: `/s/${i}`,
          bodyLength: `b${i}`.length,
        });
      });
      const big = patternBytes(8 << 20, 7);
      const back = await request('/back', big);
      expect(sha256(back.body)).toBe(sha256(big));
    } finally {
      session.destroy();
    }
  });

  it('curl --http2-prior-knowledge', async () => {
    server = await startTestServer(echoStream);
    const { code, out } = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-d',
      'abc',
      `http://127.0.0.1:${server.port}/pk`,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ method: 'POST', path: '/pk', bodyLength: 3 });
  });

  it('curl --http2 upgrades from HTTP/1.1 and is answered on stream 1', async () => {
    server = await startTestServer(echoStream);
    const { code, out } = await run('curl', [
      '-sS',
      '-i',
      '--http2',
      `http://127.0.0.1:${server.port}/up?x=1`,
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(out).toContain('HTTP/2 200');
    expect(out).toContain('"path":"/up?x=1"');
    expect(server.streams[0]?.id).toBe(1);
    expect(server.streams[0]?.hasBody).toBe(false);
  });

  it('nghttp -u upgrades, then opens more streams', async () => {
    server = await startTestServer(echoStream);
    const base = `http://127.0.0.1:${server.port}`;
    const { code, out } = await run('nghttp', ['-u', '-t', '5', `${base}/one`, `${base}/two`]);
    expect(code).toBe(0);
    expect(out).toContain('"path":"/one"');
    expect(out).toContain('"path":"/two"');
  });

  it('nghttp uploads 3 MiB with trailers', async () => {
    server = await startTestServer(echoStream);
    const { code, out } = await run(
      'nghttp',
      ['-t', '5', '-d', '-', '--trailer', 'x-t: 1', `http://127.0.0.1:${server.port}/up`],
      patternBytes(3 << 20, 3),
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ bodyLength: 3 << 20, trailers: ['x-t', '1'] });
  });

  it('h2load: 2000 requests, 100 concurrent streams on 2 connections', async () => {
    server = await startTestServer(echoStream, { maxConcurrentStreams: 100 });
    const { code, out } = await run('h2load', [
      '-n',
      '2000',
      '-c',
      '2',
      '-m',
      '100',
      `http://127.0.0.1:${server.port}/load`,
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed/);
  });
});
