// One per sidecar process: connects to NATS, keeps the config holder in line with the control
// plane (protocol v1, docs/protocol.md), reports ACK/NACK/heartbeat/goodbye, and persists the last
// good snapshot. Whatever NATS or the control plane do, it never throws into the proxy: failures
// are logged, counted and retried with backoff while the config in force keeps serving.
import type { Snapshot } from '@trellis/config';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeSyncReply,
  encodeMessage,
  inboxPrefix,
  isSubjectToken,
  statusEncoder,
  subjects,
} from '@trellis/mesh-protocol';
import type { ProxyIdentity, ProxyStatus, SyncReply, SyncRequest } from '@trellis/mesh-protocol';
import type { ApplyResult } from '@trellis/sidecar-runtime';
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import { connect } from '@nats-io/transport-node';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import type { BackoffParams } from './backoff.js';
import { sharedBuildCache } from './build-cache.js';
import type { SnapshotBuildCache } from './build-cache.js';
import { ConfigSync } from './config-sync.js';
import type { ConfigOrigin, NackRecord, SyncPhase } from './config-sync.js';
import { zeroCounters } from './counters.js';
import type { DeliveryCounters } from './counters.js';
import { DeliveryError } from './errors.js';
import { consoleLogger } from './logger.js';
import type { DeliveryLogger } from './logger.js';
import { readSnapshotFile, writeSnapshotFile } from './persistence.js';

/** What the client applies snapshots to: a ConfigHolder (any runtime type) satisfies it. */
export interface ConfigTarget {
  apply(snapshot: Snapshot): ApplyResult;
  /** The config already in force, if the target has one (ConfigHolder.current). */
  readonly current?: { readonly snapshot: Snapshot } | undefined;
}

export interface ControlPlaneClientOptions {
  /** NATS server URL(s), e.g. `nats://nats.trellis-system:4222`. */
  readonly servers: string | readonly string[];
  /**
   * This pod's own NATS user (publish its sync/status/telemetry subjects, subscribe config
   * updates and its own inbox prefix).
   */
  readonly user: string;
  readonly password: string;
  readonly identity: ProxyIdentity;
  /** A ConfigHolder, or an apply callback with the same contract. */
  readonly holder: ConfigTarget | ((snapshot: Snapshot) => ApplyResult);
  /** File holding the last good snapshot; omitted: nothing is persisted or loaded. */
  readonly persistPath?: string;
  /** Between heartbeats (default 10 000 ms). */
  readonly heartbeatIntervalMs?: number;
  /** Bound on one sync request (default 10 000 ms: under a reconnect storm a reply can queue for
   *  seconds, and a timed-out request is sent again, adding to the queue). */
  readonly requestTimeoutMs?: number;
  /** Sync and connection retry pacing (default 250 ms doubling to 10 s, equal jitter). */
  readonly backoff?: Partial<BackoffParams>;
  /**
   * Pause between NATS reconnect attempts (default 1 000 ms) plus a random share of
   * `reconnectJitterMs` (default 2 000 ms): after a NATS restart the fleet dials back spread over
   * 3 s instead of all at once, so the server authenticates them within its auth timeout.
   */
  readonly reconnectWaitMs?: number;
  readonly reconnectJitterMs?: number;
  /**
   * After a reconnect, how long to wait for the control plane's head announcement before
   * sending a SyncRequest (default 1 200 ms; the writer repeats it every second for 12 s after
   * its own reconnect, docs/protocol.md).
   */
  readonly headWaitMs?: number;
  /** Client pings to detect a dead connection (default 20 000 ms; 3 missed pongs reconnect). */
  readonly pingIntervalMs?: number;
  /** Largest message accepted (default DEFAULT_MAX_MESSAGE_BYTES, 8 MiB). */
  readonly maxMessageBytes?: number;
  /** Updates held back during a sync (default 64). */
  readonly maxQueuedUpdates?: number;
  /** Bound on draining the connection in close() (default 5 000 ms). */
  readonly closeTimeoutMs?: number;
  /** Timers and elapsed time (default systemClock). */
  readonly clock?: Clock;
  /** Wall-clock ms since the epoch for timestamps (default Date.now). */
  readonly wallClock?: () => number;
  /** [0, 1) for backoff jitter (default Math.random). */
  readonly random?: () => number;
  readonly log?: DeliveryLogger;
  /** Snapshot build memo (default: one shared by every client in the process). */
  readonly cache?: SnapshotBuildCache;
}

