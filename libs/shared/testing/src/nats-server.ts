// Runs one real nats-server per call, configured by a file of its own in a fresh temp dir
// (config, log, JetStream store), on free loopback ports, always with user/password auth.
// The handle can restart it on the same ports and store (outage tests), SIGKILL it (crash
// tests) and stop it for good (removes the temp dir).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';
import { TestingError } from './errors.js';
import { findNatsServerBinary } from './nats-binary.js';
import { LOOPBACK_HOST, renderNatsConfig } from './nats-config.js';
import type {
  NatsClusterOptions,
  NatsConfigSpec,
  NatsConnectionLimits,
  NatsCredentials,
  NatsUserOptions,
} from './nats-config.js';
import { fetchNatsMonitor } from './nats-monitor.js';
import { trackServer, untrackServer } from './nats-registry.js';
import type { TrackedServer } from './nats-registry.js';
import { getFreePort, isPortOpen } from './ports.js';
import { waitFor } from './wait-for.js';

const MiB = 1024 * 1024;

/** The one user a server gets when `users` is omitted: unrestricted, random password. */
export const DEFAULT_NATS_USER = 'admin';

export interface StartNatsServerOptions {
  /** Default: one unrestricted user named `admin`. Passwords are generated when omitted. */
  readonly users?: readonly NatsUserOptions[];
  /** Client port; default a free one. */
  readonly port?: number;
  /** HTTP monitoring port; default a free one. */
  readonly monitorPort?: number;
  /** nats-server `server_name`; required by JetStream in a cluster. */
  readonly serverName?: string;
  /** Default true. */
  readonly jetstream?: boolean;
  /** JetStream memory limit in bytes (default 64 MiB). */
  readonly maxMemoryStore?: number;
  /** JetStream file limit in bytes (default 256 MiB). */
  readonly maxFileStore?: number;
  /** Largest message the server accepts, in bytes (default 8 MiB). */
  readonly maxPayload?: number;
  /** Connection limits (max_connections, auth timeout, write deadline); default nats-server's. */
  readonly limits?: NatsConnectionLimits;
  /** Makes this server a cluster node; see startNatsCluster, which fills it in. */
  readonly cluster?: NatsClusterOptions;
  /** Path of the nats-server binary; default findNatsServerBinary(). */
  readonly binary?: string;
  /** Bound on start-up and on each restart (default 15 s). */
  readonly startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping or restarting (default 5 s). */
  readonly stopGraceMs?: number;
  /**
   * Default false. True: the server runs in a process group (and session) of its own, so a
   * terminal's Ctrl-C reaches only the program, which stops the server once the clients that
   * still need it are done (the demo). Not the default: with the kernel's autogroup scheduling a
   * session of its own is a scheduling group of its own too, which slowed the control-plane
   * benchmark's fan-out by a third (p50 214-218 ms vs 280-307 ms at 1,000 sidecars).
   */
  readonly ownProcessGroup?: boolean;
  /** Times the waits above; default the system clock. */
  readonly clock?: Clock;
}

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly serverName: string | undefined;
  /** The temp dir holding config, log and store; removed by stop(). */
  readonly dir: string;
  /** JetStream `store_dir`; kept across restart() and kill(). */
  readonly storeDir: string;
  readonly configFile: string;
  /** stdout and stderr of every run of this server, appended. */
  readonly logFile: string;
  /** Credentials by user name. */
  readonly users: Readonly<Record<string, NatsCredentials>>;
  /** Process id while the server process is alive. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM, SIGKILL after the grace period, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops gracefully and starts again on the same ports and store; resolves once ready. */
  restart(): Promise<void>;
  /** SIGKILL, as in a crash; the store stays for restart(). */
  kill(): Promise<void>;
  /** The last `lines` lines of the log ('' once stopped). */
  logTail(lines?: number): Promise<string>;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/**
 * Starts a nats-server and resolves once its monitor reports healthy (JetStream enabled when on)
 * and its client port accepts connections. Stop it with handle.stop() or stopAllNatsServers().
 */
