// The control plane's side of protocol v1 (docs/protocol.md), put together: every replica loads
// and follows the stored config, answers sync requests and tracks sidecar status; the one
// holding the writer lease turns what the compile pipeline offers into the next stored version
// and announces it. Writing is a reconciliation, not a queue: the writer stores "the newest
// valid content" as `stored version + 1` whenever it differs from what is stored, so taking
// over, reconnecting or losing a compare-and-set all end in the same step and nothing stale or
// intermediate is ever published.
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Snapshot } from '@trellis/config';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  KV_CONFIG_BUCKET,
  KV_LEADER_BUCKET,
  encodeMessage,
  subjects,
} from '@trellis/mesh-protocol';
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import type { Subscription as RxSubscription } from 'rxjs';
import { ConfigStore } from './config-store.js';
import { encodeConfigUpdate, resyncMarker } from './config-update.js';
import { DeliveryError } from './errors.js';
import { DEFAULT_SYNC_READ_BOUND_MS, FollowerAnswers } from './follower-answers.js';
import { openBucket } from './kv-buckets.js';
import { kvLeaseRegister } from './kv-lease-register.js';
import { DEFAULT_LEASE_MS, LeaderElection } from './leader-election.js';
import type { DeliveryLogger } from './logger.js';
import { DeliveryMetrics } from './metrics.js';
import { serveSyncRequests } from './sync-responder.js';
import { listenToStatus } from './status-listener.js';
import { SyncTracker } from './sync-tracker.js';

export const DEFAULT_KV_HISTORY = 3;
/** After a NATS reconnect the writer announces the head this often … */
export const DEFAULT_HEAD_REPEAT_MS = 1_000;
/**
 * … for this long: the sidecars dial back within 1–3 s and wait 1.2 s for it (docs/protocol.md),
 * but a fleet of 10,000 on a loaded node was measured coming back up to 9 s after a restart, and
 * those whose wait ends after the window each send a SyncRequest. Each announcement reaches
 * every connected sidecar, so they are kept few.
 */
export const DEFAULT_HEAD_WINDOW_MS = 12_000;

export interface ControlPlaneDeliveryOptions {
  /** Unique per replica (pod name); the lease holder's name. */
  readonly replicaId: string;
  /** Lines do not repeat the replica id: bind it (the app logs through `log.child({ replica })`). */
  readonly log: DeliveryLogger;
  /** Writer lease time (default 5 s). */
  readonly leaseMs?: number;
  /** Behind the newest version this long makes a sidecar STALE (default 5 s). */
  readonly staleAfterMs?: number;
  /** The sidecars' heartbeat interval (default 10 s); 3 missed make one DISCONNECTED. */
  readonly heartbeatMs?: number;
  /** Replicas of both KV buckets when created (default 1; 3 for a 3-node cluster). */
  readonly kvReplicas?: number;
  /** Values kept per key in `trellis-config` (1–5, default 3). */
  readonly kvHistory?: number;
  /** Largest message sent or accepted (default 8 MiB, lowered to the server's max_payload). */
  readonly maxMessageBytes?: number;
  /** Safety-net poll of the config key behind its watch (default 5 s). */
  readonly storePollMs?: number;
  /** Timeout of config store operations (default 5 s). */
  readonly storeTimeoutMs?: number;
  /** Head announcements after a NATS reconnect: every `headRepeatMs` (default 1 s) … */
  readonly headRepeatMs?: number;
  /** … during `headWindowMs` (default 12 s). */
  readonly headWindowMs?: number;
  /** A follower's store read before a sync answer, at most (default 500 ms: FollowerAnswers). */
  readonly syncReadBoundMs?: number;
  readonly clock?: Clock;
  /** For `publishedAt` and the lease's informational `expiresAt` (default Date.now). */
  readonly wallClock?: () => number;
  /** Default: a fresh registry without process metrics. */
  readonly metrics?: DeliveryMetrics;
}

interface Running {
  readonly nc: NatsConnection;
  readonly store: ConfigStore;
  readonly election: LeaderElection;
  readonly answers: FollowerAnswers;
  readonly maxBytes: number;
  readonly subscriptions: Subscription[];
  readonly rx: RxSubscription[];
}