/** What the admin endpoint shows. */
export interface DeliveryState {
  readonly connected: boolean;
  readonly sync: SyncPhase;
  /** Version and hash in force (0 and '' when none). */
  readonly version: number;
  readonly hash: string;
  readonly origin: ConfigOrigin;
  /** ISO times: last sync that got an answer, and when the config in force was applied. */
  readonly lastSyncAt: string | undefined;
  /** ISO time the control plane last confirmed the version in force (sync answer or head). */
  readonly confirmedAt: string | undefined;
  readonly appliedAt: string | undefined;
  readonly lastNack: NackRecord | undefined;
  readonly queuedUpdates: number;
  readonly counters: Readonly<DeliveryCounters>;
}

const DEFAULTS = {
  heartbeatIntervalMs: 10_000,
  requestTimeoutMs: 10_000,
  reconnectWaitMs: 1_000,
  reconnectJitterMs: 2_000,
  headWaitMs: 1_200,
  pingIntervalMs: 20_000,
  maxQueuedUpdates: 64,
  closeTimeoutMs: 5_000,
} as const;

export class ControlPlaneClient {
  readonly #o: ControlPlaneClientOptions;
  readonly #clock: Clock;
  readonly #wallClock: () => number;
  readonly #random: () => number;
  readonly #log: DeliveryLogger;
  readonly #cache: SnapshotBuildCache;
  readonly #backoff: BackoffParams;
  readonly #maxBytes: number;
  readonly #counters = zeroCounters();
  readonly #sync: ConfigSync;
  readonly #syncSubject: string;
  readonly #statusSubject: string;
  readonly #telemetrySubject: string;
  readonly #encodeStatus: (status: ProxyStatus) => Uint8Array;
  #nc: NatsConnection | undefined;
  #connected = false;
  #everConnected = false;
  #connectAttempt = 0;
  #connectTimer: Timer | undefined;
  #heartbeatTimer: Timer | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  #persistNext: Snapshot | undefined;
  #persisting: Promise<void> | undefined;

