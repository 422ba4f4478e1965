// The built sidecar with --concurrency 2 as an edge gateway from a static file: both workers
// serve, a file edit reaches every worker, an invalid edit is refused everywhere, /metrics and
// /stats add the workers up, a SIGKILLed worker comes back with the config in force, and SIGTERM
// drains every worker and exits 0. And from the control plane: only the primary connects to NATS,
// so each version is synced and ACKed once, and reaches every worker.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildSnapshot } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import {
  CONTROL_PLANE_NATS_USER,
  sidecarNatsUser,
  trellisNatsUsers,
} from '@trellis/control-plane-delivery';
import {
  CONTROL_PLANE_QUEUE,
  decodeProxyStatus,
  decodeTelemetrySummary,
  encodeMessage,
  makeConfigUpdate,
  subjects,
} from '@trellis/mesh-protocol';
import type { ProxyStatus, TelemetrySummary } from '@trellis/mesh-protocol';
import {
  fetchNatsMonitor,
  getFreePort,
  startNatsServer,
  stopAllNatsServers,
  waitFor,
} from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run } from './run.js';

function upstream(name: string): Promise<Server> {
  const server = createServer((req, res) => res.end(`${name} ${req.url}`));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;

const mesh = (extra = '') => `
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
  destinations: [{service: blue}]
${extra}`;

const newRoute = `---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  hosts: [shop.example.com]
  destinations: [{service: green}]
`;

interface WorkerConfig {
  worker: number;
  state: string;
  version: number | null;
  restarts: number;
}
interface ConfigView {
  version: number;
  lastRejection: { issues: string[] } | null;
  workers: WorkerConfig[];
}
interface StatsView {
  requests_total: number;
  config_version: number;
  workers: Record<string, { requests_total: number }>;
}

let blue: Server;
let green: Server;

describe('trellis-sidecar --concurrency 2 (built binary)', () => {
  let dir: string;
  let file: string;
  let sidecar: ChildProcess;
  let base: string;
  let admin: string;
  let log = '';
  /** Requests sent through the gateway so far, for the exact sums below. */
  let sent = 0;

  beforeAll(async () => {
    blue = await upstream('blue');
    green = await upstream('green');
    dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-concurrency-'));
    file = join(dir, 'mesh.yaml');
    await writeFile(file, mesh());
    const [listen, adminPort] = [await getFreePort(), await getFreePort()];
    base = `http://127.0.0.1:${listen}`;
    admin = `http://127.0.0.1:${adminPort}`;
    // Through the launcher, as a pod runs it: its memory settings must reach the workers too.
    sidecar = spawn(
      join(repoRoot, 'apps/sidecar/bin/trellis-sidecar'),
      [
        '--role',
        'gateway',
        '--config',
        file,
        '--listen',
        `127.0.0.1:${listen}`,
        '--admin',
        `127.0.0.1:${adminPort}`,
        '--concurrency',
        '2',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    sidecar.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    sidecar.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(async () => (await fetch(`${admin}/ready`).catch(() => undefined))?.ok, {
      timeoutMs: 15_000,
      what: 'sidecar ready',
    });
  });

  afterAll(async () => {
    if (sidecar.exitCode === null) sidecar.kill('SIGKILL');
    blue.close();
    green.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** One request on its own connection: the primary hands each connection to the next worker. */
  const get = (host: string, path = '/') =>
    new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      sent += 1;
      const agent = new Agent({ keepAlive: false });
      const req = request(`${base}${path}`, { headers: { host }, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => {
          agent.destroy();
          resolve({ status: res.statusCode, body });
        });
      });
      req.on('error', reject);
      req.end();
    });
  const getMany = async (count: number, host: string) => {
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) bodies.push((await get(host)).body);
    return bodies;
  };
  const json = async <T>(path: string) => (await (await fetch(`${admin}${path}`)).json()) as T;

  it('serves requests from both workers', async () => {
    expect(await getMany(6, 'www.example.com')).toEqual(Array(6).fill('blue /'));
    const stats = await json<StatsView>('/stats');
    expect(stats.requests_total).toBe(6);
    expect(Object.keys(stats.workers)).toEqual(['1', '2']);
    // Round-robin hands these sequential connections out in turn; the exact split is Node's.
    expect(stats.workers['1']?.requests_total).toBeGreaterThan(0);
    expect(stats.workers['2']?.requests_total).toBeGreaterThan(0);
  });

  it("passes the launcher's memory and GC settings on to both workers", async () => {
    const children = await readFile(`/proc/${sidecar.pid}/task/${sidecar.pid}/children`, 'utf8');
    const workers = children.trim().split(/\s+/);
    expect(workers).toHaveLength(2);
    for (const pid of workers) {
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      expect(environ).toContain('MALLOC_ARENA_MAX=1');
      // The test runner's own NODE_OPTIONS, if any, follows.
      expect(environ.find((entry) => entry.startsWith('NODE_OPTIONS='))).toMatch(
        /^NODE_OPTIONS=--max-semi-space-size=4( |$)/,
      );
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      expect(argv[1]).toBe('--no-parallel-scavenge'); // argv[0] is node's execPath
    }
  });

  it('applies a file edit in every worker: the new route answers on every connection', async () => {
    expect((await get('shop.example.com')).status).toBe(404);
    await writeFile(file, mesh(newRoute));
    await waitFor(
      async () =>
        (await json<ConfigView>('/config')).workers.every((w) => w.version === 2) || undefined,
      { timeoutMs: 2_000, intervalMs: 20, what: 'both workers on version 2' },
    );
    expect(await getMany(6, 'shop.example.com')).toEqual(Array(6).fill('green /'));
    expect((await fetch(`${admin}/ready`)).status).toBe(200);
  });

  it('refuses an invalid edit and keeps the last good config in every worker', async () => {
    await writeFile(
      file,
      mesh(
        newRoute.replace(
          '{service: green}',
          '{service: green, weight: 90}, {service: blue, weight: 5}',
        ),
      ),
    );
    const config = await waitFor(
      async () => {
        const view = await json<ConfigView>('/config');
        return view.lastRejection ? view : undefined;
      },
      { timeoutMs: 2_000, what: 'the invalid edit to be rejected' },
    );
    expect(config.version).toBe(2);
    expect(config.lastRejection?.issues.join('\n')).toContain('weights must sum to 100 (got 95)');
    expect(config.workers.map((w) => [w.worker, w.version])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(await getMany(4, 'shop.example.com')).toEqual(Array(4).fill('green /'));
    const stats = await json<StatsView>('/stats');
    expect(stats.config_version).toBe(2);
    expect(stats).toMatchObject({ config_applied: 2, config_rejected: 1 });
  });

  it('/metrics sums the requests of both workers', async () => {
    const stats = await json<StatsView>('/stats');
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    const total = metrics
      .split('\n')
      .filter((line) => line.startsWith('trellis_requests_total{'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(total).toBe(sent);
    expect(stats.requests_total).toBe(sent);
    expect(metrics).toContain('trellis_config_version 2\n');
    expect(metrics).toContain('trellis_workers{state="running"} 2\n');
  });

  it('restarts a SIGKILLed worker with the config in force', async () => {
    const children = (await readFile(`/proc/${sidecar.pid}/task/${sidecar.pid}/children`, 'utf8'))
      .trim()
      .split(' ')
      .map(Number);
    expect(children).toHaveLength(2);
    process.kill(children[0]!, 'SIGKILL');
    await waitFor(
      async () => {
        const view = await json<ConfigView>('/config');
        return view.workers.some((w) => w.restarts === 1) || undefined;
      },
      { timeoutMs: 2_000, what: 'the primary to see the worker exit' },
    );
    await waitFor(async () => (await fetch(`${admin}/ready`)).ok || undefined, {
      timeoutMs: 15_000,
      what: 'ready again with the restarted worker',
    });
    const config = await json<ConfigView>('/config');
    expect(config.workers.map((w) => [w.state, w.version])).toEqual([
      ['running', 2],
      ['running', 2],
    ]);
    expect(await getMany(4, 'shop.example.com')).toEqual(Array(4).fill('green /'));
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toContain('trellis_worker_restarts_total 1\n');
  });

  it('drains every worker and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', resolve));
    sidecar.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log.match(/"msg":"drained"/g)).toHaveLength(2);
    expect(log).toContain('"clean":true,"msg":"all workers exited"');
  });

  it('refuses a --concurrency out of range before starting anything', async () => {
    const result = await run(process.execPath, [
      'dist/apps/sidecar/main.js',
      '--config',
      file,
      '--concurrency',
      '65',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--concurrency must be a whole number from 1 to 64, or 0 / auto for one per CPU (got "65")',
    );
  });
});

/** The sidecar's pod, and the mesh's NATS users (docs/protocol.md § Security) for it. */
const POD = { namespace: 'shop', pod: 'checkout-1' };
const NATS_USERS = trellisNatsUsers({
  controlPlanePassword: 'e2e-control-plane',
  sidecars: [{ ...POD, password: 'e2e-sidecar' }],
});

/** The status of one GET to the sidecar's listener on its own connection. */
function getStatus(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { port, host: '127.0.0.1', path: '/', headers: { host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const service = (name: string): Resource =>
  ({
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { ports: [{ port: 8080, protocol: 'http1' }] },
  }) as Resource;

describe('trellis-sidecar --concurrency 2 --nats (built binary)', () => {
  let nats: NatsServerHandle;
  let controlPlane: NatsConnection;
  let sidecar: ChildProcess;
  let dir: string;
  let admin: string;
  let outboundPort: number;
  let latest: Snapshot = buildSnapshot([service('s1')], 1);
  let syncRequests = 0;
  const statuses: ProxyStatus[] = [];
  const summaries: TelemetrySummary[] = [];
  const acks = (version: number) =>
    statuses.filter((s) => s.kind === 'ack' && s.version === version).length;
  const workerVersions = async () =>
    (
      (await (await fetch(`${admin}/config`)).json()) as { workers: { version: number | null }[] }
    ).workers.map((w) => w.version);

  beforeAll(async () => {
    nats = await startNatsServer({ users: NATS_USERS, jetstream: false });
    const cp = nats.users[CONTROL_PLANE_NATS_USER]!;
    controlPlane = await connect({ servers: nats.url, user: cp.user, pass: cp.password });
    // A stand-in control plane: answers every sync with the latest snapshot, records statuses.
    controlPlane.subscribe(subjects.allSync, {
      queue: CONTROL_PLANE_QUEUE,
      callback: (_error, msg) => {
        syncRequests += 1;
        const { version, hash, resources } = latest;
        msg.respond(encodeMessage({ kind: 'full', snapshot: { version, hash, resources } }));
      },
    });
    controlPlane.subscribe(subjects.allStatus, {
      callback: (_error, msg) => void statuses.push(decodeProxyStatus(msg.data)),
    });
    controlPlane.subscribe(subjects.allTelemetry, {
      callback: (_error, msg) => void summaries.push(decodeTelemetrySummary(msg.data)),
    });
    await controlPlane.flush();
    dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-concurrency-nats-'));
    const [outbound, adminPort] = [await getFreePort(), await getFreePort()];
    outboundPort = outbound;
    admin = `http://127.0.0.1:${adminPort}`;
    const sc = nats.users[sidecarNatsUser(POD.namespace, POD.pod)]!;
    sidecar = spawn(
      process.execPath,
      [
        'dist/apps/sidecar/main.js',
        '--nats',
        nats.url,
        '--namespace',
        POD.namespace,
        '--pod',
        POD.pod,
        '--service',
        'checkout',
        '--state-file',
        join(dir, 'state.json'),
        '--outbound',
        `127.0.0.1:${outbound}`,
        '--admin',
        `127.0.0.1:${adminPort}`,
        '--concurrency',
        '2',
      ],
      {
        cwd: repoRoot,
        stdio: 'ignore',
        env: { ...process.env, TRELLIS_NATS_USER: sc.user, TRELLIS_NATS_PASSWORD: sc.password },
      },
    );
    await waitFor(async () => (await fetch(`${admin}/ready`).catch(() => undefined))?.ok, {
      timeoutMs: 15_000,
      what: 'sidecar ready',
    });
  });

  afterAll(async () => {
    if (sidecar.exitCode === null) sidecar.kill('SIGKILL');
    await controlPlane.close();
    await stopAllNatsServers();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects to NATS once, from the primary: one sync and one ACK', async () => {
    expect(await workerVersions()).toEqual([1, 1]);
    await waitFor(() => acks(1) > 0, { timeoutMs: 5_000, what: 'the ACK of version 1' });
    const connz = await fetchNatsMonitor(nats.monitorPort, '/connz?auth=1');
    const users = (connz.body as { connections: { authorized_user?: string }[] }).connections.map(
      (c) => c.authorized_user,
    );
    expect(users.filter((u) => u === sidecarNatsUser(POD.namespace, POD.pod))).toHaveLength(1);
    expect([syncRequests, acks(1)]).toEqual([1, 1]);
  });

  it('applies an update in every worker and ACKs it once', async () => {
    const previous = latest;
    latest = buildSnapshot([service('s1'), service('s2')], 2);
    controlPlane.publish(
      subjects.configUpdates,
      encodeMessage(makeConfigUpdate(previous, latest, new Date())),
    );
    await waitFor(async () => (await workerVersions()).every((v) => v === 2) || undefined, {
      timeoutMs: 5_000,
      what: 'both workers on version 2',
    });
    await waitFor(() => acks(2) > 0, { timeoutMs: 5_000, what: 'the ACK of version 2' });
    expect(acks(2)).toBe(1);
    expect((await fetch(`${admin}/ready`)).status).toBe(200);
  });

  it('publishes one telemetry summary per round that counts the requests of both workers', async () => {
    // A connection each, so the cluster's round-robin spreads them over both workers; s1 has no
    // endpoints, so each is a 503 the summary counts as a failure.
    const statuses503 = await Promise.all(
      Array.from({ length: 20 }, () => getStatus(outboundPort, 's1.shop:8080')),
    );
    expect(statuses503.every((status) => status === 503)).toBe(true);
    const s1 = (summary: TelemetrySummary) =>
      summary.destinations.find((d) => d.direction === 'outbound' && d.service === 's1.shop');
    const counted = await waitFor(
      () => summaries.map(s1).find((stats) => stats !== undefined && stats.requests === 20),
      { timeoutMs: 15_000, what: 'a summary counting all 20 requests' },
    );
    expect(counted.failures).toBe(20);
    const from = summaries.filter((summary) => s1(summary) !== undefined);
    expect(new Set(from.map((summary) => summary.proxy.pod))).toEqual(new Set(['checkout-1']));
    // One summary per round: never two in the same publishing interval from two workers.
    expect(from.every((summary) => (s1(summary)?.requests ?? 0) <= 20)).toBe(true);
    const stats = (await (await fetch(`${admin}/stats`)).json()) as StatsView;
    expect(stats.workers['1']?.requests_total).toBeGreaterThan(0);
    expect(stats.workers['2']?.requests_total).toBeGreaterThan(0);
  });

  it('says goodbye once and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', resolve));
    sidecar.kill('SIGTERM');
    expect(await exited).toBe(0);
    await controlPlane.flush();
    expect(statuses.filter((s) => s.kind === 'goodbye')).toHaveLength(1);
  });
});
