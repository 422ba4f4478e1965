// The built sidecar as an edge gateway from a static file: traffic flows to real upstreams,
// a file edit re-routes within a second, an invalid edit is refused with the last good config
// kept, SIGTERM drains and exits cleanly, and a bug ends it with one coded log line.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './run.js';

function upstream(name: string): Promise<Server> {
  const server = createServer((req, res) => res.end(`${name} ${req.url}`));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const mesh = (blueWeight: number, extra = '') => `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: blue}
spec: {ports: [{port: 80}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: green}
spec: {ports: [{port: 80}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: blue}
spec: {service: blue, endpoints: [{address: 127.0.0.1, port: ${portOf(blue)}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: green}
spec: {service: green, endpoints: [{address: 127.0.0.1, port: ${portOf(green)}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: site}
spec:
  hosts: [www.example.com]
  destinations: [{service: blue, weight: ${blueWeight}}, {service: green, weight: ${100 - blueWeight}}]
${extra}`;

/** A span as an OTLP/HTTP (JSON) receiver gets it. */
interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
}
/** An OTLP/HTTP (JSON) receiver that answers every export with `status` (400: refused). */
function otlpReceiver(spans: ReceivedSpan[], status = 200): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const { resourceSpans } = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: ReceivedSpan[] }[] }[];
      };
      for (const resource of resourceSpans)
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface RunningSidecar {
  readonly process: ChildProcess;
  readonly base: string;
  readonly admin: string;
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
}

