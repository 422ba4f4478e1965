// The primary's side of --concurrency N: N worker processes in numbered slots (1..N), the
// snapshot in force sent to each (on its hello, and on every accepted version), readiness (every
// worker listening with that version), restarts with bounded backoff, per-worker view requests,
// and the drain on shutdown. Processes come from an injected spawner, so this runs under tests
// with fake workers and a fake clock; apps/sidecar wires it to node:cluster.
import type { Clock, Timer } from '@trellis/time';
import { WorkersError } from './errors.js';
import { isTrellisMessage, parseToPrimary } from './ipc-messages.js';
import type { ToWorker, WireSnapshot, WorkerView } from './ipc-messages.js';
import { DEFAULT_RESTART_BACKOFF, RestartBackoff } from './restart-backoff.js';
import type { RestartBackoffParams } from './restart-backoff.js';

/** Largest --concurrency: beyond this the primary's fan-out and IPC dominate. */
export const MAX_WORKERS = 64;

/** A running worker process, as the fleet drives it. */
export interface WorkerHandle {
  send(message: ToWorker): void;
  /** Ends the process at once (the drain deadline has passed). */
  kill(): void;
}

/** What the spawner reports about the process it started. */
export interface WorkerEvents {
  message(message: unknown): void;
  exit(code: number | null, signal: string | null): void;
}

export type SpawnWorker = (worker: number, events: WorkerEvents) => WorkerHandle;

/** The logging calls the fleet makes; pino's logger satisfies it. */
export interface FleetLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface WorkerFleetOptions {
  readonly size: number;
  readonly spawn: SpawnWorker;
  readonly clock: Clock;
  readonly log: FleetLogger;
  readonly backoff?: RestartBackoffParams;
  /** How long a view request waits for each worker (default 2 000 ms). */
  readonly collectTimeoutMs?: number;
  /**
   * A worker failed before any worker ever listened (a port in use, a bad flag): the fleet stops
   * restarting and reports it once, so the primary can exit like a single process would.
   */
  readonly onStartFailed: (error: WorkersError) => void;
}

export type WorkerState = 'starting' | 'running' | 'restarting' | 'stopped';

/** One slot, for /ready, /config and the primary's metrics. */
export interface WorkerStatus {
  readonly worker: number;
  readonly state: WorkerState;
  readonly listening: boolean;
  /** Version the worker reported in force; null before its first. */
  readonly version: number | null;
  readonly restarts: number;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null } | null;
  readonly lastRejection: { readonly version: number; readonly issues: readonly string[] } | null;
}

/** One worker's answer to a view request, or why there is none. */
export type Collected =
  | { readonly worker: number; readonly status: number; readonly body: unknown }
  | { readonly worker: number; readonly error: string };

interface Slot {
  readonly worker: number;
  readonly backoff: RestartBackoff;
  handle: WorkerHandle | undefined;
  /** Bumped per process, so events of an exited process are told apart. */
  generation: number;
  startedAt: number;
  hello: boolean;
  listening: boolean;
  version: number | undefined;
  restarts: number;
  restartTimer: Timer | undefined;
  lastExit: WorkerStatus['lastExit'];
  lastRejection: WorkerStatus['lastRejection'];
  cleanExit: boolean;
}

interface Pending {
  readonly worker: number;
  readonly timer: Timer;
  readonly resolve: (collected: Collected) => void;
}

export class WorkerFleet {
  readonly #options: WorkerFleetOptions;
  readonly #slots: Slot[];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #snapshot: WireSnapshot | undefined;
  #everListened = false;
  #started = false;
  #stopping = false;
  #startFailed = false;
  #drained: Promise<boolean> | undefined;
  #onAllExited: (() => void) | undefined;

