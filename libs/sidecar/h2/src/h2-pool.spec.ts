import type { ServerHttp2Stream } from 'node:http2';
import { FakeClock } from '@trellis/time';
import { afterEach, describe, expect, it } from 'vitest';
import { H2Pool } from './h2-pool.js';
import { collect, failure, startNodeH2Server } from './testing/h2-test-support.js';
import type { NodeH2Server } from './testing/h2-test-support.js';

const GET = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'pool'];

let servers: NodeH2Server[] = [];
let pools: H2Pool[] = [];

afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  pools = [];
});

/** A server answering 200 with the server-side session number in the body. */
async function countingServer(
  options: { maxConcurrentStreams?: number; hold?: ServerHttp2Stream[] } = {},
): Promise<{ server: NodeH2Server; sessionsSeen: () => number; held: () => number }> {
  let seen = 0;
  let heldCount = 0;
  const ids = new WeakMap<object, number>();
  const server = await startNodeH2Server(
    (stream) => {
      const id = ids.get(stream.session!) ?? ids.set(stream.session!, ++seen).get(stream.session!)!;
      if (options.hold) {
        heldCount++;
        options.hold.push(stream);
        return;
      }
      stream.respond({ ':status': 200 });
      stream.end(String(id));
    },
    options.maxConcurrentStreams === undefined
      ? {}
      : { settings: { maxConcurrentStreams: options.maxConcurrentStreams } },
  );
  servers.push(server);
  return { server, sessionsSeen: () => seen, held: () => heldCount };
}

function newPool(options: ConstructorParameters<typeof H2Pool>[0] = {}): H2Pool {
  const pool = new H2Pool(options);
  pools.push(pool);
  return pool;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}

describe('H2Pool', () => {
  it('reuses one session for sequential and concurrent requests', async () => {
    const { server, sessionsSeen } = await countingServer();
    const pool = newPool();
    const origin = { host: '127.0.0.1', port: server.port };
    await collect(pool.request(origin, GET, { endStream: true }));
    const bodies = await Promise.all(
      [1, 2, 3].map(() => collect(pool.request(origin, GET, { endStream: true }))),
    );
    expect(bodies.map((b) => b.body.toString())).toEqual(['1', '1', '1']);
    expect(sessionsSeen()).toBe(1);
  });

  it('opens sessions up to maxSessionsPerOrigin when all are full, queueing the rest', async () => {
    const hold: ServerHttp2Stream[] = [];
    const { server, sessionsSeen, held } = await countingServer({ maxConcurrentStreams: 2, hold });
    const pool = newPool({ maxSessionsPerOrigin: 3 });
    const dest = pool.destination({ host: '127.0.0.1', port: server.port });
    const results = Array.from({ length: 8 }, () =>
      collect(dest.request(GET, { endStream: true })),
    );
    await until(() => held() === 6);
    expect(dest.stats()).toEqual({ sessions: 3, connecting: 0, queued: 2, active: 6 });
    expect(sessionsSeen()).toBe(3);
    const release = (): void => {
      for (const s of hold.splice(0)) {
        s.respond({ ':status': 200 });
        s.end();
      }
    };
    release();
    await until(() => held() === 8);
    release();
    expect((await Promise.all(results)).map((r) => r.status)).toEqual(new Array(8).fill(200));
    expect(dest.stats().queued).toBe(0);
  });

  it('replaces a session that received GOAWAY', async () => {
    const { server, sessionsSeen } = await countingServer();
    const pool = newPool();
    const origin = { host: '127.0.0.1', port: server.port };
    expect((await collect(pool.request(origin, GET, { endStream: true }))).body.toString()).toBe(
      '1',
    );
    const serverSession = [...server.sessions][0]!;
    const gone = new Promise((r) => serverSession.once('close', r));
    serverSession.close();
    await gone;
    expect((await collect(pool.request(origin, GET, { endStream: true }))).body.toString()).toBe(
      '2',
    );
    expect(sessionsSeen()).toBe(2);
  });

  it('fails in-flight streams when the connection dies and recovers on the next request', async () => {
    const hold: ServerHttp2Stream[] = [];
    const { server, held } = await countingServer({ hold });
    const pool = newPool();
    const dest = pool.destination({ host: '127.0.0.1', port: server.port });
    const lost = failure(dest.request(GET, { endStream: true }));
    await until(() => held() === 1);
    for (const socket of server.sockets) socket.destroy();
    expect((await lost).code).toBe('TRL_H2_CONNECTION_CLOSED');
    await until(() => dest.stats().sessions === 0);
    const next = collect(dest.request(GET, { endStream: true }));
    await until(() => held() === 2);
    hold[1]!.respond({ ':status': 200 });
    hold[1]!.end();
    expect((await next).status).toBe(200);
  });

  it('fails queued streams with a retriable connect error when the destination is down', async () => {
    const { server } = await countingServer();
    const port = server.port;
    await server.close();
    servers = [];
    const pool = newPool();
    const errors = await Promise.all(
      [1, 2].map(() =>
        failure(pool.request({ host: '127.0.0.1', port }, GET, { endStream: true })),
      ),
    );
    expect(errors.map((e) => [e.code, e.retriable])).toEqual([
      ['TRL_H2_CONNECT_FAILED', true],
      ['TRL_H2_CONNECT_FAILED', true],
    ]);
  });

  it('drops a queued stream that the consumer resets', async () => {
    const hold: ServerHttp2Stream[] = [];
    const { server, held } = await countingServer({ maxConcurrentStreams: 1, hold });
    const pool = newPool({ maxSessionsPerOrigin: 1 });
    const dest = pool.destination({ host: '127.0.0.1', port: server.port });
    const first = collect(dest.request(GET, { endStream: true }));
    const queued = dest.request(GET, { endStream: true });
    await until(() => held() === 1);
    expect(dest.stats().queued).toBe(1);
    queued.reset();
    expect(dest.stats().queued).toBe(0);
    hold[0]!.respond({ ':status': 200 });
    hold[0]!.end();
    expect((await first).status).toBe(200);
    expect(queued.id).toBe(0);
  });

  it('close() lets in-flight requests finish and refuses new ones', async () => {
    const hold: ServerHttp2Stream[] = [];
    const { server, held } = await countingServer({ hold });
    const pool = newPool();
    const origin = { host: '127.0.0.1', port: server.port };
    const inFlight = collect(pool.request(origin, GET, { endStream: true }));
    await until(() => held() === 1);
    const closing = pool.close();
    const refused = await failure(pool.request(origin, GET, { endStream: true }));
    expect([refused.code, refused.retriable]).toEqual(['TRL_H2_POOL_CLOSED', true]);
    hold[0]!.respond({ ':status': 200 });
    hold[0]!.end('done');
    expect((await inFlight).body.toString()).toBe('done');
    await closing;
    expect(pool.destination(origin).stats().sessions).toBe(0);
  });

  it('lets idle sessions close on the injected clock', async () => {
    const { server } = await countingServer();
    const clock = new FakeClock();
    const pool = newPool({ clock, idleTimeoutMs: 5_000 });
    const dest = pool.destination({ host: '127.0.0.1', port: server.port });
    await collect(dest.request(GET, { endStream: true }));
    expect(dest.stats().sessions).toBe(1);
    clock.advance(5_000);
    expect(dest.stats().sessions).toBe(0);
    expect((await collect(dest.request(GET, { endStream: true }))).status).toBe(200);
  });
});
