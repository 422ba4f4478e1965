import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool } from './pool.js';
import { exchange, get } from './testing/collector.js';
import { readUntil, startHttpUpstream } from './testing/servers.js';
import type { TestUpstream } from './testing/servers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(upstream: TestUpstream): H1Pool {
  const p = new H1Pool({
    host: '127.0.0.1',
    port: upstream.port,
    maxConnections: 2,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
  });
  cleanups.push(() => p.destroy());
  return p;
}

/** Reads from a handed-over socket, starting with the bytes the pool had already read. */
function readFrom(socket: Socket, head: Buffer, needle: string): Promise<string> {
  const pending = readUntil(socket, needle);
  const seen = head.toString('latin1');
  socket.resume();
  if (seen.includes(needle)) return Promise.resolve(seen);
  return pending.then((rest) => seen + rest);
}

describe('H1Pool upgrades', () => {
  it('hands the socket of a 101 to the caller, with bytes already read, out of the pool', async () => {
    const upstream = await startHttpUpstream(
      (_req, res) => res.end('plain'),
      (server) =>
        server.on('upgrade', (req, socket: Socket) => {
          socket.write(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n' +
              `welcome ${String(req.headers.upgrade)}|`,
          );
          socket.pipe(socket);
        }),
    );
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const run = exchange(p, get('/ws', ['Connection', 'Upgrade', 'Upgrade', 'echo']));
    const outcome = await run.done;
    expect(outcome.calls).toEqual(['head:101', 'upgrade']);
    expect(outcome.status).toBe(101);
    expect(outcome.headers).toEqual(['Upgrade', 'echo', 'Connection', 'Upgrade']);
    const upgrade = outcome.upgrade as { socket: Socket; head: Buffer };
    cleanups.push(() => void upgrade.socket.destroy());
    expect(upgrade.socket.isPaused()).toBe(true);
    expect(upgrade.socket.listenerCount('data')).toBe(0);
    expect(p.stats()).toMatchObject({ open: 0, busy: 0, idle: 0 });

    expect(await readFrom(upgrade.socket, upgrade.head, '|')).toBe('welcome echo|');
    const echoed = readUntil(upgrade.socket, 'ping');
    upgrade.socket.write('ping');
    expect(await echoed).toBe('ping');

    // The pool carries on with a fresh connection.
    const next = await exchange(p, get('/')).done;
    expect(next.body.toString()).toBe('plain');
    expect(upstream.connections()).toBe(2);
  });

  it('treats a refused upgrade as an ordinary response on a reusable connection', async () => {
    const upstream = await startHttpUpstream((_req, res) => res.writeHead(426).end('no'));
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const outcome = await exchange(p, get('/ws', ['Connection', 'Upgrade', 'Upgrade', 'echo']))
      .done;
    expect(outcome.calls).toEqual(['head:426', 'data', 'end']);
    expect(outcome.body.toString()).toBe('no');
  });

  it('hands over the tunnel of a 2xx to CONNECT', async () => {
    const upstream = await startHttpUpstream(
      (_req, res) => res.end(),
      (server) =>
        server.on('connect', (_req, socket: Socket) => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          socket.pipe(socket);
        }),
    );
    cleanups.push(() => upstream.close());
    const p = pool(upstream);
    const outcome = await exchange(p, {
      method: 'CONNECT',
      path: 'db.internal:5432',
      headers: ['Host', 'db.internal:5432'],
      hasBody: false,
    }).done;
    expect(outcome.calls).toEqual(['head:200', 'upgrade']);
    const upgrade = outcome.upgrade as { socket: Socket; head: Buffer };
    cleanups.push(() => void upgrade.socket.destroy());
    const echoed = readFrom(upgrade.socket, upgrade.head, 'tunnelled');
    upgrade.socket.write('tunnelled');
    expect(await echoed).toBe('tunnelled');
    expect(p.stats().open).toBe(0);
  });
});
