// Retries against a real upstream that counts attempts server-side: 503s then success, a reset
// first attempt, a per-try timeout, a POST that reached the upstream (never retried), a POST on
// a keep-alive connection the upstream had reset (resent), and the retry budget holding a storm
// of failures to its ratio.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRequest } from './int-testing/clients.js';
import { config, doc, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import { startH1Upstream } from './int-testing/upstreams.js';
import type { H1Handler, Upstream } from './int-testing/upstreams.js';

/** `x-trellis-attempt` of every attempt the upstream saw, by request key (path). */
const attempts = new Map<string, string[]>();

const handler: H1Handler = (req, res, seen) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const key = url.pathname;
  const list = attempts.get(key) ?? [];
  list.push(String(req.headers['x-trellis-attempt']));
  attempts.set(key, list);
  const n = list.length;
  const failFirst = Number(url.searchParams.get('fail') ?? '0');
  if (key.startsWith('/flaky/')) {
    if (n <= failFirst) res.writeHead(503).end('unavailable');
    else res.end(`ok on attempt ${n}`);
  } else if (key.startsWith('/reset-first/')) {
    if (n === 1) req.socket.destroy();
    else res.end(`ok on attempt ${n}`);
  } else if (key.startsWith('/hang-first/')) {
    if (n > 1) res.end(`ok on attempt ${n}`);
  } else if (key.startsWith('/post-reset/')) {
    void seen.bodyDone.then(() => req.socket.destroy());
  } else if (key.startsWith('/stale-post/')) {
    void seen.bodyDone.then((body) => res.end(`${body.toString()}: ok on attempt ${n}`));
  } else if (key.startsWith('/storm/')) {
    res.writeHead(503).end('always unavailable');
  } else {
    res.end('ok');
  }
};

let upstream: Upstream;
/** Upstream of the stale-connection test, alone on its pool; keeps its last server socket. */
let staleUpstream: Upstream;
let staleSocket: Socket | undefined;
let gateway: TestGateway;

const retries = {
  attempts: 3,
  retryOn: ['gateway-error', 'reset', 'connect-failure'],
  backoff: { base: '1ms', max: '5ms' },
};

beforeAll(async () => {
  upstream = await startH1Upstream(handler);
  staleUpstream = await startH1Upstream((req, res, seen) => {
    staleSocket = req.socket;
    handler(req, res, seen);
  });
  gateway = await startGateway({
    config: config(
      service('web', [upstream.port]),
      service('stale', [staleUpstream.port]),
      doc('Route', 'stale', { hosts: ['stale'], destinations: [{ service: 'stale' }] }),
      service('storm', [upstream.port]),
      doc('Route', 'web', { hosts: ['web'], destinations: [{ service: 'web' }], retries }),
      doc('Route', 'hang', {
        hosts: ['web'],
        match: { path: { prefix: '/hang-first/' } },
        destinations: [{ service: 'web' }],
        retries: { ...retries, perTryTimeout: '150ms' },
      }),
      doc('Route', 'storm', { hosts: ['storm'], destinations: [{ service: 'storm' }], retries }),
      doc('RetryBudget', 'storm', {
        service: 'storm',
        ratio: 0.2,
        minRetriesPerSecond: 0,
        ttl: '60s',
      }),
    ),
  });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
  await staleUpstream.close();
});