  constructor(options: WorkerFleetOptions) {
    if (!Number.isInteger(options.size) || options.size < 1 || options.size > MAX_WORKERS)
      throw new WorkersError(
        'TRL_WORKERS_INVALID_OPTION',
        `worker count must be a whole number from 1 to ${MAX_WORKERS} (got ${options.size})`,
      );
    this.#options = options;
    this.#slots = Array.from({ length: options.size }, (_, i) => ({
      worker: i + 1,
      backoff: new RestartBackoff(options.backoff ?? DEFAULT_RESTART_BACKOFF),
      handle: undefined,
      generation: 0,
      startedAt: 0,
      hello: false,
      listening: false,
      version: undefined,
      restarts: 0,
      restartTimer: undefined,
      lastExit: null,
      lastRejection: null,
      cleanExit: true,
    }));
  }

  /** Starts every worker. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const slot of this.#slots) this.#spawn(slot);
  }

  /** The snapshot in force at the primary, sent to every worker that said hello. */
  publish(snapshot: WireSnapshot): void {
    this.#snapshot = snapshot;
    for (const slot of this.#slots) if (slot.handle && slot.hello) this.#sendSnapshot(slot);
  }

  /** Every worker runs, listens, and has the primary's version in force. */
  get ready(): boolean {
    const snapshot = this.#snapshot;
    return (
      !this.#stopping &&
      snapshot !== undefined &&
      this.#slots.every((s) => s.handle && s.listening && s.version === snapshot.version)
    );
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  status(): WorkerStatus[] {
    return this.#slots.map((s) => ({
      worker: s.worker,
      state: s.handle
        ? s.listening
          ? 'running'
          : 'starting'
        : s.restartTimer
          ? 'restarting'
          : 'stopped',
      listening: s.listening,
      version: s.version ?? null,
      restarts: s.restarts,
      lastExit: s.lastExit,
      lastRejection: s.lastRejection,
    }));
  }

  /** Asks every worker for one view; each answers, times out, or is reported not running. */
  collect(view: WorkerView): Promise<Collected[]> {
    return Promise.all(
      this.#slots.map((slot) => {
        const { worker, handle } = slot;
        if (!handle || !slot.hello) return { worker, error: 'not running' };
        const id = this.#nextId++;
        return new Promise<Collected>((resolve) => {
          const timer = this.#options.clock.setTimer(this.#options.collectTimeoutMs ?? 2_000, () =>
            this.#settle(id, { worker, error: 'timeout' }),
          );
          this.#pending.set(id, { worker, timer, resolve });
          handle.send({ type: 'trellis:collect', id, view });
        });
      }),
    );
  }

  /**
   * Stops restarting and tells every worker to drain; resolves once all have exited, with true
   * when each exited with code 0. Calling it again returns the same promise.
   */
  drain(): Promise<boolean> {
    if (this.#drained) return this.#drained;
    this.#stopping = true;
    for (const slot of this.#slots) {
      slot.restartTimer?.cancel();
      slot.restartTimer = undefined;
      slot.handle?.send({ type: 'trellis:drain' });
    }
    this.#drained = new Promise<void>((resolve) => {
      this.#onAllExited = resolve;
      this.#checkAllExited();
    }).then(() => this.#slots.every((s) => s.cleanExit));
    return this.#drained;
  }

  /** Ends every worker still running at once (the drain deadline has passed). */
  kill(): void {
    for (const slot of this.#slots) slot.handle?.kill();
  }

  #spawn(slot: Slot): void {
    slot.restartTimer = undefined;
    const generation = ++slot.generation;
    slot.startedAt = this.#options.clock.now();
    slot.hello = false;
    slot.listening = false;
    slot.version = undefined;
    slot.handle = this.#options.spawn(slot.worker, {
      message: (message) => {
        if (slot.generation === generation && slot.handle) this.#receive(slot, message);
      },
      exit: (code, signal) => {
        if (slot.generation === generation && slot.handle) this.#exited(slot, code, signal);
      },
    });
  }

  #receive(slot: Slot, raw: unknown): void {
    // The channel is shared with Node and libraries; only this protocol's messages are ours.
    if (!isTrellisMessage(raw)) return;
    let message;
    try {
      message = parseToPrimary(raw);
    } catch (error) {
      this.#options.log.warn(
        { worker: slot.worker, code: (error as WorkersError).code, err: error },
        'ignored a malformed message from a worker',
      );
      return;
    }
    const log = this.#options.log;
    switch (message.type) {
      case 'trellis:hello':
        slot.hello = true;
        if (this.#snapshot) this.#sendSnapshot(slot);
        if (this.#stopping) slot.handle?.send({ type: 'trellis:drain' });
        return;
      case 'trellis:applied':
        slot.version = message.version;
        return;
      case 'trellis:rejected':
        slot.lastRejection = { version: message.version, issues: message.issues };
        log.error(
          { worker: slot.worker, version: message.version, issues: message.issues },
          'worker refused the config the primary accepted; it keeps its previous config',
        );
        return;
      case 'trellis:listening':
        slot.listening = true;
        this.#everListened = true;
        log.info({ worker: slot.worker, ...message.addresses }, 'worker listening');
        return;
      case 'trellis:collected':
        if (this.#pending.get(message.id)?.worker === slot.worker)
          this.#settle(message.id, {
            worker: slot.worker,
            status: message.status,
            body: message.body,
          });
        return;
    }
  }

  #exited(slot: Slot, code: number | null, signal: string | null): void {
    const wasListening = slot.listening;
    slot.handle = undefined;
    slot.hello = false;
    slot.listening = false;
    slot.version = undefined;
    slot.lastExit = { code, signal };
    for (const [id, pending] of this.#pending)
      if (pending.worker === slot.worker)
        this.#settle(id, { worker: slot.worker, error: 'exited' });
    const log = this.#options.log;
    if (this.#stopping) {
      if (code !== 0) slot.cleanExit = false;
      log.info({ worker: slot.worker, code, signal }, 'worker exited');
      this.#checkAllExited();
      return;
    }
    if (this.#startFailed) return;
    if (!wasListening && !this.#everListened && code !== 0) {
      this.#startFailed = true;
      this.#options.onStartFailed(
        new WorkersError(
          'TRL_WORKERS_START_FAILED',
          `worker ${slot.worker} exited before listening (code ${code}, signal ${signal})`,
        ),
      );
      return;
    }
    const delayMs = slot.backoff.next(this.#options.clock.now() - slot.startedAt);
    slot.restarts += 1;
    log.error(
      { worker: slot.worker, code, signal, restartInMs: delayMs, restarts: slot.restarts },
      'worker exited unexpectedly; restarting',
    );
    slot.restartTimer = this.#options.clock.setTimer(delayMs, () => {
      if (!this.#stopping) this.#spawn(slot);
    });
  }

  #sendSnapshot(slot: Slot): void {
    const snapshot = this.#snapshot;
    if (snapshot) slot.handle?.send({ type: 'trellis:snapshot', snapshot });
  }

  #settle(id: number, collected: Collected): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.timer.cancel();
    pending.resolve(collected);
  }

  #checkAllExited(): void {
    if (this.#onAllExited && this.#slots.every((s) => !s.handle)) this.#onAllExited();
  }
}