export async function startNatsServer(
  options: StartNatsServerOptions = {},
): Promise<NatsServerHandle> {
  const binary = options.binary ?? findNatsServerBinary();
  const users = resolveNatsUsers(options.users);
  // Free ports are released before nats-server binds them; if another process grabs one in
  // between, try again with new ones (only when the caller left the choice to us).
  const portsChosenHere =
    options.port === undefined && options.monitorPort === undefined && !options.cluster;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await getFreePort());
    let monitorPort = options.monitorPort ?? (await getFreePort());
    while (monitorPort === port && options.monitorPort === undefined)
      monitorPort = await getFreePort();
    const dir = await mkdtemp(join(tmpdir(), 'trellis-nats-'));
    const server = new NatsServerProcess(dir, port, monitorPort, binary, users, options);
    trackServer(server);
    try {
      await writeFile(server.configFile, renderNatsConfig(server.spec(options)));
      await server.start();
      return server;
    } catch (err) {
      await server.stop();
      const addressInUse =
        err instanceof TestingError && err.message.includes('address already in use');
      if (!(portsChosenHere && addressInUse && attempt < 3)) throw err;
    }
  }
}

/** Fills in generated passwords; a cluster resolves once so every node accepts the same ones. */
export function resolveNatsUsers(
  users: readonly NatsUserOptions[] = [{ user: DEFAULT_NATS_USER }],
): (NatsUserOptions & { readonly password: string })[] {
  return users.map((u) => ({ ...u, password: u.password ?? randomBytes(16).toString('hex') }));
}

