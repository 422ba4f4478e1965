// A bounded load-and-fault run: 5,000 requests or more at concurrency 32 through the gateway to
// three upstream endpoints that fail at random (503, reset before answering) and are restarted
// (listener closed, connections dropped, listener back) while config is swapped underneath.
// Every request must get exactly one response, answers must never cross between requests, and
// the heap must come back near its baseline afterwards.
import { Agent, createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { config, doc, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';

// A real collection before each heap reading: without it heapUsed mostly measures garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Endpoint {
  port: number;
  served: number;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** An upstream that answers 200 (echoing the request id), 503, or resets before answering. */
async function startEndpoint(random: () => number): Promise<Endpoint> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    endpoint.served++;
    const roll = random();
    if (roll < 0.04) {
      req.socket.destroy();
      return;
    }
    if (roll < 0.1) {
      res.writeHead(503, { 'content-length': '0' }).end();
      return;
    }
    const id = String(req.headers['x-request-id']);
    res.writeHead(200, { 'content-type': 'text/plain', 'x-echo-id': id });
    res.end(id);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen(0);
  const endpoint: Endpoint = {
    port: (server.address() as AddressInfo).port,
    served: 0,
    close,
    async restart() {
      await close();
      await new Promise((r) => setTimeout(r, 30));
      await listen(endpoint.port);
    },
  };
  return endpoint;
}

let endpoints: Endpoint[];
const deadPorts: number[] = [];
let gateway: TestGateway;

const configFor = (ports: readonly number[]) =>
  config(
    service('web', ports),
    doc('Route', 'web', {
      hosts: ['web'],
      destinations: [{ service: 'web' }],
      timeout: '5s',
      retries: {
        attempts: 2,
        retryOn: ['gateway-error', 'reset', 'connect-failure'],
        backoff: { base: '2ms', max: '20ms' },
      },
    }),
  );

interface Outcome {
  responses: number;
  status: number;
  echoed: string | undefined;
  body: string;
  truncated: boolean;
  error: string | undefined;
}

/** Sends `count` GETs with ids `<prefix>-<n>`, `concurrency` at a time; records each outcome. */
async function drive(prefix: string, count: number, concurrency: number, agent: Agent) {
  const outcomes = new Map<string, Outcome>();
  let next = 0;
  const one = (id: string) =>
    new Promise<void>((resolve) => {
      const outcome: Outcome = {
        responses: 0,
        status: 0,
        echoed: undefined,
        body: '',
        truncated: false,
        error: undefined,
      };
      outcomes.set(id, outcome);
      const req = get(agent, id, (res) => {
        outcome.responses++;
        outcome.status = res.statusCode ?? 0;
        const echoed = res.headers['x-echo-id'];
        outcome.echoed = typeof echoed === 'string' ? echoed : undefined;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (outcome.body += c));
        res.on('aborted', () => (outcome.truncated = true));
        res.on('close', () => resolve());
      });
      req.on('error', (error) => {
        outcome.error ??= error.message;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(`${prefix}-${next++}`);
    }),
  );
  return outcomes;
}

let port = 0;

function get(agent: Agent, id: string, onResponse: (res: IncomingMessage) => void) {
  const req = request(
    {
      host: '127.0.0.1',
      port,
      path: `/r/${id}`,
      agent,
      headers: { host: 'web', 'x-request-id': id },
    },
    onResponse,
  );
  req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
  req.end();
  return req;
}

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

beforeAll(async () => {
  const random = prng(20_261_125);
  endpoints = await Promise.all([0, 1, 2].map(() => startEndpoint(random)));
  gateway = await startGateway({
    config: configFor(endpoints.map((e) => e.port)),
    keepCompleted: false,
  });
  port = gateway.port;
  for (let i = 0; i < 5; i++) {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    deadPorts.push((probe.address() as AddressInfo).port);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
});

afterAll(async () => {
  await gateway.close();
  await Promise.all(endpoints.map((e) => e.close()));
});

function check(outcomes: Map<string, Outcome>, count: number): number {
  expect(outcomes.size).toBe(count);
  let truncated = 0;
  const problems: string[] = [];
  for (const [id, o] of outcomes) {
    if (o.error !== undefined || o.responses !== 1)
      problems.push(`${id}: ${o.responses} responses, error ${o.error}`);
    else if (![200, 502, 503].includes(o.status)) problems.push(`${id}: status ${o.status}`);
    else if (o.status === 200 && o.echoed !== id) problems.push(`${id}: answer for ${o.echoed}`);
    else if (o.status === 200 && !o.truncated && o.body !== id)
      problems.push(`${id}: body ${o.body}`);
    if (o.truncated) truncated++;
  }
  expect(problems.slice(0, 10)).toEqual([]);
  return truncated;
}

it('5,000 requests under faults, restarts and config swaps: one answer each, heap back near baseline', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  // Warm up (JIT, pools, buffers) before the baseline.
  check(await drive('warm', 300, 32, agent), 300);
  await new Promise((r) => setTimeout(r, 200));
  const baseline = heapMb();

  const ports = endpoints.map((e) => e.port);
  let chaos = true;
  let swaps = 0;
  const chaosLoop = (async () => {
    const random = prng(7);
    while (chaos) {
      await new Promise((r) => setTimeout(r, 150));
      if (!chaos) break;
      await endpoints[Math.floor(random() * endpoints.length)]?.restart();
      // A new config each round: one endpoint left out in turn, then all three again.
      gateway.apply(configFor(swaps % 4 === 3 ? ports : ports.filter((_, i) => i !== swaps % 4)));
      swaps++;
    }
  })();
  // Load in rounds of 1,000 until at least 5,000 requests have gone and 6 swaps and restarts
  // have landed among them (at most 20 rounds): a fast machine sends 5,000 in under a second,
  // before six 150 ms chaos rounds are over.
  const outcomes = new Map<string, Outcome>();
  for (let round = 0; round < 20 && (outcomes.size < 5_000 || swaps < 6); round++)
    for (const [id, outcome] of await drive(`load${round}`, 1_000, 32, agent))
      outcomes.set(id, outcome);
  chaos = false;
  await chaosLoop;
  const sent = outcomes.size;
  const truncated = check(outcomes, sent);
  // Only a restart landing between the head and the body of one response truncates it.
  expect(truncated).toBeLessThanOrEqual(sent / 100);
  const ok = [...outcomes.values()].filter((o) => o.status === 200).length;
  expect(ok).toBeGreaterThan(0.8 * sent);
  expect(swaps).toBeGreaterThan(5);
  outcomes.clear(); // the test's own records must not count as the proxy's memory

  await new Promise((r) => setTimeout(r, 300));
  const afterLoad = heapMb();

  // 50 more swaps, with traffic between them: each config has a different endpoint list, one
  // of them a port nothing listens on (its pool is made, fails, and is dropped at the next swap).
  for (let i = 0; i < 50; i++) {
    gateway.apply(
      configFor([...ports.slice(0, 1 + (i % 3)), deadPorts[i % deadPorts.length] as number]),
    );
    check(await drive(`swap${i}`, 20, 8, agent), 20);
  }
  agent.destroy();
  await new Promise((r) => setTimeout(r, 300));
  const afterSwaps = heapMb();

  // 5,000 requests leaking even 1 KiB each would add ~5 MiB.
  const heap = `heap MiB: baseline ${baseline.toFixed(1)}, after load ${afterLoad.toFixed(1)}, after swaps ${afterSwaps.toFixed(1)}`;
  expect(afterLoad - baseline, heap).toBeLessThan(4);
  expect(afterSwaps - baseline, heap).toBeLessThan(4);
});