export class ControlPlaneDelivery {
  readonly tracker: SyncTracker;
  readonly metrics: DeliveryMetrics;
  readonly #options: ControlPlaneDeliveryOptions;
  readonly #log: DeliveryLogger;
  readonly #clock: Clock;
  readonly #wallClock: () => number;
  readonly #leaseMs: number;
  #running: Running | undefined;
  #desired: Snapshot | undefined;
  /** Newest version this replica published while writer (0: announce the stored one again). */
  #announced = 0;
  #connected = true;
  #refreshBeforeWrite = true;
  #refusedHash: string | undefined;
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #retryTimer: Timer | undefined;
  #headTimer: Timer | undefined;
  /** A reconnect happened and no head window has yet run to its end with this replica writing. */
  #headOwed = false;
  /**
   * The highest version a sidecar announced above the stored one: the store was lost or reset
   * (its versions restarted) while sidecars kept theirs. The next version is stored above it,
   * even for unchanged content, because sidecars never take a version below the one they hold.
   */
  #versionFloor = 0;
  #closed = false;

  constructor(options: ControlPlaneDeliveryOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.tracker = new SyncTracker({
      clock: this.#clock,
      staleAfterMs: options.staleAfterMs,
      heartbeatMs: options.heartbeatMs,
    });
    this.metrics = options.metrics ?? new DeliveryMetrics();
    this.metrics.bind({
      sidecarStates: () => this.tracker.counts(),
      isWriter: () => this.isWriter,
      storedVersion: () => this.storedVersion,
    });
  }

  /** Newest stored version this replica knows (0: none); seeds the compile pipeline's lastVersion. */
  get storedVersion(): number {
    return this.#running?.store.latest?.snapshot.version ?? 0;
  }

  /** The config in force in the mesh: the newest stored snapshot. */
  get latest(): Snapshot | undefined {
    return this.#running?.store.latest?.snapshot;
  }