/** The built sidecar through its launcher, as a pod runs it, as a gateway serving `file`. */
async function startSidecar(
  file: string,
  otlpEndpoint: string,
  env: NodeJS.ProcessEnv = {},
): Promise<RunningSidecar> {
  const [listen, adminPort] = [await getFreePort(), await getFreePort()];
  const args = ['--role', 'gateway', '--config', file, '--listen', `127.0.0.1:${listen}`];
  const child = spawn(
    join(repoRoot, 'apps/sidecar/bin/trellis-sidecar'),
    [...args, '--admin', `127.0.0.1:${adminPort}`],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The caller's NODE_OPTIONS must come after the launcher's own.
      env: {
        ...process.env,
        NODE_OPTIONS: '--max-http-header-size=32768',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
        ...env,
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitFor(async () => (await fetch(`${admin}/ready`).catch(() => undefined))?.ok, {
    timeoutMs: 10_000,
    what: 'sidecar ready',
  });
  return { process: child, base: `http://127.0.0.1:${listen}`, admin, log: () => output };
}

const agent = new Agent({ keepAlive: true });
let blue: Server;
let green: Server;
const portOf = (s: Server) => (s.address() as AddressInfo).port;

describe('trellis-sidecar --role gateway --config FILE (built binary)', () => {
  let dir: string;
  let file: string;
  let running: RunningSidecar;
  let sidecar: ChildProcess;
  let base: string;
  let admin: string;
  let receiver: Server;
  let refusing: Server;
  const spans: ReceivedSpan[] = [];

  beforeAll(async () => {
    blue = await upstream('blue');
    green = await upstream('green');
    receiver = await otlpReceiver(spans);
    refusing = await otlpReceiver([], 400);
    dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-gateway-'));
    file = join(dir, 'mesh.yaml');
    await writeFile(file, mesh(100));
    running = await startSidecar(file, `http://127.0.0.1:${portOf(receiver)}`);
    ({ process: sidecar, base, admin } = running);
  });

  afterAll(async () => {
    if (sidecar.exitCode === null) sidecar.kill('SIGKILL');
    agent.destroy();
    blue.close();
    green.close();
    receiver.close();
    refusing.close();
    await rm(dir, { recursive: true, force: true });
  });

  // fetch() cannot set Host, so requests go through node:http with a keep-alive agent.
  const get = (path = '/', host = 'www.example.com', headers: Record<string, string> = {}) =>
    new Promise<{ status: number | undefined; body: string; error: string | null }>(
      (resolve, reject) => {
        const req = request(`${base}${path}`, { headers: { ...headers, host }, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () =>
            resolve({
              status: res.statusCode,
              body,
              error: (res.headers['x-trellis-error'] as string | undefined) ?? null,
            }),
          );
        });
        req.on('error', reject);
        req.end();
      },
    );

  it('routes by host to the upstream', async () => {
    expect(await get('/a?b=1')).toEqual({ status: 200, body: 'blue /a?b=1', error: null });
    expect(await get('/', 'nope.example.com')).toEqual({
      status: 404,
      body: 'no route for nope.example.com/\n',
      error: 'no-route',
    });
  });

  it('runs as node itself, with the memory and GC settings of the launcher before those of the caller', async () => {
    const environ = (await readFile(`/proc/${sidecar.pid}/environ`, 'utf8')).split('\0');
    expect(environ).toContain('MALLOC_ARENA_MAX=1');
    expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    expect(environ).toContain('NODE_OPTIONS=--max-semi-space-size=4 --max-http-header-size=32768');
    // exec all the way down: the spawned pid is the sidecar, so signals reach it directly.
    const argv = (await readFile(`/proc/${sidecar.pid}/cmdline`, 'utf8')).split('\0');
    expect(argv.slice(0, 3)).toEqual([
      'node',
      '--no-parallel-scavenge',
      join(repoRoot, 'dist/apps/sidecar/main.js'),
    ]);
  });

  it('applies an edited file within a second', async () => {
    await writeFile(file, mesh(0));
    await waitFor(async () => (await get()).body.startsWith('green'), {
      timeoutMs: 1_000,
      intervalMs: 20,
      what: 'traffic moved to green',
    });
    const config = (await (await fetch(`${admin}/config`)).json()) as { version: number };
    expect(config.version).toBe(2);
  });

  it('refuses an invalid edit and keeps serving the last good config', async () => {
    await writeFile(file, mesh(0).replace('weight: 100', 'weight: 95'));
    await waitFor(
      async () =>
        ((await (await fetch(`${admin}/config`)).json()) as { lastRejection: unknown })
          .lastRejection,
      {
        timeoutMs: 2_000,
        what: 'the invalid edit to be rejected',
      },
    );
    const config = (await (await fetch(`${admin}/config`)).json()) as {
      version: number;
      lastRejection: { issues: string[] };
    };
    expect(config.version).toBe(2);
    expect(config.lastRejection.issues.join('\n')).toContain('weights must sum to 100 (got 95)');
    expect((await get()).body.startsWith('green')).toBe(true);
  });

  it('drains and exits 0 on SIGTERM, closing idle keep-alive connections at once', async () => {
    // A request its caller sampled: its spans wait in the export worker until shutdown flushes.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traced = await get('/traced', 'www.example.com', {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(traced.status).toBe(200);
    expect(Object.values(agent.freeSockets).flat().length).toBeGreaterThan(0);
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', resolve));
    sidecar.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(running.log()).toContain('"msg":"drained"');
    // Exported by the bundle's otlp-export-worker.js before the process ended.
    const exported = spans.filter((span) => span.traceId === traceId);
    expect(exported).toHaveLength(2);
    const server = exported.find((span) => span.parentSpanId === '00f067aa0ba902b7');
    const client = exported.find((span) => span.parentSpanId === server?.spanId);
    expect(server?.name).toBe('GET route/site.default');
    expect(client?.name).toBe('GET');
  });

  it('still exits 0 on SIGTERM when the collector refuses the last spans, and logs why', async () => {
    // A valid file again: an earlier test left an invalid edit in place.
    await writeFile(file, mesh(100));
    running = await startSidecar(file, `http://127.0.0.1:${portOf(refusing)}`);
    ({ process: sidecar, base, admin } = running);
    const traced = await get('/traced', 'www.example.com', {
      traceparent: `00-${'5'.repeat(32)}-00f067aa0ba902b7-01`,
    });
    expect(traced.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', resolve));
    sidecar.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(running.log()).toContain('"code":"TRL_TRACE_EXPORT_FAILED"');
    expect(running.log()).toContain('"msg":"drained"');
  });

  // A bug is simulated by a module preloaded into the sidecar: on SIGUSR2 it throws, or rejects a
  // promise nobody awaits, outside every handler of the sidecar's own.
  it.each([
    { bug: 'throws', code: 'throw', what: 'uncaught exception' },
    {
      bug: 'rejects a promise nobody awaits',
      code: 'void Promise.reject',
      what: 'unhandled promise rejection',
    },
  ])('exits 1 with one TRL_SIDECAR_CRASHED line when a bug $bug', async ({ code, what }) => {
    const preload = join(dir, 'bug.cjs');
    await writeFile(
      preload,
      `process.on('SIGUSR2', () => { ${code} (new Error('simulated bug')); });\n`,
    );
    running = await startSidecar(file, `http://127.0.0.1:${portOf(receiver)}`, {
      NODE_OPTIONS: `--require ${preload}`,
    });
    ({ process: sidecar } = running);
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', resolve));
    sidecar.kill('SIGUSR2');
    expect(await exited).toBe(1);
    const lines = running.log().trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
    expect(last).toMatchObject({
      level: 60,
      code: 'TRL_SIDECAR_CRASHED',
      msg: `${what}; exiting`,
      err: { message: 'simulated bug' },
    });
  });

  it("takes node's flags from TRELLIS_SIDECAR_NODE_FLAGS instead of the launcher's", async () => {
    running = await startSidecar(file, `http://127.0.0.1:${portOf(receiver)}`, {
      TRELLIS_SIDECAR_NODE_FLAGS: '--stack-trace-limit=20 --parallel-scavenge',
    });
    ({ process: sidecar } = running);
    const argv = (await readFile(`/proc/${sidecar.pid}/cmdline`, 'utf8')).split('\0');
    expect(argv.slice(0, 4)).toEqual([
      'node',
      '--stack-trace-limit=20',
      '--parallel-scavenge',
      join(repoRoot, 'dist/apps/sidecar/main.js'),
    ]);
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', resolve));
    sidecar.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