/** Resolves with what `socket` received once it includes `needle`. */
function readUntil(socket: Socket, needle: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes(needle)) return;
      socket.off('data', onData);
      resolve(seen);
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before ${needle}: ${seen}`)));
  });
}

describe('retries', () => {
  it('retries 503s until the upstream succeeds, numbering the attempts', async () => {
    const res = await nodeRequest(gateway.port, {
      path: '/flaky/a?fail=2',
      headers: { host: 'web' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok on attempt 3');
    expect(attempts.get('/flaky/a')).toEqual(['1', '2', '3']);
  });

  it('gives up after the configured attempts and relays the last upstream answer', async () => {
    const res = await nodeRequest(gateway.port, {
      path: '/flaky/b?fail=10',
      headers: { host: 'web' },
    });
    expect(res.status).toBe(503);
    expect(res.headers['x-trellis-error']).toBeUndefined();
    expect(res.body.toString()).toBe('unavailable');
    expect(attempts.get('/flaky/b')).toEqual(['1', '2', '3', '4']);
  });

  it('retries a GET whose first attempt was reset', async () => {
    const res = await nodeRequest(gateway.port, {
      path: '/reset-first/c',
      headers: { host: 'web' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok on attempt 2');
    expect(attempts.get('/reset-first/c')).toEqual(['1', '2']);
  });

  it('retries after the per-try timeout', async () => {
    const res = await nodeRequest(gateway.port, {
      path: '/hang-first/d',
      headers: { host: 'web' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok on attempt 2');
    expect(attempts.get('/hang-first/d')).toEqual(['1', '2']);
  });

  it('does not retry a POST that reached the upstream', async () => {
    const res = await nodeRequest(gateway.port, {
      method: 'POST',
      path: '/post-reset/e',
      headers: { host: 'web', 'content-type': 'text/plain' },
      body: 'order #1',
    });
    expect(res.status).toBe(502);
    expect(res.headers['x-trellis-error']).toBe('upstream-reset');
    expect(attempts.get('/post-reset/e')).toEqual(['1']);
  });

  it('resends a POST on a keep-alive connection the upstream reset before the request was written', async () => {
    // One client connection to the gateway, kept alive, so the POST and the upstream's reset of
    // the pooled connection reach the gateway in the same turn of its event loop, the POST first:
    // the pool still holds the connection, and the socket refuses the request's first write.
    const client = connect({ host: '127.0.0.1', port: gateway.port });
    try {
      await new Promise((resolve) => client.once('connect', resolve));
      client.write('GET /warm/g HTTP/1.1\r\nHost: stale\r\n\r\n');
      expect(await readUntil(client, 'ok')).toMatch(/^HTTP\/1\.1 200 /);
      const replied = readUntil(client, 'ok on attempt');
      client.write(
        'POST /stale-post/g HTTP/1.1\r\nHost: stale\r\nContent-Length: 8\r\n\r\norder #2',
      );
      staleSocket?.resetAndDestroy();
      const text = await replied;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text.endsWith('order #2: ok on attempt 1')).toBe(true);
    } finally {
      client.destroy();
    }
    expect(attempts.get('/stale-post/g')).toEqual(['2']);
    expect(staleUpstream.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
    expect(staleUpstream.connections()).toBe(2);
    const post = gateway.completed.find((c) => c.request.exchange.target === '/stale-post/g');
    expect(post?.request.record.retryReasons).toEqual(['reset-before-request']);
  });

  it('the retry budget caps a storm at its ratio', async () => {
    // 50 requests to an upstream that always answers 503, each allowed 3 retries. The budget
    // (ratio 0.2, no per-second reserve, 60 s window so nothing ages out during the test) admits
    // a retry only while retries + 1 ≤ 0.2 × requests seen: at most 10 retries in all, so at
    // most 60 upstream attempts. No slack is needed: the count is checked before each retry.
    const requests = 50;
    const concurrency = 5;
    let sent = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < requests) {
          const i = sent++;
          const res = await nodeRequest(gateway.port, {
            path: `/storm/${i}`,
            headers: { host: 'storm' },
          });
          statuses.push(res.status);
        }
      }),
    );
    const total = [...attempts.entries()]
      .filter(([key]) => key.startsWith('/storm/'))
      .reduce((sum, [, list]) => sum + list.length, 0);
    expect(statuses).toEqual(Array(requests).fill(503));
    expect(total).toBeGreaterThanOrEqual(requests + 5);
    expect(total).toBeLessThanOrEqual(requests * 1.2);
  });
});
