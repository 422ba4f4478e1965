// Micro benchmark: h2load (a separate process) against this lib's H2Server vs Node's
// http2.createServer, both answering every GET with 1 KiB. Prints the server's CPU µs per request
// (process.cpuUsage, user + system) and requests per second, median of `runs`.
//   npx tsx libs/sidecar/h2/bench/h2-server.bench.ts [requests=100000] [runs=3]
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { H2Server } from '../src/index.js';

const REQUESTS = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const BODY = Buffer.alloc(1_024, 0x61);
const HEADERS = ['content-type', 'application/octet-stream'];

interface Bench {
  readonly port: number;
  close(): Promise<void>;
}

async function lean(): Promise<Bench> {
  const server = new H2Server({
    maxConcurrentStreams: 256,
    onStream(stream) {
      stream.respond(200, HEADERS);
      stream.write(BODY);
      stream.end();
    },
  });
  const listener = net.createServer((socket) =>
    socket.once('data', (chunk: Buffer) => server.serve(socket, chunk)),
  );
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.destroy();
        listener.close(() => resolve());
      }),
  };
}

async function node(): Promise<Bench> {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 256 } });
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    stream.end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function h2load(port: number, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', [
      '-n',
      String(n),
      '-c',
      '8',
      '-m',
      '16',
      '-t',
      '1',
      `http://127.0.0.1:${port}/`,
    ]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

async function run(make: () => Promise<Bench>): Promise<{ cpuUs: number; rps: number }> {
  const bench = await make();
  try {
    await h2load(bench.port, 5_000); // warm-up
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await h2load(bench.port, REQUESTS);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (!out.includes(`${REQUESTS} succeeded`)) throw new Error(`h2load failed:\n${out}`);
    return { cpuUs: (cpu.user + cpu.system) / REQUESTS, rps: (REQUESTS / wallMs) * 1000 };
  } finally {
    await bench.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const [name, make] of [
  ['H2Server', lean],
  ['http2.createServer', node],
] as const) {
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(await run(make));
  console.log(
    `${name.padEnd(20)} ${median(results.map((r) => r.cpuUs)).toFixed(2)} µs/request, ` +
      `${Math.round(median(results.map((r) => r.rps)))} req/s ` +
      `(runs: ${results.map((r) => `${r.cpuUs.toFixed(2)} µs`).join(', ')})`,
  );
}
