// Micro benchmark: N requests through a real Node h2c server (separate process) with this lib's
// client vs Node's http2.connect, at fixed concurrency on one connection. Prints client CPU µs
// per request (process.cpuUsage, user + system) and requests per second.
//   npx tsx libs/sidecar/h2/bench/h2-client.bench.ts [requests=50000] [concurrency=64]
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { connectH2c } from '../src/index.js';
import type { H2Session } from '../src/index.js';

const REQUESTS = Number(process.argv[2] ?? 50_000);
const CONCURRENCY = Number(process.argv[3] ?? 64);
const POST_BODY = Buffer.alloc(1_024, 0x61);

interface Result {
  cpuUsPerRequest: number;
  requestsPerSecond: number;
}

type Runner = (n: number, method: 'GET' | 'POST') => Promise<void>;

async function measure(run: Runner, n: number, method: 'GET' | 'POST'): Promise<Result> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(n, method);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    cpuUsPerRequest: (cpu.user + cpu.system) / n,
    requestsPerSecond: (n / wallMs) * 1000,
  };
}

/**
 * Keeps CONCURRENCY requests in flight until n completed. `makeStart(done)` returns the function
 * that starts one request; per-request closures are avoided so that the runners measure the
 * clients, not closure creation (tsx also wraps every closure it creates with a name helper).
 */
function drive(n: number, makeStart: (done: () => void) => () => void): Promise<void> {
  return new Promise((resolve) => {
    let started = 0;
    let finished = 0;
    const done = (): void => {
      if (++finished === n) resolve();
      else if (started < n) {
        started++;
        start();
      }
    };
    const start = makeStart(done);
    for (let i = 0; i < Math.min(CONCURRENCY, n); i++) {
      started++;
      start();
    }
  });
}

const rethrow = (e: unknown): never => {
  throw e;
};
const ignore = (): void => undefined;

function leanRunner(session: H2Session, authority: string): Runner {
  return (n, method) =>
    drive(n, (done) => {
      const headers = [
        ':method',
        method,
        ':scheme',
        'http',
        ':path',
        '/bench',
        ':authority',
        authority,
        'user-agent',
        'trellis-bench',
      ];
      const options = { endStream: method === 'GET', handler: { onEnd: done, onError: rethrow } };
      return () => {
        const stream = session.request(headers, options);
        if (method === 'POST') {
          stream.write(POST_BODY);
          stream.end();
        }
      };
    });
}

function nodeRunner(client: http2.ClientHttp2Session): Runner {
  return (n, method) =>
    drive(n, (done) => {
      const headers = { ':method': method, ':path': '/bench', 'user-agent': 'trellis-bench' };
      const options = { endStream: method === 'GET' };
      return () => {
        const req = client.request(headers, options);
        req.on('data', ignore);
        req.on('end', done);
        req.on('error', rethrow);
        if (method === 'POST') req.end(POST_BODY);
      };
    });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const serverPath = fileURLToPath(new URL('./h2-bench-server.ts', import.meta.url));
  const child = fork(serverPath, { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { port: number }).port)),
  );
  const authority = `127.0.0.1:${port}`;
  const session = await connectH2c({ host: '127.0.0.1', port });
  const client = http2.connect(`http://${authority}`);
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const runners: Array<[string, Runner]> = [
    ['sidecar-h2', leanRunner(session, authority)],
    ['http2.connect', nodeRunner(client)],
  ];

  console.log(
    `${REQUESTS} requests per run, concurrency ${CONCURRENCY}, one connection, node ${process.version}`,
  );
  for (const method of ['GET', 'POST'] as const) {
    const samples = new Map<string, Result[]>(runners.map(([name]) => [name, []]));
    for (const [, run] of runners) await run(Math.min(10_000, REQUESTS), method); // warm-up
    for (let round = 0; round < 5; round++) {
      for (const [name, run] of runners)
        samples.get(name)!.push(await measure(run, REQUESTS, method));
    }
    for (const [name, results] of samples) {
      const cpu = median(results.map((r) => r.cpuUsPerRequest));
      const rps = median(results.map((r) => r.requestsPerSecond));
      console.log(
        `${method.padEnd(4)} ${name.padEnd(14)} ${cpu.toFixed(2).padStart(7)} µs CPU/request  ${Math.round(rps).toString().padStart(7)} req/s (median of 5)`,
      );
    }
  }
  session.destroy();
  client.destroy();
  child.disconnect();
}

void main();
