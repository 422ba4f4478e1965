import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool } from './pool.js';
import { exchange } from './testing/collector.js';
import { startHttpUpstream, startRawUpstream } from './testing/servers.js';
import type { TestUpstream } from './testing/servers.js';
import type { RequestHandle } from './types.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(upstream: TestUpstream): H1Pool {
  const p = new H1Pool({
    host: '127.0.0.1',
    port: upstream.port,
    maxConnections: 1,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
  });
  cleanups.push(() => p.destroy());
  return p;
}

const CHUNK = Buffer.alloc(64 * 1024, 1);

/** Writes `count` chunks, several per turn as a busy downstream read would, honouring drain. */
function stream(handle: RequestHandle, count: number): void {
  let sent = 0;
  const more = (): void => {
    while (sent < count) {
      sent++;
      if (!handle.write(CHUNK)) {
        handle.onDrain = more;
        return;
      }
      if (sent % 8 === 0) {
        setImmediate(more);
        return;
      }
    }
    handle.end();
  };
  more();
}

describe('early answers while the request body streams', () => {
  it('delivers a 413 + Connection: close sent before the body was read', async () => {
    const upstream = await startHttpUpstream((_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      res.end('too big');
    });
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const run = exchange(p, {
      method: 'POST',
      path: '/upload',
      headers: ['Content-Length', String(64 * CHUNK.length)],
      hasBody: true,
    });
    stream(run.handle, 64);
    const outcome = await run.done;
    expect(outcome.error).toBeNull();
    expect(outcome.status).toBe(413);
    expect(outcome.body.toString()).toBe('too big');
    expect(outcome.calls.at(-1)).toBe('end');
    // A connection whose write failed is never reused.
    expect(p.stats()).toMatchObject({ open: 0, idle: 0 });
  });

  it('still reports a reset when the upstream closes without answering', async () => {
    const upstream = await startRawUpstream((socket) => {
      socket.once('data', () => socket.destroy());
    });
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const run = exchange(p, {
      method: 'POST',
      path: '/upload',
      headers: ['Content-Length', String(64 * CHUNK.length)],
      hasBody: true,
    });
    stream(run.handle, 64);
    const outcome = await run.done;
    expect(outcome.error?.code).toBe('TRL_H1_CONNECTION_RESET');
    expect(outcome.status).toBe(0);
  });
});
