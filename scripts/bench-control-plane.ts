// `npm run bench:control-plane`: the control plane's scale and fault benchmark. Runs a real
// nats-server, the built control plane (dist/apps/control-plane/main.js) and N simulated sidecars
// (real NATS connections running the real ControlPlaneClient, spread over W worker processes),
// then measures change → all sidecars ACKed (each ACK timed where the control plane receives
// it: a NATS subscriber on the status subjects), the pipeline's stages, a resync storm
// (nats-server restart), and the control plane's CPU and peak RSS. One size with --sidecars;
// without it, 1,000 then 10,000. Every run appends a section to docs/benchmarks.md (with
// --note's one line on what changed). Other flags: --changes K, --warmup-changes U (default 3:
// changes made and reported before the K measured ones, while the workers' code is still
// unoptimised), --workers W (default 2), --json FILE,
// --nats-auth-timeout SECONDS (default the mesh's, trellisNatsLimits), --profile DIR (CPU
// profiles of the control plane and the workers). Every wait is bounded; every child is killed
// and every temp dir removed at the end, on error and on SIGINT.
import { execFileSync, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CONTROL_PLANE_NATS_USER,
  sidecarNatsUser,
  trellisNatsLimits,
  trellisNatsUsers,
} from '@trellis/control-plane-delivery';
import { subjects } from '@trellis/mesh-protocol';
import { getFreePort, startNatsServer, stopAllNatsServers } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { BENCH_NAMESPACE, benchNow } from './bench-control-plane/messages.js';
import type { FromWorker, SidecarLogin, ToWorker } from './bench-control-plane/messages.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONTROL_PLANE_BUNDLE = join(ROOT, 'dist/apps/control-plane/main.js');
const WORKER = join(ROOT, 'scripts/bench-control-plane/sidecar-worker.ts');
const MiB = 1024 * 1024;
/** File descriptors beyond one per sidecar that nats-server and the workers need. */
const FD_MARGIN = 1_024;

const TARGETS = {
  p99Ms: { 1000: 250, 10000: 2000 } as Record<number, number>,
  stormSeconds: { 10000: 10 } as Record<number, number>,
  rssMb: { 10000: 500 } as Record<number, number>,
};

interface Quantiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

interface RunOptions {
  readonly sidecars: number;
  readonly changes: number;
  readonly warmupChanges: number;
  readonly workers: number;
  /** nats-server's auth timeout; default the mesh's (trellisNatsLimits). */
  readonly natsAuthTimeoutSeconds: number | undefined;
  /** Directory for --cpu-prof output of the control plane and the workers. */
  readonly profileDir: string | undefined;
}

interface RunResult {
  readonly sidecars: number;
  readonly changes: number;
  /**
   * Change → all ACKed of the warm-up changes, made before the measured ones and left out of
   * every percentile: 500 to 2,500 simulated sidecars share one worker's code, so the first
   * changes run it unoptimised (a real sidecar runs its own copy, on a core of its own).
   */
  readonly warmupChangeToAllAckedMs: readonly number[];
  /** Per change: file write → the last sidecar's ACK received over NATS. */
  readonly changeToAllAckedMs: Quantiles;
  /** Each sidecar's file write → its ACK received, over every change. */
  readonly perSidecarAckMs: Quantiles;
  /** Per change: file write → the last sidecar applied (in the worker, before its ACK). */
  readonly changeToAllAppliedMs: Quantiles;
  /** Each sidecar's file write → applied, over every change. */
  readonly perSidecarApplyMs: Quantiles;
  /** File write → the control plane logged the update published (compile, store, encode). */
  readonly writeToPublishedMs: Quantiles;
  /**
   * File write → the control plane logged the version compiled (debounce, file read, compile),
   * from its log's ms timestamps: the part of the change latency before storage and delivery.
   */
  readonly writeToCompiledMs: Quantiles;
  /** From the restart() call (server down) until every sidecar was confirmed on the head again. */
  readonly resyncStormSeconds: number;
  /** From nats-server ready again until every sidecar resynced. */
  readonly resyncAfterReadySeconds: number;
  readonly controlPlaneCpuSeconds: number;
  readonly controlPlanePeakRssMb: number;
  readonly simulationCpuSeconds: number;
  /** Simulation CPU seconds spent during the K changes alone (decode, apply, ACK, heartbeats). */
  readonly simulationChangeCpuSeconds: number;
  readonly workers: number;
  readonly natsAuthTimeoutSeconds: number;
  /** Time to connect all sidecars and see them synced on the first version. */
  readonly initialSyncSeconds: number;
  /** Warnings the simulated clients logged, by code. */
  readonly sidecarWarnings: Readonly<Record<string, number>>;
  /** Some of the simulated clients' delivery counters, summed over the whole run. */
  readonly sidecarCounters: Readonly<Record<string, number>>;
}

interface StopReport {
  readonly warnings: Record<string, number>;
  readonly counters: Record<string, number>;
}

class BenchError extends Error {
  readonly code = 'TRL_BENCH_FAILED';
}