class NatsServerProcess implements NatsServerHandle, TrackedServer {
  readonly url: string;
  readonly serverName: string | undefined;
  readonly storeDir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly users: Readonly<Record<string, NatsCredentials>>;
  readonly #binary: string;
  readonly #userSpecs: readonly (NatsUserOptions & { readonly password: string })[];
  readonly #jetstream: boolean;
  readonly #clock: Clock;
  readonly #startTimeoutMs: number;
  readonly #stopGraceMs: number;
  readonly #ownProcessGroup: boolean;
  #child: ChildProcess | undefined;
  #exit: Promise<ExitInfo> | undefined;
  #exited = true;
  #stopped = false;
  // stop/restart/kill run one at a time, in call order.
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly monitorPort: number,
    binary: string,
    users: readonly (NatsUserOptions & { readonly password: string })[],
    options: StartNatsServerOptions,
  ) {
    this.url = `nats://${LOOPBACK_HOST}:${port}`;
    this.serverName = options.serverName;
    this.storeDir = join(dir, 'store');
    this.configFile = join(dir, 'nats-server.conf');
    this.logFile = join(dir, 'nats-server.log');
    this.users = Object.fromEntries(
      users.map((u) => [u.user, { user: u.user, password: u.password }]),
    );
    this.#binary = binary;
    this.#userSpecs = users;
    this.#jetstream = options.jetstream ?? true;
    this.#clock = options.clock ?? systemClock;
    this.#startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.#stopGraceMs = options.stopGraceMs ?? 5_000;
    this.#ownProcessGroup = options.ownProcessGroup ?? false;
  }

  get pid(): number | undefined {
    return this.#exited ? undefined : this.#child?.pid;
  }

  get running(): boolean {
    return !this.#exited;
  }

  spec(options: StartNatsServerOptions): NatsConfigSpec {
    return {
      port: this.port,
      monitorPort: this.monitorPort,
      serverName: this.serverName,
      maxPayload: options.maxPayload ?? 8 * MiB,
      limits: options.limits,
      jetstream: this.#jetstream
        ? {
            storeDir: this.storeDir,
            maxMemoryStore: options.maxMemoryStore ?? 64 * MiB,
            maxFileStore: options.maxFileStore ?? 256 * MiB,
          }
        : undefined,
      users: this.#userSpecs,
      cluster: options.cluster,
    };
  }

  start(): Promise<void> {
    return this.#serial(() => this.#launch());
  }

  stop(): Promise<void> {
    return this.#serial(async () => {
      if (this.#stopped) return;
      try {
        await this.#terminate();
      } finally {
        this.#stopped = true;
        untrackServer(this);
        await rm(this.dir, { recursive: true, force: true });
      }
    });
  }

  restart(): Promise<void> {
    return this.#serial(async () => {
      if (this.#stopped) {
        throw new TestingError(
          'TRL_TESTING_NATS_STOPPED',
          `nats-server ${this.url} was stopped; start a new one`,
        );
      }
      await this.#terminate();
      await this.#launch();
    });
  }

  kill(): Promise<void> {
    return this.#serial(() => this.#forceKill());
  }

  reapNow(): void {
    if (!this.#exited) this.#child?.kill('SIGKILL');
    this.#stopped = true;
    rmSync(this.dir, { recursive: true, force: true });
  }

  async logTail(lines = 30): Promise<string> {
    let text: string;
    try {
      text = await readFile(this.logFile, 'utf8');
    } catch {
      return '';
    }
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  #serial(op: () => Promise<void>): Promise<void> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #launch(): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#binary, ['-c', this.configFile], {
        stdio: ['ignore', fd, fd],
        detached: this.#ownProcessGroup,
      });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    this.#child = child;
    this.#exited = false;
    const exit = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // A failed spawn (missing or non-executable binary) emits 'error' and may never emit 'exit'.
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
    }).then((info) => {
      this.#exited = true;
      return info;
    });
    this.#exit = exit;

    const abort = new AbortController();
    const ready = waitFor(() => this.#isReady(), {
      timeoutMs: this.#startTimeoutMs,
      intervalMs: 25,
      what: `nats-server ${this.url} to become ready`,
      clock: this.#clock,
      signal: abort.signal,
    });
    ready.catch(() => undefined); // rejected by the abort below when the process exits first
    let outcome: 'ready' | ExitInfo;
    try {
      outcome = await Promise.race([ready.then(() => 'ready' as const), exit]);
    } catch (err) {
      await this.#forceKill();
      throw new TestingError(
        'TRL_TESTING_NATS_START_FAILED',
        `nats-server did not become ready within ${this.#startTimeoutMs} ms (${this.#commandLine()})` +
          (await this.#tailForError()),
        { cause: err },
      );
    }
    if (outcome !== 'ready') {
      abort.abort(new Error('nats-server exited'));
      throw new TestingError(
        'TRL_TESTING_NATS_START_FAILED',
        `nats-server exited (${describeExit(outcome)}) before it was ready (${this.#commandLine()})` +
          (await this.#tailForError()),
        outcome.error ? { cause: outcome.error } : undefined,
      );
    }
  }

  async #isReady(): Promise<boolean> {
    const path = this.#jetstream ? '/healthz?js-enabled-only=true' : '/healthz';
    const { status } = await fetchNatsMonitor(this.monitorPort, path, 1000);
    return status === 200 && (await isPortOpen(LOOPBACK_HOST, this.port, 1000));
  }

  async #terminate(): Promise<void> {
    const child = this.#child;
    const exit = this.#exit;
    if (this.#exited || !child || !exit) return;
    child.kill('SIGTERM');
    const graceRanOut = await new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimer(this.#stopGraceMs, () => resolve(true));
      void exit.then(() => {
        timer.cancel();
        resolve(false);
      });
    });
    if (graceRanOut) {
      child.kill('SIGKILL');
      await exit;
    }
  }

  async #forceKill(): Promise<void> {
    if (this.#exited || !this.#child || !this.#exit) return;
    this.#child.kill('SIGKILL');
    await this.#exit;
  }

  #commandLine(): string {
    return `${this.#binary} -c ${this.configFile}`;
  }

  async #tailForError(): Promise<string> {
    const tail = await this.logTail(20);
    return tail === '' ? '; the log is empty' : `; log tail:\n${tail}`;
  }
}

function describeExit(info: ExitInfo): string {
  if (info.error) return `spawn failed: ${info.error.message}`;
  if (info.signal) return `signal ${info.signal}`;
  return `code ${info.code}`;
}