  constructor(options: ControlPlaneClientOptions) {
    validateOptions(options);
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#log = options.log ?? consoleLogger;
    this.#cache = options.cache ?? sharedBuildCache;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const { namespace, pod } = options.identity;
    this.#syncSubject = subjects.sync(namespace, pod);
    this.#statusSubject = subjects.status(namespace, pod);
    this.#telemetrySubject = subjects.telemetry(namespace, pod);
    this.#encodeStatus = statusEncoder(options.identity);
    const holder = options.holder;
    const apply =
      typeof holder === 'function' ? holder : (snapshot: Snapshot) => holder.apply(snapshot);
    this.#sync = new ConfigSync({
      identity: options.identity,
      apply,
      initial: typeof holder === 'function' ? undefined : holder.current?.snapshot,
      transport: {
        request: (request) => this.#request(request),
        publishStatus: (status) => this.#publishStatus(status),
      },
      clock: this.#clock,
      wallClock: this.#wallClock,
      random: this.#random,
      backoff: this.#backoff,
      log: this.#log,
      cache: this.#cache,
      counters: this.#counters,
      maxQueuedUpdates: options.maxQueuedUpdates ?? DEFAULTS.maxQueuedUpdates,
      afterPendingIo: (fn) => setImmediate(fn),
      onAccepted: (snapshot) => this.#persist(snapshot),
    });
  }

  /** The snapshot in force, as far as this client applied it. */
  get inForce(): Snapshot | undefined {
    return this.#sync.inForce;
  }

  /** state().connected without building the whole state: for probes that poll thousands of clients. */
  get connected(): boolean {
    return this.#connected;
  }

  /** state().confirmedAt as wall-clock ms, without building the whole state. */
  get confirmedAt(): number | undefined {
    return this.#sync.confirmedAt;
  }

  state(): DeliveryState {
    const inForce = this.#sync.inForce;
    const iso = (ms: number | undefined): string | undefined =>
      ms === undefined ? undefined : new Date(ms).toISOString();
    return {
      connected: this.#connected,
      sync: this.#sync.phase,
      version: inForce?.version ?? 0,
      hash: inForce?.hash ?? '',
      origin: this.#sync.origin,
      lastSyncAt: iso(this.#sync.lastSyncAt),
      confirmedAt: iso(this.#sync.confirmedAt),
      appliedAt: iso(this.#sync.appliedAt),
      lastNack: this.#sync.lastNack,
      queuedUpdates: this.#sync.queued,
      counters: { ...this.#counters },
    };
  }

  /**
   * Loads the persisted snapshot (if any) into the holder, then starts connecting in the
   * background and resolves: the proxy can serve its last config while NATS is still away.
   */
  async start(): Promise<void> {
    if (this.#started) {
      throw new DeliveryError(
        'TRL_DELIVERY_ALREADY_STARTED',
        'ControlPlaneClient.start() may be called once',
      );
    }
    this.#started = true;
    if (this.#o.persistPath !== undefined) await this.#loadPersisted(this.#o.persistPath);
    if (this.#closing) return;
    this.#scheduleHeartbeat();
    void this.#connect();
  }

  /**
   * Publishes an encoded telemetry summary on this sidecar's telemetry subject. Returns false
   * without publishing while disconnected: nats.js would buffer it and deliver it stale.
   * Never throws.
   */
  publishTelemetry(payload: Uint8Array): boolean {
    const nc = this.#nc;
    if (!nc || !this.#connected || nc.isClosed() || nc.isDraining()) return false;
    try {
      nc.publish(this.#telemetrySubject, payload);
      return true;
    } catch (error) {
      this.#log.warn(
        {
          code: 'TRL_DELIVERY_NATS_ERROR',
          subject: this.#telemetrySubject,
          reason: (error as Error).message,
        },
        'telemetry not published',
      );
      return false;
    }
  }

  /** Says goodbye, drains the connection, stops timers and waits for a pending persist write. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  // === connection ===

  async #connect(): Promise<void> {
    this.#connectTimer = undefined;
    if (this.#closing) return;
    const identity = this.#o.identity;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: typeof this.#o.servers === 'string' ? this.#o.servers : [...this.#o.servers],
        user: this.#o.user,
        pass: this.#o.password,
        name: `trellis-sidecar ${identity.namespace}/${identity.pod}`,
        // Replies come under this pod's own prefix, the only inbox its NATS user may subscribe to.
        inboxPrefix: inboxPrefix(identity.namespace, identity.pod),
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.#o.reconnectWaitMs ?? DEFAULTS.reconnectWaitMs,
        reconnectJitter: this.#o.reconnectJitterMs ?? DEFAULTS.reconnectJitterMs,
        pingInterval: this.#o.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
        maxPingOut: 3,
        // nats.js otherwise builds an Error per request to capture its stack; the sidecar's
        // errors name their cause, and a reconnect storm is thousands of requests.
        noAsyncTraces: true,
      });
    } catch (error) {
      if (this.#closing) return;
      const delay = backoffDelay(this.#connectAttempt++, this.#backoff, this.#random);
      this.#log.warn(
        {
          code: 'TRL_DELIVERY_CONNECT_FAILED',
          attempt: this.#connectAttempt,
          retryInMs: Math.round(delay),
          reason: (error as Error).message,
        },
        'cannot connect to NATS; serving the config in force and retrying',
      );
      this.#connectTimer = this.#clock.setTimer(delay, () => void this.#connect());
      return;
    }
    if (this.#closing) {
      await nc.close().catch(() => undefined);
      return;
    }
    this.#connectAttempt = 0;
    this.#nc = nc;
    this.#connected = true;
    this.#log.info({ server: nc.getServer() }, 'connected to NATS');
    void this.#watch(nc);
    // Subscribe before asking for the state of the world: an update published while the sync is
    // in flight is then queued, not missed.
    nc.subscribe(subjects.configUpdates, {
      callback: (error, msg) => this.#onUpdateMessage(error, msg),
    });
    this.#sync.requestSync(this.#everConnected ? 'reconnect' : 'connect');
    this.#everConnected = true;
  }

  async #watch(nc: NatsConnection): Promise<void> {
    void nc.closed().then((error) => {
      if (this.#nc === nc) {
        this.#nc = undefined;
        this.#connected = false;
      }
      if (this.#closing) return;
      // nats.js gives up only in rare cases (e.g. the same auth error twice); dial afresh.
      const delay = backoffDelay(this.#connectAttempt++, this.#backoff, this.#random);
      this.#log.warn(
        {
          code: 'TRL_DELIVERY_CONNECTION_CLOSED',
          reason: error?.message ?? 'closed',
          retryInMs: Math.round(delay),
        },
        'NATS connection closed; dialling again',
      );
      this.#connectTimer = this.#clock.setTimer(delay, () => void this.#connect());
    });
    try {
      for await (const status of nc.status()) {
        switch (status.type) {
          case 'disconnect':
            this.#connected = false;
            this.#log.warn(
              { server: status.server },
              'disconnected from NATS; serving the config in force',
            );
            break;
          case 'reconnect':
            this.#connected = true;
            this.#counters.reconnects++;
            this.#log.info({ server: status.server }, 'reconnected to NATS; resyncing');
            // Updates published while disconnected are gone: learn the newest version from the
            // control plane's head announcement, or ask for the state of the world.
            this.#sync.awaitHead(this.#o.headWaitMs ?? DEFAULTS.headWaitMs);
            break;
          case 'error':
            this.#log.warn(
              { code: 'TRL_DELIVERY_NATS_ERROR', reason: status.error.message },
              'NATS reported an error',
            );
            break;
          default:
            break;
        }
      }
    } catch (error) {
      this.#log.error(
        { code: 'TRL_DELIVERY_NATS_ERROR', reason: (error as Error).message },
        'NATS status stream failed',
      );
    }
  }

  #onUpdateMessage(error: Error | null, msg: Msg): void {
    try {
      if (error) {
        this.#log.error(
          {
            code: 'TRL_DELIVERY_NATS_ERROR',
            subject: subjects.configUpdates,
            reason: error.message,
          },
          'config update subscription failed',
        );
        return;
      }
      let update;
      try {
        update = this.#cache.decodeUpdate(msg.data, this.#maxBytes);
      } catch (decodeError) {
        this.#sync.badMessage(decodeError, 'config update', msg.subject);
        return;
      }
      this.#sync.onUpdate(update);
    } catch (unexpected) {
      // Nothing the config target or a hook throws may unwind into nats.js's dispatch loop.
      this.#log.error({ reason: (unexpected as Error).message }, 'config update handling failed');
    }
  }

  async #request(request: SyncRequest): Promise<SyncReply> {
    const nc = this.#nc;
    // While disconnected nats.js would buffer the request until it times out; fail now instead:
    // the reconnect starts a sync anyway.
    if (!nc || !this.#connected)
      throw new DeliveryError('TRL_DELIVERY_NOT_CONNECTED', 'not connected to NATS');
    const reply = await nc.request(this.#syncSubject, encodeMessage(request), {
      timeout: this.#o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    });
    return decodeSyncReply(reply.data, this.#maxBytes);
  }

  #publishStatus(status: ProxyStatus): void {
    const nc = this.#nc;
    if (!nc || nc.isClosed() || nc.isDraining()) return;
    try {
      nc.publish(this.#statusSubject, this.#encodeStatus(status));
    } catch (error) {
      this.#log.warn(
        {
          code: 'TRL_DELIVERY_NATS_ERROR',
          subject: this.#statusSubject,
          reason: (error as Error).message,
        },
        'status not published',
      );
    }
  }

  #scheduleHeartbeat(): void {
    const interval = this.#o.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs;
    this.#heartbeatTimer = this.#clock.setTimer(interval, () => {
      if (this.#closing) return;
      // A heartbeat buffered during an outage would arrive late and say nothing: skip it.
      if (this.#connected) this.#sync.announce('heartbeat');
      this.#scheduleHeartbeat();
    });
  }

  async #close(): Promise<void> {
    this.#sync.stop();
    this.#heartbeatTimer?.cancel();
    this.#connectTimer?.cancel();
    const nc = this.#nc;
    if (nc && !nc.isClosed()) {
      if (this.#connected) {
        this.#sync.announce('goodbye');
        await this.#drain(nc);
      } else {
        await nc.close().catch(() => undefined);
      }
    }
    this.#connected = false;
    await this.#persisting;
  }

  async #drain(nc: NatsConnection): Promise<void> {
    let timer: Timer | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = this.#clock.setTimer(this.#o.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs, () =>
        resolve('timeout'),
      );
    });
    try {
      const outcome = await Promise.race([nc.drain().then(() => 'drained' as const), deadline]);
      if (outcome === 'timeout') await nc.close();
    } catch {
      await nc.close().catch(() => undefined);
    } finally {
      timer?.cancel();
    }
  }

  // === persistence ===

  async #loadPersisted(path: string): Promise<void> {
    const ignore = (reason: string): void =>
      this.#log.warn(
        { code: 'TRL_DELIVERY_PERSISTED_INVALID', path, reason },
        'ignored the persisted snapshot',
      );
    try {
      const read = await readSnapshotFile(path, this.#maxBytes);
      if (read.kind === 'missing') {
        this.#log.info({ path }, 'no persisted snapshot; waiting for the control plane');
        return;
      }
      if (read.kind === 'invalid') return ignore(read.reason);
      const built = this.#cache.buildFull(read.snapshot);
      if (built.kind === 'invalid') {
        return ignore(
          `invalid snapshot ${read.snapshot.version}: ${built.issues.map((i) => i.message).join('; ')}`,
        );
      }
      const result = this.#sync.adopt(built.snapshot);
      if (!result.accepted) {
        return ignore(
          `refused by the config holder: ${result.issues.map((i) => i.message).join('; ')}`,
        );
      }
      this.#log.info(
        { path, version: built.snapshot.version, savedAt: read.savedAt },
        'started from the persisted snapshot',
      );
    } catch (error) {
      ignore(`load failed: ${(error as Error).message}`);
    }
  }

  #persist(snapshot: Snapshot): void {
    if (this.#o.persistPath === undefined) return;
    // Versions accepted faster than the disk writes collapse into the newest one.
    this.#persistNext = snapshot;
    this.#persisting ??= this.#writePending(this.#o.persistPath);
  }

  async #writePending(path: string): Promise<void> {
    try {
      for (let next = this.#persistNext; next !== undefined; next = this.#persistNext) {
        this.#persistNext = undefined;
        try {
          await writeSnapshotFile(path, next, new Date(this.#wallClock()));
          this.#counters.persistWrites++;
        } catch (error) {
          this.#counters.persistFailures++;
          this.#log.warn(
            {
              code: 'TRL_DELIVERY_PERSIST_FAILED',
              path,
              version: next.version,
              reason: (error as Error).message,
            },
            'could not persist the snapshot; the config in force is unaffected',
          );
        }
      }
    } finally {
      this.#persisting = undefined;
    }
  }
}

function validateOptions(options: ControlPlaneClientOptions): void {
  const { identity } = options;
  const bad = (what: string): never => {
    throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', what);
  };
  if (!isSubjectToken(identity.namespace))
    bad(`identity.namespace must be a DNS label (got ${JSON.stringify(identity.namespace)})`);
  if (!isSubjectToken(identity.pod))
    bad(`identity.pod must be a DNS label (got ${JSON.stringify(identity.pod)})`);
  const positive: [string, number | undefined][] = [
    ['heartbeatIntervalMs', options.heartbeatIntervalMs],
    ['headWaitMs', options.headWaitMs],
    ['requestTimeoutMs', options.requestTimeoutMs],
    ['maxMessageBytes', options.maxMessageBytes],
    ['maxQueuedUpdates', options.maxQueuedUpdates],
    ['closeTimeoutMs', options.closeTimeoutMs],
    ['backoff.initialMs', options.backoff?.initialMs],
    ['backoff.maxMs', options.backoff?.maxMs],
  ];
  for (const [name, value] of positive) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0))
      bad(`${name} must be a positive number (got ${value})`);
  }
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (servers.length === 0) bad('servers must name at least one NATS server');
}