// === cleanup: everything started is registered here and torn down exactly once ===

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function killAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
  stopAllNatsServers();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.once('SIGINT', () => {
  process.stderr.write('\nbench:control-plane: interrupted; killing children\n');
  killAll();
  process.exit(130);
});
process.once('exit', killAll);

// === small helpers ===

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function quantiles(values: readonly number[]): Quantiles {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] as number),
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The client counters the report shows: how the storm and the changes were settled. */
const REPORTED_COUNTERS = [
  'syncRequests',
  'syncFailures',
  'fullSyncs',
  'headConfirmations',
  'updatesReceived',
  'updatesStale',
  'reconnects',
  'updatesApplied',
  'nacks',
];

function counterList(counters: Readonly<Record<string, number>>): string {
  return REPORTED_COUNTERS.map((name) => `${name} ${fmt(counters[name] ?? 0)}`).join(', ');
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a live process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new BenchError(`no VmHWM in /proc/${pid}/status`);
  return Math.round((Number(match[1]) / 1024) * 10) / 10;
}

function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

/** Polls `check` every `intervalMs` until it returns a value; throws `what()` after `timeoutMs`. */
async function until<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: () => string,
  intervalMs = 20,
): Promise<T> {
  const deadline = benchNow() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (benchNow() > deadline) throw new BenchError(`${what()} within ${timeoutMs / 1000} s`);
    await delay(intervalMs);
  }
}

// === the mesh config the control plane watches ===

const SERVICES_YAML = ['catalog', 'catalog-v2']
  .map(
    (name) => `apiVersion: trellis.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
  namespace: bench
spec:
  ports:
    - port: 80
`,
  )
  .join('---\n');

function routeYaml(primaryWeight: number): string {
  return `apiVersion: trellis.dev/v1alpha1
kind: Route
metadata:
  name: catalog
  namespace: bench
spec:
  hosts:
    - catalog
  match:
    path:
      prefix: /
  destinations:
    - service: catalog
      port: 80
      weight: ${primaryWeight}
    - service: catalog-v2
      port: 80
      weight: ${100 - primaryWeight}
`;
}

/** 90/10 first, then 80/20, 70/30 … 10/90 and round again: every change differs from the last. */
function weightOfChange(change: number): number {
  return 90 - ((change % 8) + 1) * 10;
}

// === workers ===

class Worker {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (m: FromWorker) => void>();
  #nextId = 1;
  #failure: string | undefined;
  #started: ((m: FromWorker) => void) | undefined;
  #stopped: ((m: FromWorker) => void) | undefined;
  #stopping: Promise<StopReport> | undefined;

