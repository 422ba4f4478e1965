// Micro benchmark: client CPU per request (process.cpuUsage, µs) of H1Pool versus Node's
// http.request with a keep-alive Agent, against a local Node http server in a child process
// (so its CPU is not counted). Not a test: run `npx tsx libs/sidecar/h1/bench/pool.bench.ts`.
// Optional args: requests per run (default 20000), rounds (default 5).
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { H1Pool } from '../src/index.js';
import type { H1Error, H1RequestInit, H1ResponseHandler } from '../src/index.js';

const TOTAL = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 5);

const UPSTREAM = `
const http = require('node:http');
const big = Buffer.alloc(16 * 1024, 97);
const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c) => { n += c.length; });
    req.on('end', () => { res.setHeader('Content-Length', String(String(n).length)); res.end(String(n)); });
    return;
  }
  if (req.url === '/big') { res.setHeader('Content-Length', String(big.length)); res.end(big); return; }
  res.setHeader('Content-Length', '2');
  res.end('ok');
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body: Buffer | null;
}

const scenarios: Scenario[] = [
  { name: 'GET, 2 B response', method: 'GET', path: '/', body: null },
  { name: 'GET, 16 KiB response', method: 'GET', path: '/big', body: null },
  { name: 'POST 4 KiB (Content-Length)', method: 'POST', path: '/', body: Buffer.alloc(4096, 98) },
];

interface Run {
  remaining: number;
  finish: () => void;
}

/** One sequential request loop on the pool; a plain object handler, like a proxy would use. */
class PoolWorker implements H1ResponseHandler {
  readonly #pool: H1Pool;
  readonly #init: H1RequestInit;
  readonly #body: Buffer | null;
  readonly #run: Run;

  constructor(pool: H1Pool, scenario: Scenario, run: Run) {
    this.#pool = pool;
    this.#body = scenario.body;
    this.#init = {
      method: scenario.method,
      path: scenario.path,
      headers:
        scenario.body === null
          ? ['User-Agent', 'bench']
          : ['User-Agent', 'bench', 'Content-Length', String(scenario.body.length)],
      hasBody: scenario.body !== null,
    };
    this.#run = run;
  }

  next(): void {
    if (this.#run.remaining <= 0) {
      this.#run.finish();
      return;
    }
    this.#run.remaining--;
    const handle = this.#pool.request(this.#init, this);
    if (this.#body !== null) {
      handle.write(this.#body);
      handle.end();
    }
  }

  onResponseHead(): void {}
  onData(): void {}
  onTrailers(): void {}
  onEnd(): void {
    this.next();
  }
  onError(error: H1Error): void {
    throw error;
  }
}

function runPool(port: number, scenario: Scenario, concurrency: number): Promise<H1Pool> {
  const pool = new H1Pool({
    host: '127.0.0.1',
    port,
    maxConnections: concurrency,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
  });
  return new Promise((resolve) => {
    let live = concurrency;
    const run: Run = { remaining: TOTAL, finish: () => --live === 0 && resolve(pool) };
    for (let i = 0; i < concurrency; i++) new PoolWorker(pool, scenario, run).next();
  });
}

function runHttp(port: number, scenario: Scenario, concurrency: number): Promise<Agent> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const headers: Record<string, string> =
    scenario.body === null
      ? { 'User-Agent': 'bench' }
      : { 'User-Agent': 'bench', 'Content-Length': String(scenario.body.length) };
  return new Promise((resolve, reject) => {
    let live = concurrency;
    let remaining = TOTAL;
    const onResponse = (res: IncomingMessage): void => {
      res.on('data', () => undefined);
      res.on('end', next);
    };
    function next(): void {
      if (remaining <= 0) {
        if (--live === 0) resolve(agent);
        return;
      }
      remaining--;
      const req = httpRequest(
        { host: '127.0.0.1', port, method: scenario.method, path: scenario.path, headers, agent },
        onResponse,
      );
      req.on('error', reject);
      req.end(scenario.body ?? undefined);
    }
    for (let i = 0; i < concurrency; i++) next();
  });
}

interface Sample {
  cpuUsPerReq: number;
  reqPerSec: number;
}

async function measure(
  fn: () => Promise<{ close(): unknown } | { destroy(): void }>,
): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const resource = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if ('destroy' in resource) resource.destroy();
  else resource.close();
  return { cpuUsPerReq: (cpu.user + cpu.system) / TOTAL, reqPerSec: (TOTAL / wallMs) * 1000 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['-e', UPSTREAM], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve(Number(m))),
  );
  console.log(`node ${process.version}, ${TOTAL} requests per run, median of ${ROUNDS} rounds`);
  console.log('scenario                      conc  client        µs CPU/req   req/s');
  try {
    for (const scenario of scenarios) {
      for (const concurrency of [1, 16]) {
        // Warm-up both clients (JIT, connections).
        await measure(() => runPool(port, scenario, concurrency));
        await measure(() => runHttp(port, scenario, concurrency));
        const pool: Sample[] = [];
        const http: Sample[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          pool.push(await measure(() => runPool(port, scenario, concurrency)));
          http.push(await measure(() => runHttp(port, scenario, concurrency)));
        }
        for (const [label, samples] of [
          ['H1Pool', pool],
          ['http.request', http],
        ] as const) {
          console.log(
            `${scenario.name.padEnd(30)}${String(concurrency).padStart(4)}  ${label.padEnd(14)}` +
              `${median(samples.map((s) => s.cpuUsPerReq))
                .toFixed(1)
                .padStart(10)}` +
              `${median(samples.map((s) => s.reqPerSec))
                .toFixed(0)
                .padStart(9)}`,
          );
        }
      }
    }
  } finally {
    child.kill();
  }
}

await main();