  get #headWindowMs(): number {
    return this.#options.headWindowMs ?? DEFAULT_HEAD_WINDOW_MS;
  }

  get isWriter(): boolean {
    return this.#running?.election.isWriter ?? false;
  }

  /**
   * Opens (creating when missing) the KV buckets, loads the stored snapshot, starts serving sync
   * requests and status, and joins the writer election.
   */
  async start(nc: NatsConnection): Promise<void> {
    if (this.#running || this.#closed) {
      throw new DeliveryError('TRL_DELIVERY_STATE', 'start() may be called once, before close()');
    }
    const log = this.#log;
    const replicas = this.#options.kvReplicas ?? 1;
    const maxBytes = Math.min(
      this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      nc.info?.max_payload ?? Number.POSITIVE_INFINITY,
    );
    const js = jetstream(nc, { timeout: this.#options.storeTimeoutMs ?? 5_000 });
    // Lease operations get a short timeout so a hung request never outlives a renewal period.
    const leaseJs = jetstream(nc, { timeout: Math.min(5_000, Math.max(500, this.#leaseMs / 2)) });
    const leaseKv = await openBucket(js, KV_LEADER_BUCKET, { history: 1, replicas }, leaseJs);
    const configKv = await openBucket(js, KV_CONFIG_BUCKET, {
      history: this.#options.kvHistory ?? DEFAULT_KV_HISTORY,
      replicas,
    });
    const store = new ConfigStore(configKv, {
      clock: this.#clock,
      pollMs: this.#options.storePollMs,
      log,
    });
    const election = new LeaderElection({
      register: kvLeaseRegister(leaseKv),
      replicaId: this.#options.replicaId,
      leaseMs: this.#leaseMs,
      clock: this.#clock,
      wallClock: this.#wallClock,
      onError: (error) => log.warn({ err: error }, 'writer lease round failed'),
    });
    const answers = new FollowerAnswers({
      store: {
        fresh: () => store.freshLatest().then((stored) => stored?.snapshot),
        known: () => store.latest?.snapshot,
        read: () => store.refresh().then((stored) => stored?.snapshot),
      },
      boundMs: this.#options.syncReadBoundMs ?? DEFAULT_SYNC_READ_BOUND_MS,
      retryMs: this.#leaseMs / 3,
      clock: this.#clock,
      onNewerStored: (stored, answered) => {
        // A writer announces what it stores itself (and a new writer the stored version again).
        if (!this.#connected || election.isWriter) return;
        log.warn(
          { answered, stored: stored.version },
          'sync answers gave an older version than stored; announcing the head',
        );
        nc.publish(
          subjects.configUpdates,
          encodeMessage(resyncMarker(stored, new Date(this.#wallClock()))),
        );
        this.metrics.pushes.inc({ kind: 'head' });
      },
      onReadError: (error) =>
        log.warn({ err: error }, 'config read verifying sync answers failed; retrying'),
    });
    const running: Running = {
      nc,
      store,
      election,
      answers,
      maxBytes,
      subscriptions: [],
      rx: [],
    };
    this.#running = running;

    const loaded = await store.start();
    if (loaded) this.tracker.setLatest(loaded.snapshot.version, loaded.snapshot.hash);
    log.info(
      { version: loaded?.snapshot.version ?? null, hash: loaded?.snapshot.hash ?? null },
      loaded ? 'stored config loaded' : 'no stored config yet',
    );
    running.rx.push(
      store.changes.subscribe(({ latest }) => {
        this.tracker.setLatest(latest.snapshot.version, latest.snapshot.hash);
        this.#reconcile();
      }),
      election.writerChanges.subscribe((writer) => {
        log.info({ writer }, writer ? 'this replica is the writer' : 'this replica follows');
        if (writer) {
          // A new writer announces the stored version once more: the old one may have stored
          // it and died before publishing.
          this.#announced = 0;
          this.#refreshBeforeWrite = true;
          // A writer that lost its lease during the outage announces the head when it has it
          // again: the sidecars dialling back wait for that.
          if (this.#headOwed) this.#announceHeadFor(running, this.#headWindowMs);
        }
        this.#reconcile();
      }),
    );
    const tracked = { tracker: this.tracker, metrics: this.metrics, log, maxBytes };
    running.subscriptions.push(
      serveSyncRequests(nc, {
        ...tracked,
        onVersionSeen: (version) => this.#sawVersion(version),
        // The writer stored the newest version itself; a follower's watch may lag behind it.
        // A writer whose lease lapsed (no other holder seen) answers from what it stored, verified
        // later; other followers read first (FollowerAnswers).
        latest: () =>
          election.isWriter
            ? store.latest?.snapshot
            : election.isLastWriter
              ? (answers.known() ?? answers.answer())
              : answers.answer(),
      }),
      listenToStatus(nc, tracked),
    );
    void this.#followConnection(running);
    election.start();
  }

  /** The newest valid content from the compile pipeline (undefined: none yet). */
  offer(snapshot: Snapshot | undefined): void {
    if (!snapshot || snapshot.hash === this.#desired?.hash) return;
    this.#desired = snapshot;
    this.#reconcile();
  }

  /** Steps down (releasing the lease), stops serving and following; the caller drains the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#retryTimer?.cancel();
    this.#headTimer?.cancel();
    const running = this.#running;
    if (running) {
      await running.election.stop();
      await this.#reconciling;
      await running.answers.close();
      for (const s of running.subscriptions) s.unsubscribe();
      for (const s of running.rx) s.unsubscribe();
      await running.store.close();
    }
    this.tracker.close();
  }

  async #followConnection(running: Running): Promise<void> {
    for await (const status of running.nc.status()) {
      if (this.#closed) return;
      if (status.type === 'disconnect') {
        this.#connected = false;
        this.#log.warn({ server: status.server }, 'NATS disconnected; sidecars keep their config');
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#log.info({ server: status.server }, 'NATS reconnected');
        // The lease may have lapsed meanwhile: check it before anything is written or published.
        this.#refreshBeforeWrite = true;
        void running.election.tick().then(() => this.#reconcile());
        this.#headOwed = true;
        this.#announceHeadFor(running, this.#headWindowMs);
        running.store
          .refresh()
          .catch((error: unknown) =>
            this.#log.warn({ err: error }, 'config refresh after reconnect failed'),
          );
      }
    }
  }

  /** Runs the reconciliation, one at a time; a request while one runs makes it run once more. */
  #reconcile(): void {
    if (this.#closed) return;
    if (this.#reconciling) {
      this.#reconcileAgain = true;
      return;
    }
    this.#reconciling = this.#writeAndAnnounce().finally(() => {
      this.#reconciling = undefined;
      if (this.#reconcileAgain) {
        this.#reconcileAgain = false;
        this.#reconcile();
      }
    });
  }

  async #writeAndAnnounce(): Promise<void> {
    const running = this.#running;
    if (!running || !running.election.isWriter) return;
    try {
      if (this.#refreshBeforeWrite) {
        await running.store.refresh();
        this.#refreshBeforeWrite = false;
      }
      let settled = false;
      for (let attempt = 0; attempt < 3 && !settled; attempt++)
        settled = await this.#storeDesired(running);
      if (!settled) this.#retrySoon();
      this.#announce(running);
    } catch (error) {
      this.metrics.storeWrites.inc({ outcome: 'error' });
      this.#log.error({ err: error }, 'storing the config failed; retrying');
      this.#refreshBeforeWrite = true;
      this.#retrySoon();
    }
  }

  #sawVersion(version: number): void {
    if (version <= this.#versionFloor || version <= this.storedVersion) return;
    this.#versionFloor = version;
    this.#log.warn(
      { code: 'TRL_DELIVERY_VERSION_AHEAD', announced: version, stored: this.storedVersion },
      'a sidecar holds a version above the stored one (the store was reset); the next version continues above it',
    );
    this.#reconcile();
  }

  /** Stores the desired content as the next version when it differs; false after a lost race. */
  async #storeDesired(running: Running): Promise<boolean> {
    const desired = this.#desired;
    const latest = running.store.latest;
    const stored = latest?.snapshot.version ?? 0;
    const behindMesh = this.#versionFloor > stored;
    if (
      !desired ||
      (desired.hash === latest?.snapshot.hash && !behindMesh) ||
      !running.election.isWriter
    )
      return true;
    const next: Snapshot = {
      version: Math.max(stored, this.#versionFloor) + 1,
      hash: desired.hash,
      resources: desired.resources,
    };
    // The largest message a version travels in is the full sync reply.
    const bytes = encodeMessage({ kind: 'full', snapshot: next }).byteLength;
    if (bytes > running.maxBytes) {
      if (this.#refusedHash !== desired.hash) {
        this.#refusedHash = desired.hash;
        this.metrics.storeWrites.inc({ outcome: 'too_large' });
        this.#log.error(
          {
            code: 'TRL_DELIVERY_TOO_LARGE',
            bytes,
            maxBytes: running.maxBytes,
            keptVersion: latest?.snapshot.version ?? null,
          },
          'compiled config is too large for one message; the stored version stays in force',
        );
      }
      return true;
    }
    const outcome = await running.store.write(next);
    if (outcome.kind === 'conflict') {
      this.metrics.storeWrites.inc({ outcome: 'conflict' });
      this.#log.warn(
        { tried: next.version, stored: outcome.latest?.snapshot.version ?? null },
        'another writer stored first; re-read the store',
      );
      return false;
    }
    this.metrics.storeWrites.inc({ outcome: 'written' });
    this.#log.info(
      {
        version: next.version,
        hash: next.hash,
        resources: next.resources.length,
        revision: outcome.stored.revision,
      },
      'config version stored',
    );
    return true;
  }

  #announce(running: Running): void {
    const latest = running.store.latest?.snapshot;
    // Checked right before publishing: a writer that lost its lease publishes nothing.
    if (
      !latest ||
      latest.version <= this.#announced ||
      !this.#connected ||
      !running.election.isWriter
    )
      return;
    const encoded = encodeConfigUpdate(
      running.store.previous,
      latest,
      new Date(this.#wallClock()),
      running.maxBytes,
    );
    running.nc.publish(subjects.configUpdates, encoded.bytes);
    this.#announced = latest.version;
    this.metrics.pushes.inc({ kind: encoded.kind });
    this.#log.info(
      {
        version: latest.version,
        baseVersion: encoded.update.baseVersion,
        kind: encoded.kind,
        bytes: encoded.bytes.byteLength,
      },
      'config update published',
    );
  }

  /**
   * Re-announces the newest stored version (a resync marker: sidecars on it are confirmed,
   * those behind see a gap and sync) now and every `headRepeatMs` for `windowMs`, so that
   * sidecars dialling back after an outage learn the head from one broadcast instead of each
   * sending a SyncRequest. Only the writer announces, or the last writer whose lease lapsed
   * without another holder seen (a stalled KV; its head is verified by a later read), and only
   * while connected; a replica that (re)gains the lease while one is owed runs the window again.
   */
  #announceHeadFor(running: Running, windowMs: number): void {
    this.#headTimer?.cancel();
    const repeatMs = this.#options.headRepeatMs ?? DEFAULT_HEAD_REPEAT_MS;
    const latest = running.store.latest?.snapshot;
    const { election } = running;
    if (!this.#closed && latest && this.#connected && election.isLastWriter) {
      running.nc.publish(
        subjects.configUpdates,
        encodeMessage(resyncMarker(latest, new Date(this.#wallClock()))),
      );
      this.metrics.pushes.inc({ kind: 'head' });
      // A writer whose lease lapsed in a stalled KV keeps announcing what it stored; another
      // replica may have stored a newer version meanwhile, so a read checks it later.
      if (!election.isWriter) running.answers.unverified(latest.version);
    }
    if (this.#closed) return;
    if (windowMs <= repeatMs) {
      if (running.election.isWriter) this.#headOwed = false;
      return;
    }
    this.#headTimer = this.#clock.setTimer(repeatMs, () =>
      this.#announceHeadFor(running, windowMs - repeatMs),
    );
  }

  #retrySoon(): void {
    this.#retryTimer?.cancel();
    this.#retryTimer = this.#clock.setTimer(this.#leaseMs / 3, () => this.#reconcile());
  }
}