  constructor(
    readonly index: number,
    profileDir: string | undefined,
  ) {
    const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    this.#child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx', ...profile],
      stdio: 'inherit',
    });
    children.add(this.#child);
    this.#child.on('message', (raw) => {
      const m = raw as FromWorker;
      if (m.type === 'failed') this.#failure = m.message;
      else if (m.type === 'started') this.#started?.(m);
      else if (m.type === 'stopped') this.#stopped?.(m);
      else this.#waiting.get(m.id)?.(m);
      if (m.type === 'version-status' || m.type === 'resync-status') this.#waiting.delete(m.id);
    });
    // A send racing the worker's exit fails with EPIPE: a worker failure, never a crash here.
    this.#child.on('error', (error) => {
      this.#failure ??= `worker ${index}: ${error.message}`;
      for (const resolve of this.#waiting.values())
        resolve({ type: 'failed', message: this.#failure });
    });
    this.#child.on('exit', (code, signal) => {
      this.#failure ??= `worker ${index} exited (${signal ?? `code ${code}`})`;
      for (const resolve of this.#waiting.values())
        resolve({ type: 'failed', message: this.#failure });
    });
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  #check(): void {
    if (this.#failure !== undefined) throw new BenchError(`worker ${this.index}: ${this.#failure}`);
  }

  async start(message: Extract<ToWorker, { type: 'start' }>, timeoutMs: number): Promise<number> {
    const started = new Promise<FromWorker>((r) => (this.#started = r));
    this.#child.send(message);
    const m = await until(
      async () => {
        this.#check();
        return Promise.race([started, delay(50).then(() => undefined)]);
      },
      timeoutMs,
      () => `worker ${this.index} did not start its ${fmt(message.sidecars.length)} sidecars`,
    );
    return m.type === 'started' ? m.connected : 0;
  }

  #ask(build: (id: number) => ToWorker): Promise<FromWorker> {
    this.#check();
    const id = this.#nextId++;
    const reply = new Promise<FromWorker>((r) => this.#waiting.set(id, r));
    this.#child.send(build(id));
    return reply.then((m) => {
      if (m.type === 'failed') throw new BenchError(`worker ${this.index}: ${m.message}`);
      return m;
    });
  }

  queryVersion(version: number): Promise<FromWorker> {
    return this.#ask((id) => ({ type: 'query-version', id, version }));
  }

  queryResync(since: number): Promise<FromWorker> {
    return this.#ask((id) => ({ type: 'query-resync', id, since }));
  }

  /**
   * Closes its sidecars (goodbye, drain) within a bound and returns their warning counts; the
   * worker is SIGKILLed if it has not exited by then. Idempotent: later calls share the first.
   */
  stop(timeoutMs: number): Promise<StopReport> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<StopReport> {
    let m: FromWorker | undefined;
    if (this.#failure === undefined && this.#child.connected) {
      const stopped = new Promise<FromWorker>((r) => (this.#stopped = r));
      this.#child.send({ type: 'stop', closeTimeoutMs: timeoutMs });
      m = await Promise.race([stopped, delay(timeoutMs + 5_000).then(() => undefined)]);
    }
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      // A worker that said "stopped" is exiting (and may be writing its CPU profile): let it.
      if (m?.type === 'stopped') await Promise.race([exited, delay(10_000)]);
      if (this.#child.exitCode === null && this.#child.signalCode === null)
        this.#child.kill('SIGKILL');
      await exited;
    }
    children.delete(this.#child);
    return m?.type === 'stopped'
      ? { warnings: { ...m.warnings }, counters: { ...m.counters } }
      : { warnings: {}, counters: {} };
  }
}

// === the control plane ===

async function fetchText(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

function syncedCount(metrics: string): number {
  const match = /trellis_control_plane_sidecars\{state="SYNCED"\} (\d+)/.exec(metrics);
  return match ? Number(match[1]) : 0;
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** When the control plane logged `message` for each version (its pino `time`, ISO ms). */
function loggedTimes(file: string, message: string): Map<number, number> {
  const times = new Map<number, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes(`"${message}"`)) continue;
    try {
      const entry = JSON.parse(line) as { time?: string; version?: number };
      // The first time only: a writer re-announces its version after a reconnect.
      if (typeof entry.version === 'number' && typeof entry.time === 'string')
        if (!times.has(entry.version)) times.set(entry.version, Date.parse(entry.time));
    } catch {
      // A line cut by a concurrent write is not a compile record.
    }
  }
  return times;
}

/**
 * Times every sidecar's ACK where the control plane receives it: a subscriber on the status
 * subjects (control-plane user), so "all ACKed" includes the ACK's trip through NATS. Only
 * the first ACK of each sidecar for each version counts.
 */
class AckObserver {
  readonly #acks = new Map<number, Map<string, number>>();
  /** benchNow of every sync request (a plain subscriber sees each one; it never answers). */
  readonly syncRequests: number[] = [];
  #nc: NatsConnection | undefined;

  async start(servers: string, user: string, pass: string): Promise<void> {
    // Dials back as fast as the control plane does, so the storm's sync requests are seen from
    // its start.
    const nc = await connect({
      servers,
      user,
      pass,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      name: 'bench',
    });
    this.#nc = nc;
    nc.subscribe(subjects.allStatus, {
      callback: (error, msg) => {
        if (error) return;
        const at = benchNow();
        const status = JSON.parse(new TextDecoder().decode(msg.data)) as {
          kind?: string;
          version?: number;
        };
        if (status.kind !== 'ack' || typeof status.version !== 'number') return;
        let byPod = this.#acks.get(status.version);
        if (!byPod) this.#acks.set(status.version, (byPod = new Map()));
        if (!byPod.has(msg.subject)) byPod.set(msg.subject, at);
      },
    });
    nc.subscribe(subjects.allSync, {
      callback: (error) => {
        if (!error) this.syncRequests.push(benchNow());
      },
    });
    await nc.flush();
  }

  /** Each sidecar's first ACK time of `version`, once `count` sidecars ACKed it. */
  times(version: number, count: number): number[] | undefined {
    const byPod = this.#acks.get(version);
    return byPod && byPod.size >= count ? [...byPod.values()] : undefined;
  }

  acked(version: number): number {
    return this.#acks.get(version)?.size ?? 0;
  }

  async close(): Promise<void> {
    await this.#nc?.close();
  }
}

// === one run ===

async function runOnce(options: RunOptions): Promise<RunResult> {
  const { sidecars, changes, warmupChanges, workers: workerCount, profileDir } = options;
  const limits = trellisNatsLimits(sidecars);
  const natsAuthTimeoutSeconds = options.natsAuthTimeoutSeconds ?? limits.authTimeoutSeconds;
  const perWorker = Math.ceil(sidecars / workerCount);
  const fdLimit = openFilesLimit();
  if (fdLimit < sidecars + FD_MARGIN) {
    throw new BenchError(
      `the open-files limit is ${fmt(fdLimit)}, and ${fmt(sidecars)} sidecars need at least ${fmt(sidecars + FD_MARGIN)} (nats-server holds one per connection): run through \`npm run bench:control-plane\`, which raises it, or raise the hard limit (ulimit -Hn)`,
    );
  }
  if (!existsSync(CONTROL_PLANE_BUNDLE)) {
    throw new BenchError(
      `${CONTROL_PLANE_BUNDLE} is missing: run \`node scripts/build-app.mjs apps/control-plane\``,
    );
  }

  const dir = await mkdtemp(join(tmpdir(), 'trellis-bench-cp-'));
  tempDirs.add(dir);
  const source = join(dir, 'mesh');
  await mkdir(source);
  const routeFile = join(source, 'routes.yaml');
  await writeFile(join(source, 'services.yaml'), SERVICES_YAML);
  await writeFile(routeFile, routeYaml(90));

  const controlPlanePassword = 'bench-cp-secret';
  // One NATS user per sidecar pod, as in a mesh: nats-server holds N + 1 users.
  const logins: SidecarLogin[] = Array.from({ length: sidecars }, (_, i) => {
    const pod = `sc-${i}`;
    const password = randomBytes(12).toString('base64url');
    return { pod, user: sidecarNatsUser(BENCH_NAMESPACE, pod), password };
  });
  const nats: NatsServerHandle = await startNatsServer({
    users: trellisNatsUsers({
      controlPlanePassword,
      sidecars: logins.map(({ pod, password }) => ({ namespace: BENCH_NAMESPACE, pod, password })),
    }),
    maxPayload: 8 * MiB,
    stopGraceMs: 5_000,
    startTimeoutMs: 30_000,
    limits: { ...limits, authTimeoutSeconds: natsAuthTimeoutSeconds },
  });
  const workers: Worker[] = [];
  const observer = new AckObserver();
  let cp: ChildProcess | undefined;
  try {
    await observer.start(nats.url, CONTROL_PLANE_NATS_USER, controlPlanePassword);
    const apiPort = await getFreePort();
    const cpLog = join(dir, 'control-plane.log');
    const logFd = openSync(cpLog, 'a');
    cp = spawn(
      process.execPath,
      [
        ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
        CONTROL_PLANE_BUNDLE,
        '--source',
        source,
        '--nats',
        nats.url,
        '--nats-user',
        CONTROL_PLANE_NATS_USER,
        '--replica-id',
        'bench-cp',
        '--api',
        `127.0.0.1:${apiPort}`,
      ],
      {
        stdio: ['ignore', logFd, logFd],
        env: { ...process.env, TRELLIS_NATS_PASSWORD: controlPlanePassword },
      },
    );
    closeSync(logFd);
    children.add(cp);
    const cpPid = cp.pid as number;
    const cpAlive = (): void => {
      if (cp?.exitCode !== null || cp.signalCode !== null) {
        throw new BenchError(
          `the control plane exited (${cp?.signalCode ?? `code ${cp?.exitCode}`}); log tail:\n${logTail(cpLog)}`,
        );
      }
    };
    const api = `http://127.0.0.1:${apiPort}`;
    const initialVersion = await until(
      async () => {
        cpAlive();
        const body = await fetchText(`${api}/api/v1/proxies`);
        const latest =
          body === undefined
            ? undefined
            : (JSON.parse(body) as { latest: { version: number } | null }).latest;
        return latest?.version;
      },
      30_000,
      () => `the control plane did not store a first version (log tail:\n${logTail(cpLog)})`,
      100,
    );
    const cpCpuStart = cpuSeconds(cpPid);
    console.log(`  control plane up (pid ${cpPid}), version ${initialVersion} stored`);

    // Sidecars connect in batches per worker, so the connect storm is the workers' pace.
    const syncStart = benchNow();
    for (let w = 0; w < workerCount; w++) workers.push(new Worker(w, profileDir));
    const workerCpuStart = new Map<number, number>();
    await Promise.all(
      workers.map(async (worker, w) => {
        const own = logins.slice(w * perWorker, (w + 1) * perWorker);
        workerCpuStart.set(worker.pid, cpuSeconds(worker.pid));
        await worker.start(
          {
            type: 'start',
            servers: nats.url,
            sidecars: own,
            batch: 200,
            connectTimeoutMs: 30_000,
          },
          60_000 + own.length * 20,
        );
      }),
    );
    const allApplied = async (version: number, timeoutMs: number): Promise<number[]> => {
      let applied = 0;
      return until(
        async () => {
          cpAlive();
          const replies = await Promise.all(workers.map((w) => w.queryVersion(version)));
          applied = 0;
          const times: number[] = [];
          for (const r of replies) {
            if (r.type !== 'version-status') continue;
            applied += r.applied;
            if (r.times) times.push(...r.times);
          }
          return times.length === sidecars ? times : undefined;
        },
        timeoutMs,
        () => `only ${fmt(applied)} of ${fmt(sidecars)} sidecars applied version ${version}`,
      );
    };
    await allApplied(initialVersion, 60_000 + sidecars * 10);
    let synced = 0;
    await until(
      async () => {
        cpAlive();
        synced = syncedCount((await fetchText(`${api}/metrics`)) ?? '');
        return synced === sidecars ? true : undefined;
      },
      30_000,
      () =>
        `the control plane saw only ${fmt(synced)} of ${fmt(sidecars)} sidecars SYNCED on version ${initialVersion}`,
      200,
    );
    const initialSyncSeconds = (benchNow() - syncStart) / 1000;
    console.log(
      `  ${fmt(sidecars)} sidecars SYNCED on version ${initialVersion} after ${initialSyncSeconds.toFixed(1)} s`,
    );

    // U warm-up changes, then K measured ones, one at a time: file write → every sidecar's ACK
    // received for the next version.
    const warmupChangeMs: number[] = [];
    const changeMs: number[] = [];
    const ackMs: number[] = [];
    const changeApplyMs: number[] = [];
    const applyMs: number[] = [];
    const writtenAt = new Map<number, number>();
    const simCpu = (): number => workers.reduce((sum, w) => sum + cpuSeconds(w.pid), 0);
    // Set when the first measured change starts (there is at least one: --changes ≥ 1).
    let simCpuBeforeChanges = 0;
    for (let i = 0; i < warmupChanges + changes; i++) {
      const warmup = i < warmupChanges;
      if (i === warmupChanges) simCpuBeforeChanges = simCpu();
      const version = initialVersion + i + 1;
      const written = benchNow();
      if (!warmup) writtenAt.set(version, written);
      await writeFile(routeFile, routeYaml(weightOfChange(i)));
      const acks = await until(
        async () => {
          cpAlive();
          return observer.times(version, sidecars);
        },
        30_000 + sidecars * 3,
        () => `only ${fmt(observer.acked(version))} of ${fmt(sidecars)} sidecars ACKed ${version}`,
        5,
      );
      const ackLatencies = acks.map((t) => t - written);
      const applied = (await allApplied(version, 10_000)).map((t) => t - written);
      if (warmup) {
        warmupChangeMs.push(Math.max(...ackLatencies));
      } else {
        ackMs.push(...ackLatencies);
        changeMs.push(Math.max(...ackLatencies));
        applyMs.push(...applied);
        changeApplyMs.push(Math.max(...applied));
      }
      const label = warmup
        ? `warm-up change ${i + 1}/${warmupChanges}`
        : `change ${i - warmupChanges + 1}/${changes}`;
      console.log(
        `  ${label} (version ${version}): all ${fmt(sidecars)} ACKed after ${Math.max(...ackLatencies).toFixed(1)} ms, applied after ${Math.max(...applied).toFixed(1)} ms (per-sidecar ACK p50 ${quantiles(ackLatencies).p50} ms)`,
      );
      // Changes a second apart: each one is a lone edit, not part of a burst.
      await delay(1_000);
    }
    const simulationChangeCpuSeconds = simCpu() - simCpuBeforeChanges;

    const sinceWrite = (message: string): number[] => {
      const logged = loggedTimes(cpLog, message);
      return [...writtenAt].flatMap(([version, written]) => {
        const at = logged.get(version);
        return at === undefined ? [] : [at - written];
      });
    };
    const compileMs = sinceWrite('config compiled');
    const publishMs = sinceWrite('config update published');

    // Resync storm: the server goes down and comes back; every sidecar reconnects and syncs.
    const stormStart = benchNow();
    await nats.restart();
    const natsReady = benchNow();
    let resynced = 0;
    // Once a second: seconds since the restart began, sidecars connected / confirmed (the
    // storm's shape: reconnects lagging, or confirmations lagging the reconnects).
    const progress: string[] = [];
    let nextProgress = stormStart + 1_000;
    const lastResync = await until(
      async () => {
        cpAlive();
        const replies = await Promise.all(workers.map((w) => w.queryResync(stormStart)));
        resynced = 0;
        let connected = 0;
        let latest = 0;
        let complete = true;
        for (const r of replies) {
          if (r.type !== 'resync-status') continue;
          resynced += r.resynced;
          connected += r.connected;
          if (r.latest === undefined) complete = false;
          else latest = Math.max(latest, r.latest);
        }
        if (benchNow() >= nextProgress) {
          nextProgress += 1_000;
          progress.push(
            `${Math.round((benchNow() - stormStart) / 1000)}s ${fmt(connected)}/${fmt(resynced)}`,
          );
        }
        return complete ? latest : undefined;
      },
      60_000 + sidecars * 5,
      () =>
        `only ${fmt(resynced)} of ${fmt(sidecars)} sidecars resynced after the nats-server restart`,
      100,
    );
    const resyncStormSeconds = (lastResync - stormStart) / 1000;
    console.log(`  resync storm, connected/confirmed: ${progress.join(', ')}`);
    const pushLines = ((await fetchText(`${api}/metrics`)) ?? '')
      .split('\n')
      .filter((l) => l.startsWith('trellis_control_plane_config_pushes_total{'));
    console.log(`  control plane pushes: ${pushLines.join(', ')}`);
    const perSecond = new Map<number, number>();
    for (const at of observer.syncRequests)
      if (at >= stormStart) {
        const second = Math.floor((at - stormStart) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
    console.log(
      `  resync storm, sync requests per second: ${[...perSecond].map(([t, n]) => `${t}s ${fmt(n)}`).join(', ')}`,
    );
    console.log(
      `  resync storm: all resynced ${resyncStormSeconds.toFixed(2)} s after the restart began (${((lastResync - natsReady) / 1000).toFixed(2)} s after nats-server was ready)`,
    );

    const controlPlaneCpuSeconds = cpuSeconds(cpPid) - cpCpuStart;
    const controlPlanePeakRssMb = peakRssMb(cpPid);
    let simulationCpuSeconds = 0;
    for (const w of workers)
      simulationCpuSeconds += cpuSeconds(w.pid) - (workerCpuStart.get(w.pid) ?? 0);
    const sidecarWarnings: Record<string, number> = {};
    const sidecarCounters: Record<string, number> = {};
    for (const report of await Promise.all(workers.map((w) => w.stop(10_000)))) {
      for (const [code, n] of Object.entries(report.warnings))
        sidecarWarnings[code] = (sidecarWarnings[code] ?? 0) + n;
      for (const name of REPORTED_COUNTERS)
        sidecarCounters[name] = (sidecarCounters[name] ?? 0) + (report.counters[name] ?? 0);
    }
    return {
      sidecars,
      changes,
      warmupChangeToAllAckedMs: warmupChangeMs.map((ms) => Math.round(ms * 10) / 10),
      changeToAllAckedMs: quantiles(changeMs),
      perSidecarAckMs: quantiles(ackMs),
      changeToAllAppliedMs: quantiles(changeApplyMs),
      perSidecarApplyMs: quantiles(applyMs),
      writeToPublishedMs: quantiles(publishMs),
      writeToCompiledMs: quantiles(compileMs),
      resyncStormSeconds: Math.round(resyncStormSeconds * 100) / 100,
      resyncAfterReadySeconds: Math.round(((lastResync - natsReady) / 1000) * 100) / 100,
      controlPlaneCpuSeconds: Math.round(controlPlaneCpuSeconds * 100) / 100,
      controlPlanePeakRssMb,
      simulationCpuSeconds: Math.round(simulationCpuSeconds * 100) / 100,
      simulationChangeCpuSeconds: Math.round(simulationChangeCpuSeconds * 100) / 100,
      workers: workerCount,
      natsAuthTimeoutSeconds,
      initialSyncSeconds: Math.round(initialSyncSeconds * 100) / 100,
      sidecarWarnings,
      sidecarCounters,
    };
  } finally {
    await observer.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop(2_000)));
    if (cp && cp.exitCode === null && cp.signalCode === null) {
      const exited = new Promise((r) => cp?.once('exit', r));
      cp.kill('SIGTERM');
      await Promise.race([exited, delay(5_000)]);
      if (cp.exitCode === null && cp.signalCode === null) cp.kill('SIGKILL');
    }
    if (cp) children.delete(cp);
    await nats.stop();
    // A profiled run keeps the control plane's log beside its profiles: the timeline of the
    // pipeline's stages and of the outage (reconnect, lease, head announcements).
    if (profileDir && existsSync(join(dir, 'control-plane.log')))
      cpSync(join(dir, 'control-plane.log'), join(profileDir, 'control-plane.log'));
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

// === reporting ===

function verdict(value: number, target: number | undefined, unit: string): string {
  if (target === undefined) return '';
  return ` (target ≤ ${fmt(target)} ${unit}: ${value <= target ? 'met' : 'MISSED'})`;
}

function printResult(r: RunResult): void {
  console.log(`\nN = ${fmt(r.sidecars)} sidecars, ${r.workers} workers, ${r.changes} changes`);
  console.log(`  warm-up changes:      ${warmupList(r)} (not in the percentiles)`);
  const c = r.changeToAllAckedMs;
  console.log(
    `  change → all ACKed:   p50 ${c.p50} ms, p99 ${c.p99} ms, max ${c.max} ms${verdict(c.p99, TARGETS.p99Ms[r.sidecars], 'ms p99')}`,
  );
  const k = r.perSidecarAckMs;
  console.log(`  per-sidecar ACK:      p50 ${k.p50} ms, p99 ${k.p99} ms, max ${k.max} ms`);
  const ap = r.changeToAllAppliedMs;
  console.log(`  change → all applied: p50 ${ap.p50} ms, p99 ${ap.p99} ms, max ${ap.max} ms`);
  const a = r.perSidecarApplyMs;
  console.log(`  per-sidecar apply:    p50 ${a.p50} ms, p99 ${a.p99} ms, max ${a.max} ms`);
  const w = r.writeToCompiledMs;
  const pub = r.writeToPublishedMs;
  console.log(
    `  write → compiled:     p50 ${w.p50} ms, max ${w.max} ms; → published p50 ${pub.p50} ms, max ${pub.max} ms`,
  );
  console.log(
    `  resync storm:         ${r.resyncStormSeconds} s (${r.resyncAfterReadySeconds} s after nats-server ready)${verdict(r.resyncStormSeconds, TARGETS.stormSeconds[r.sidecars], 's')}`,
  );
  console.log(
    `  control plane:        ${r.controlPlaneCpuSeconds} CPU s, peak RSS ${r.controlPlanePeakRssMb} MB${verdict(r.controlPlanePeakRssMb, TARGETS.rssMb[r.sidecars], 'MB')}`,
  );
  console.log(
    `  simulation:           ${r.simulationCpuSeconds} CPU s over ${r.workers} workers (${r.simulationChangeCpuSeconds} during the changes); initial sync ${r.initialSyncSeconds} s`,
  );
  console.log(`  sidecar warnings:     ${warningList(r.sidecarWarnings)}`);
  console.log(`  sidecar counters:     ${counterList(r.sidecarCounters)}`);
}

/** The warm-up changes' change → all ACKed, `277.6 · 286.5 ms`, or `none`. */
function warmupList(r: RunResult): string {
  const ms = r.warmupChangeToAllAckedMs;
  return ms.length === 0 ? 'none' : `${ms.join(' · ')} ms`;
}

function warningList(warnings: Readonly<Record<string, number>>): string {
  const list = Object.entries(warnings).map(([k, n]) => `${k} ×${fmt(n)}`);
  return list.length === 0 ? 'none' : list.join('; ');
}

type Row =
  | { readonly ok: RunResult }
  | {
      readonly failed: {
        sidecars: number;
        changes: number;
        warmupChanges: number;
        workers: number;
        reason: string;
      };
    };

const TABLE_HEADER = [
  'sidecars',
  'workers',
  'changes (+ warm-up)',
  'warm-up: change → all ACKed ms',
  'change → all ACKed ms p50 / p99 / max',
  'per-sidecar ACK ms p50 / p99 / max',
  'change → all applied ms p50 / p99 / max',
  'write → compiled / published ms p50',
  'resync storm s',
  'control plane CPU s',
  'control plane peak RSS MB',
  'simulation CPU s (changes / all)',
  'initial sync s',
];
const RIGHT_ALIGNED = new Set([0, 1, 2, 9, 12]);

function tableCells(row: Row): string[] {
  if ('failed' in row) {
    const f = row.failed;
    const reason = f.reason
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\|/g, '\\|')
      .slice(0, 600);
    const cells = [
      fmt(f.sidecars),
      String(f.workers),
      `${f.changes} (+ ${f.warmupChanges})`,
      `FAILED: ${reason}`,
    ];
    while (cells.length < TABLE_HEADER.length) cells.push('');
    return cells;
  }
  const r = row.ok;
  const c = r.changeToAllAckedMs;
  const k = r.perSidecarAckMs;
  const a = r.changeToAllAppliedMs;
  const mark = (value: number, target: number | undefined): string =>
    target === undefined
      ? ''
      : value <= target
        ? ` (≤ ${fmt(target)} met)`
        : ` (≤ ${fmt(target)} MISSED)`;
  return [
    fmt(r.sidecars),
    String(r.workers),
    `${r.changes} (+ ${r.warmupChangeToAllAckedMs.length})`,
    r.warmupChangeToAllAckedMs.join(' · ') || 'none',
    `${c.p50} / ${c.p99} / ${c.max}${mark(c.p99, TARGETS.p99Ms[r.sidecars])}`,
    `${k.p50} / ${k.p99} / ${k.max}`,
    `${a.p50} / ${a.p99} / ${a.max}`,
    `${r.writeToCompiledMs.p50} / ${r.writeToPublishedMs.p50}`,
    `${r.resyncStormSeconds} (${r.resyncAfterReadySeconds})${mark(r.resyncStormSeconds, TARGETS.stormSeconds[r.sidecars])}`,
    String(r.controlPlaneCpuSeconds),
    `${r.controlPlanePeakRssMb}${mark(r.controlPlanePeakRssMb, TARGETS.rssMb[r.sidecars])}`,
    `${r.simulationChangeCpuSeconds} / ${r.simulationCpuSeconds}`,
    String(r.initialSyncSeconds),
  ];
}

/** A markdown table padded the way Prettier pads one, so docs/benchmarks.md stays formatted. */
function markdownTable(rows: readonly (readonly string[])[]): string[] {
  const all = [TABLE_HEADER, ...rows];
  const widths = TABLE_HEADER.map((_, i) =>
    Math.max(3, ...all.map((cells) => [...(cells[i] ?? '')].length)),
  );
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat((widths[i] as number) - [...text].length);
    return RIGHT_ALIGNED.has(i) ? gap + text : text + gap;
  };
  const line = (cells: readonly string[]): string =>
    `| ${TABLE_HEADER.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (RIGHT_ALIGNED.has(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(TABLE_HEADER), rule, ...rows.map(line)];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function appendSection(
  rows: readonly Row[],
  command: string,
  note: string | undefined,
  loadBefore: readonly number[],
): Promise<void> {
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const load = (l: readonly number[]): string => l.map((n) => n.toFixed(2)).join(' ');
  const authTimeouts = [
    ...new Set(rows.flatMap((r) => ('ok' in r ? [r.ok.natsAuthTimeoutSeconds] : []))),
  ];
  const lines = [
    `## Control plane scale, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Command: \`${command}\`. Commit ${git(['rev-parse', '--short', 'HEAD'])}.`,
    `Machine: ${cpus().length} vCPU (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}) ${cpuModel}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node.js ${process.version}, open-files limit ${fmt(openFilesLimit())}; shared with other engineers' test runs (load average ${load(loadBefore)} before, ${load(loadavg())} after).`,
    ...(note ? ['', `What changed: ${note}`] : []),
    '',
    `One real nats-server (auth timeout ${authTimeouts.join(', ') || '?'} s, trellisNatsLimits; one NATS user per sidecar pod), the built control plane (one replica, default trailing debounce of 100 ms), N sidecars running the real \`ControlPlaneClient\` (no proxy) in W worker processes, all on this machine. A change rewrites the route weights, one change a second; "change → all ACKed" is the file write until the last sidecar's ACK of the new version reached a NATS subscriber on the status subjects (where the control plane receives it), p50/p99/max over the K measured changes, which follow U warm-up changes (reported in their own column, in no percentile: the simulated sidecars of a worker share its code, which runs unoptimised at first, where each real sidecar runs its own); "per-sidecar ACK" is every sidecar's write → ACK received; "change → all applied" is the write until the last sidecar applied it (in its worker); "write → compiled / published" are the control plane's log times of the version compiled and its update published. The resync storm is a nats-server restart, from the restart call until every sidecar is reconnected and confirmed on the newest version (a sync answer, or the control plane's head announcement). CPU seconds count from the control plane being up (control plane) and from the workers starting their sidecars (simulation) until after the storm; "changes" is the simulation's CPU during the K changes alone. Targets: N=1,000 p99 ≤ 250 ms; N=10,000 p99 ≤ 2 s, resync storm ≤ 10 s, control plane RSS ≤ 500 MB.`,
    '',
    ...markdownTable(rows.map(tableCells)),
    '',
    ...rows.flatMap((row) =>
      'ok' in row
        ? [
            `Sidecar warnings at ${fmt(row.ok.sidecars)}: ${warningList(row.ok.sidecarWarnings)}.`,
            '',
            `Sidecar counters at ${fmt(row.ok.sidecars)} (whole run): ${counterList(row.ok.sidecarCounters)}.`,
            '',
          ]
        : [],
    ),
  ];
  // One blank line between the previous section and this one, however the file ends.
  const doc = join(ROOT, 'docs/benchmarks.md');
  const ending = existsSync(doc) ? readFileSync(doc, 'utf8').slice(-2) : '\n\n';
  const gap = ending === '\n\n' ? '' : ending.endsWith('\n') ? '\n' : '\n\n';
  await appendFile(doc, gap + lines.join('\n'));
  console.log('\nappended the section to docs/benchmarks.md');
}

// === main ===

function wholeNumber(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new BenchError(`--${name} must be a whole number ≥ ${min} (got "${value}")`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sidecars: { type: 'string' },
      changes: { type: 'string' },
      'warmup-changes': { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'string' },
      'nats-auth-timeout': { type: 'string' },
      profile: { type: 'string' },
      note: { type: 'string' },
    },
  });
  const loadBefore = loadavg();
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const changes = wholeNumber('changes', values.changes, 1) ?? 5;
  const warmupChanges = wholeNumber('warmup-changes', values['warmup-changes'], 0) ?? 3;
  const chosen = wholeNumber('sidecars', values.sidecars, 1);
  const workersFlag = wholeNumber('workers', values.workers, 1);
  const authTimeout = wholeNumber('nats-auth-timeout', values['nats-auth-timeout'], 1);
  const sizes = chosen === undefined ? [1_000, 10_000] : [chosen];
  const rows: Row[] = [];
  for (const sidecars of sizes) {
    // Two workers, one per core: with four, the 10,000-sidecar storm took 9.0–11.2 s (nats-server
    // restarted in 2.4–3.6 s, starved by the workers' failed dials) and with two 8.1–8.5 s.
    const workers = workersFlag ?? 2;
    console.log(
      `\nbench:control-plane: ${fmt(sidecars)} sidecars over ${workers} workers, ${warmupChanges} warm-up and ${changes} measured changes`,
    );
    try {
      const result = await runOnce({
        sidecars,
        changes,
        warmupChanges,
        workers,
        natsAuthTimeoutSeconds: authTimeout,
        profileDir,
      });
      printResult(result);
      rows.push({ ok: result });
    } catch (error) {
      const reason = (error as Error).message;
      console.error(
        `\nbench:control-plane: the run with ${fmt(sidecars)} sidecars FAILED: ${reason}`,
      );
      rows.push({ failed: { sidecars, changes, warmupChanges, workers, reason } });
      killAll();
    }
  }
  if (values.json !== undefined) {
    const out = rows.map((r) => ('ok' in r ? r.ok : r.failed));
    await writeFile(
      values.json,
      `${JSON.stringify(chosen === undefined ? out : out[0], null, 2)}\n`,
    );
    console.log(`wrote ${values.json}`);
  }
  // Every run is recorded, one size or both, with its command line.
  const extra = process.argv
    .slice(2)
    .map((a) => (/^[\w./=:-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
    .join(' ');
  await appendSection(
    rows,
    `npm run bench:control-plane${extra ? ` -- ${extra}` : ''}`,
    values.note,
    loadBefore,
  );
  if (rows.some((r) => 'failed' in r)) process.exitCode = 1;
}

main()
  .catch((error: unknown) => {
    console.error(`bench:control-plane: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(killAll);
