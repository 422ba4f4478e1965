// Micro benchmark: requests per second of H1Server versus Node's http.createServer, each
// answering GET with a fixed 1 KiB body, under `wrk -t1 -c64 -d5s`. The server runs in a child
// process pinned to CPU 1 (`taskset -c 1`), wrk is pinned to CPU 0, so each side has one core.
// Not a test: run `npx tsx libs/sidecar/h1-server/bench/server.bench.ts [rounds] [seconds]`.
// Needs wrk and taskset on PATH.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { H1Server } from '../src/index.js';
import type { DownstreamExchange } from '../src/index.js';

const BODY = Buffer.alloc(1024, 97);
const LENGTH = String(BODY.length);

type Kind = 'h1-server' | 'node-http';
const KINDS: Kind[] = ['h1-server', 'node-http'];

function serveH1(): Server {
  const h1 = new H1Server({
    onExchange(exchange: DownstreamExchange): void {
      const response = exchange.response;
      response.head(200, ['content-type', 'text/plain', 'content-length', LENGTH], false, false);
      response.write(BODY);
      response.end();
    },
  });
  return createNetServer({ noDelay: true }, (socket) => h1.handle(socket));
}

function serveNode(): Server {
  return createHttpServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': LENGTH });
    res.end(BODY);
  });
}

/** Child mode: serve on a free port, report it to the parent, run until killed. */
function serve(kind: Kind): void {
  const server = kind === 'h1-server' ? serveH1() : serveNode();
  server.listen(0, '127.0.0.1', () => {
    process.send?.((server.address() as AddressInfo).port);
  });
}

function startChild(kind: Kind): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    'taskset',
    ['-c', '1', process.execPath, '--import', 'tsx', script, 'serve', kind],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    child.once('message', (port) => resolve({ child, port: Number(port) }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

/** CPU time the process has used, µs, user and system apart, from /proc/<pid>/stat. */
function cpuMicros(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime (fields 14 and 15), in USER_HZ ticks: 100 per second on Linux.
  return { user: Number(fields[11]) * 1e4, system: Number(fields[12]) * 1e4 };
}

function wrk(port: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const run = spawn('taskset', [
      '-c',
      '0',
      'wrk',
      '-t1',
      '-c64',
      `-d${seconds}s`,
      `http://127.0.0.1:${port}/`,
    ]);
    let out = '';
    run.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    run.on('error', reject);
    run.on('close', () => {
      const match = /Requests\/sec:\s+([0-9.]+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(out);
      if (errors) console.error(`  wrk reported: ${errors[0]}`);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`no Requests/sec in wrk output:\n${out}`));
    });
  });
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const results: Record<Kind, number[]> = { 'h1-server': [], 'node-http': [] };
  const cpu: Record<Kind, { user: number; system: number }[]> = {
    'h1-server': [],
    'node-http': [],
  };
  for (let round = 1; round <= rounds; round++) {
    for (const kind of KINDS) {
      const { child, port } = await startChild(kind);
      try {
        await wrk(port, 1); // warm-up: JIT and connection setup
        const pid = child.pid as number;
        const before = cpuMicros(pid);
        const rps = await wrk(port, seconds);
        const after = cpuMicros(pid);
        const requests = rps * seconds;
        const perRequest = {
          user: (after.user - before.user) / requests,
          system: (after.system - before.system) / requests,
        };
        results[kind].push(rps);
        cpu[kind].push(perRequest);
        console.log(
          `round ${round} ${kind.padEnd(9)} ${rps.toFixed(0).padStart(7)} req/s  ` +
            `CPU/req ${(perRequest.user + perRequest.system).toFixed(1)} µs ` +
            `(user ${perRequest.user.toFixed(1)}, system ${perRequest.system.toFixed(1)})`,
        );
      } finally {
        child.kill();
      }
    }
  }
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  for (const kind of KINDS) {
    const runs = results[kind];
    console.log(
      `${kind.padEnd(9)} median ${median(runs).toFixed(0)} req/s (runs ${runs.map((r) => r.toFixed(0)).join(', ')}); ` +
        `median CPU/req ${median(cpu[kind].map((c) => c.user + c.system)).toFixed(1)} µs, ` +
        `user ${median(cpu[kind].map((c) => c.user)).toFixed(1)} µs`,
    );
  }
}

if (process.argv[2] === 'serve') serve(process.argv[3] as Kind);
else await main();
