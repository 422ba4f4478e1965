// The sidecar's side of protocol v1 as a state machine, without NATS: which version is in force,
// when to ask for the state of the world, what to do with each increment, and what to report.
// ControlPlaneClient feeds it decoded messages and lends it a transport; tests drive it directly
// on a FakeClock.
//
// Ordering: at most one sync is in flight. Updates that arrive meanwhile are queued and applied
// after its reply, in arrival order (an update the reply already covers is then simply stale).
// While a failed sync waits for its retry, updates apply as usual: one that follows the version
// in force is good news; one that does not joins the queue for the retry. Anything that asks for
// a sync while one is in flight marks "again", and the machine syncs once more after a backoff
// step; it does the same when, after a sync and its queue, a newer version is known than the one
// in force or refused. So no update is lost, none is applied out of order, nothing loops tightly.
//
// After a reconnect the machine first waits a short while for the control plane's head
// announcement (docs/protocol.md, Outages): one broadcast that tells the whole fleet the newest
// version. A sidecar on that version is confirmed without a SyncRequest; one behind sees a gap
// and syncs; one that hears nothing syncs when the wait ends. So a NATS restart costs one sync
// per sidecar that missed something, not one per sidecar.
import { formatIssue } from '@trellis/config';
import type { ConfigIssue, Snapshot } from '@trellis/config';
import { ProtocolError, subjects } from '@trellis/mesh-protocol';
import type {
  ConfigUpdate,
  ProxyIdentity,
  ProxyStatus,
  ProxyStatusKind,
  SyncReply,
  SyncRequest,
  WireSnapshot,
} from '@trellis/mesh-protocol';
import type { ApplyResult } from '@trellis/sidecar-runtime';
import type { Clock, Timer } from '@trellis/time';
import { backoffDelay } from './backoff.js';
import type { BackoffParams } from './backoff.js';
import type { SnapshotBuildCache } from './build-cache.js';
import type { DeliveryCounters } from './counters.js';
import { issuesOf } from './issues.js';
import type { DeliveryLogger } from './logger.js';

/** How the machine talks to the control plane. */
export interface SyncTransport {
  /** Sends a SyncRequest and resolves with the decoded reply; rejects on any failure. */
  request(request: SyncRequest): Promise<SyncReply>;
  /** Publishes on the sidecar's own status subject; never throws. */
  publishStatus(status: ProxyStatus): void;
}

/** What started a sync cycle. */
export type SyncReason = 'connect' | 'reconnect' | 'gap' | 'hash-mismatch';

/** `requesting`: a SyncRequest is in flight; `backoff`: waiting to retry one. */
export type SyncPhase = 'idle' | 'requesting' | 'backoff';

/** Where the config in force came from. */
export type ConfigOrigin = 'none' | 'initial' | 'persisted' | 'sync' | 'update';

export interface NackRecord {
  readonly version: number;
  readonly issues: readonly ConfigIssue[];
  /** ISO time of the NACK. */
  readonly at: string;
}

export interface ConfigSyncOptions {
  readonly identity: ProxyIdentity;
  /** Builds and swaps in a snapshot (ConfigHolder.apply); may throw, which counts as a refusal. */
  readonly apply: (snapshot: Snapshot) => ApplyResult;
  /** The snapshot already in force when the machine starts (e.g. the holder's current one). */
  readonly initial?: Snapshot;
  readonly transport: SyncTransport;
  readonly clock: Clock;
  /** Wall-clock ms since the epoch, for the `at` of statuses and the admin view. */
  readonly wallClock: () => number;
  readonly random: () => number;
  readonly backoff: BackoffParams;
  readonly log: DeliveryLogger;
  readonly cache: SnapshotBuildCache;
  readonly counters: DeliveryCounters;
  /** Bound on updates held back during a sync (each can be megabytes). */
  readonly maxQueuedUpdates: number;
  /**
   * Runs `fn` after the I/O already received (default: at once). The client passes
   * setImmediate: when the head wait's timer fires late on a busy event loop, a head announcement
   * may be waiting in the socket, and it should be read before a SyncRequest is sent.
   */
  readonly afterPendingIo?: (fn: () => void) => void;
  /** Called after every accepted snapshot except the persisted one (persistence hooks here). */
  readonly onAccepted?: (snapshot: Snapshot, origin: ConfigOrigin) => void;
}

export class ConfigSync {
  readonly #o: ConfigSyncOptions;
  #inForce: Snapshot | undefined;
  #origin: ConfigOrigin;
  #appliedAt: number | undefined;
  #lastSyncAt: number | undefined;
  #confirmedAt: number | undefined;
  #headWait: Timer | undefined;
  /**
   * Reconnected and not yet confirmed: a head of the version in force that arrives after the
   * wait ended (a sync is in flight or waiting to retry) still confirms it.
   */
  #unconfirmed = false;
  #lastNack: NackRecord | undefined;
  /** The last version refused: a replay of it (update or full) is not built again. Versions name
   *  one content each (protocol), so the version alone identifies it. */
  #refusedVersion: number | undefined;
  /** The content of the last refused version as announced (unverified: it could not be built).
   *  The control plane's next increment is based on it, so keeping it lets the sidecar apply
   *  that increment without a full sync: a NACK across the fleet costs no resync burst. */
  #refusedBase: Snapshot | undefined;
  /** Newest version announced by any update or full snapshot seen. */
  #latestSeen = 0;
  #phase: SyncPhase = 'idle';
  #again = false;
  #attempt = 0;
  #retry: Timer | undefined;
  #queue: ConfigUpdate[] = [];
  #stopped = false;

  constructor(options: ConfigSyncOptions) {
    this.#o = options;
    this.#inForce = options.initial;
    this.#origin = options.initial ? 'initial' : 'none';
  }

  get inForce(): Snapshot | undefined {
    return this.#inForce;
  }

  get origin(): ConfigOrigin {
    return this.#origin;
  }

  get phase(): SyncPhase {
    return this.#phase;
  }

  get lastNack(): NackRecord | undefined {
    return this.#lastNack;
  }

  /** Wall-clock ms of the last sync that got an answer (full or current). */
  get lastSyncAt(): number | undefined {
    return this.#lastSyncAt;
  }

  /** Wall-clock ms when the config in force was applied. */
  get appliedAt(): number | undefined {
    return this.#appliedAt;
  }

  /** Wall-clock ms the control plane last confirmed the version in force: a sync answer or a
   *  head announcement of exactly that version. */
  get confirmedAt(): number | undefined {
    return this.#confirmedAt;
  }

  /** Number of updates held back for after the sync in progress. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Puts a locally stored snapshot in force before any contact (no status is published). */
  adopt(snapshot: Snapshot): ApplyResult {
    const result = this.#applySafely(snapshot);
    if (result.accepted) this.#accept(snapshot, 'persisted');
    return result;
  }

  /** Asks for the state of the world: now when idle, once more afterwards when a sync is in flight. */
  requestSync(reason: SyncReason): void {
    if (this.#stopped) return;
    if (reason !== 'connect') this.#o.counters.resyncs++;
    switch (this.#phase) {
      case 'idle':
        void this.#send();
        return;
      case 'requesting':
        this.#again = true;
        return;
      case 'backoff':
        // A (re)connection is news: the control plane may be reachable again, so try now. Other
        // reasons wait for the timer already set.
        if (reason === 'reconnect' || reason === 'connect') {
          this.#retry?.cancel();
          this.#retry = undefined;
          void this.#send();
        }
        return;
    }
  }

  /**
   * After a reconnect: waits up to `waitMs` for the control plane's head announcement (any
   * update) before asking for the state of the world. While a sync is in flight or waiting to
   * retry, this is a plain requestSync('reconnect').
   */
  awaitHead(waitMs: number): void {
    if (this.#stopped) return;
    this.#unconfirmed = true;
    if (this.#phase !== 'idle') {
      this.requestSync('reconnect');
      return;
    }
    this.#o.counters.resyncs++;
    this.#headWait?.cancel();
    // Anything that starts a sync meanwhile cancels this timer (#send), so it fires when idle.
    const timer = this.#o.clock.setTimer(waitMs, () => {
      const afterIo = this.#o.afterPendingIo ?? ((fn: () => void) => fn());
      afterIo(() => {
        // A head read meanwhile settled it (onUpdate cleared the wait).
        if (this.#headWait !== timer || this.#stopped) return;
        this.#headWait = undefined;
        void this.#send();
      });
    });
    this.#headWait = timer;
  }

  /** A decoded config update from trellis.v1.config.updates. */
  onUpdate(update: ConfigUpdate): void {
    if (this.#stopped) return;
    this.#o.counters.updatesReceived++;
    this.#latestSeen = Math.max(this.#latestSeen, update.version);
    if (this.#headWait !== undefined) {
      this.#headWait.cancel();
      this.#headWait = undefined;
      if (update.version === this.#inForce?.version && update.hash === this.#inForce.hash) {
        // The head is the version in force: nothing was missed while disconnected.
        this.#o.counters.headConfirmations++;
        this.#o.counters.updatesStale++;
        this.#unconfirmed = false;
        this.#confirmedAt = this.#o.wallClock();
        return;
      }
      if (update.version <= (this.#inForce?.version ?? 0)) {
        // Not newer, yet not the version in force (a lagging replica, another hash): ask.
        this.#o.counters.updatesStale++;
        this.requestSync('reconnect');
        return;
      }
      // Newer: an increment on the version in force applies as usual; anything else is a gap.
    } else if (
      this.#unconfirmed &&
      update.version === this.#inForce?.version &&
      update.hash === this.#inForce.hash
    ) {
      // The wait ended first (on a busy event loop the head can sit unread in the socket past
      // it): the head still confirms that nothing was missed. The sync in flight goes on; its
      // answer, or the retry, is the same version (this update is then simply stale).
      this.#unconfirmed = false;
      this.#o.counters.headConfirmations++;
      this.#confirmedAt = this.#o.wallClock();
    }
    if (this.#phase === 'requesting') {
      this.#enqueue(update);
      return;
    }
    this.#process(update);
  }

  /** A message that failed strict decoding: logged with its ProtocolError code, counted, ignored. */
  badMessage(error: unknown, what: string, subject: string): void {
    this.#o.counters.badMessages++;
    this.#o.log.warn(
      {
        code: error instanceof ProtocolError ? error.code : 'TRL_PROTO_MALFORMED',
        subject,
        reason: error instanceof Error ? error.message : String(error),
      },
      `ignored a bad ${what}`,
    );
  }

  /** Publishes a heartbeat or goodbye with the version in force. */
  announce(kind: Extract<ProxyStatusKind, 'heartbeat' | 'goodbye'>): void {
    if (kind === 'heartbeat') this.#o.counters.heartbeats++;
    this.#publish(this.#status(kind));
  }

  /** Stops retrying and drops queued updates; the config in force stays. */
  stop(): void {
    this.#stopped = true;
    this.#retry?.cancel();
    this.#retry = undefined;
    this.#headWait?.cancel();
    this.#headWait = undefined;
    this.#queue = [];
  }

  // === the sync cycle ===

  async #send(): Promise<void> {
    this.#headWait?.cancel();
    this.#headWait = undefined;
    this.#phase = 'requesting';
    this.#again = false;
    this.#o.counters.syncRequests++;
    const request: SyncRequest = {
      proxy: this.#o.identity,
      version: this.#inForce?.version ?? 0,
      hash: this.#inForce?.hash ?? '',
    };
    let reply: SyncReply;
    try {
      reply = await this.#o.transport.request(request);
    } catch (error) {
      if (this.#stopped) return;
      if (error instanceof ProtocolError) {
        const { namespace, pod } = this.#o.identity;
        this.badMessage(error, 'sync reply', subjects.sync(namespace, pod));
      }
      this.#failed(error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.#stopped) return;
    switch (reply.kind) {
      case 'unavailable':
        this.#failed(`control plane has no config yet: ${reply.reason}`);
        return;
      case 'error':
        this.#failed(`control plane refused: ${reply.code}: ${reply.message}`);
        return;
      case 'current':
        this.#unconfirmed = false;
        this.#lastSyncAt = this.#o.wallClock();
        this.#confirmedAt = this.#lastSyncAt;
        if (
          reply.version !== (this.#inForce?.version ?? 0) ||
          reply.hash !== (this.#inForce?.hash ?? '')
        ) {
          this.#o.log.warn(
            {
              code: 'TRL_DELIVERY_SYNC_FAILED',
              replied: reply.version,
              inForce: this.#inForce?.version ?? 0,
            },
            'sync reply says "current" for another version than the one in force',
          );
        }
        this.#ack();
        break;
      case 'full':
        this.#unconfirmed = false;
        this.#lastSyncAt = this.#o.wallClock();
        this.#confirmedAt = this.#lastSyncAt;
        this.#o.counters.fullSyncs++;
        this.#applyFull(reply.snapshot);
        break;
    }
    this.#drainQueue();
    if (this.#again || this.#behind()) {
      this.#again = false;
      this.#scheduleRetry('a newer version is known than the one the sync brought');
      return;
    }
    this.#attempt = 0;
    this.#phase = 'idle';
  }

  #failed(reason: string): void {
    this.#o.counters.syncFailures++;
    this.#scheduleRetry(reason);
  }

  #scheduleRetry(reason: string): void {
    const attempt = this.#attempt++;
    const delay = backoffDelay(attempt, this.#o.backoff, this.#o.random);
    this.#phase = 'backoff';
    this.#o.log.warn(
      {
        code: 'TRL_DELIVERY_SYNC_FAILED',
        attempt: attempt + 1,
        retryInMs: Math.round(delay),
        reason,
      },
      'sync did not converge; retrying',
    );
    this.#retry = this.#o.clock.setTimer(delay, () => {
      this.#retry = undefined;
      if (!this.#stopped) void this.#send();
    });
  }

  #behind(): boolean {
    const handled = Math.max(this.#inForce?.version ?? 0, this.#refusedVersion ?? 0);
    return this.#latestSeen > handled;
  }

  #applyFull(wire: WireSnapshot): void {
    const have = this.#inForce?.version ?? 0;
    if (this.#inForce && wire.version <= have) {
      if (wire.version === have && wire.hash === this.#inForce.hash) {
        this.#ack();
        return;
      }
      // A replica lagging behind, or a control plane whose versions restarted: the holder
      // refuses non-newer versions, so keep the one in force (see the README on version resets).
      this.#o.log.warn(
        {
          code: 'TRL_DELIVERY_OLDER_SNAPSHOT',
          offered: wire.version,
          offeredHash: wire.hash,
          inForce: have,
        },
        'sync offered a snapshot not newer than the one in force; kept it',
      );
      return;
    }
    this.#latestSeen = Math.max(this.#latestSeen, wire.version);
    if (wire.version === this.#refusedVersion) {
      this.#nack(wire.version, this.#lastNack?.issues ?? []);
      return;
    }
    const built = this.#o.cache.buildFull(wire);
    if (built.kind === 'invalid') {
      this.#refusedBase = { version: wire.version, hash: wire.hash, resources: wire.resources };
      this.#nack(wire.version, built.issues);
      return;
    }
    this.#install(built.snapshot, 'sync');
  }

  // === increments ===

  #enqueue(update: ConfigUpdate): void {
    if (this.#queue.length >= this.#o.maxQueuedUpdates) {
      // The oldest is the likeliest to be covered by the sync in progress; if it was not,
      // #behind() notices after the sync and asks again.
      this.#queue.shift();
      this.#o.counters.queueOverflows++;
    }
    this.#queue.push(update);
    this.#o.counters.updatesQueued++;
  }

  #drainQueue(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const update of queue) this.#process(update);
  }

  #process(update: ConfigUpdate): void {
    if (update.version === this.#refusedVersion) {
      this.#o.counters.updatesStale++;
      return;
    }
    const refused = this.#refusedBase;
    const base =
      refused !== undefined &&
      update.baseVersion === refused.version &&
      refused.version > (this.#inForce?.version ?? 0)
        ? refused
        : this.#inForce;
    const outcome = this.#o.cache.applyUpdate(base, update);
    switch (outcome.kind) {
      case 'stale':
        this.#o.counters.updatesStale++;
        return;
      case 'gap':
        this.#o.counters.gaps++;
        this.#o.log.info(
          { version: update.version, base: outcome.base, inForce: outcome.have },
          'config update does not follow the version in force; resyncing',
        );
        // Keep it: if the sync's reply is older than this update, the update may apply after it.
        this.#enqueue(update);
        this.requestSync('gap');
        return;
      case 'hash-mismatch':
        this.#o.counters.hashMismatches++;
        this.#o.log.warn(
          { version: update.version, expected: outcome.expected, got: outcome.got },
          'config update does not produce its announced hash; resyncing',
        );
        this.requestSync('hash-mismatch');
        return;
      case 'invalid':
        this.#refusedBase = {
          version: update.version,
          hash: update.hash,
          resources: outcome.resources,
        };
        this.#nack(update.version, issuesOf(outcome.error));
        return;
      case 'applied':
        if (this.#install(outcome.snapshot, 'update')) this.#o.counters.updatesApplied++;
        return;
    }
  }

  // === applying and reporting ===

  #install(snapshot: Snapshot, origin: ConfigOrigin): boolean {
    const result = this.#applySafely(snapshot);
    if (!result.accepted) {
      this.#refusedBase = snapshot;
      this.#nack(snapshot.version, result.issues);
      return false;
    }
    this.#accept(snapshot, origin);
    this.#ack();
    return true;
  }

  #applySafely(snapshot: Snapshot): ApplyResult {
    try {
      return this.#o.apply(snapshot);
    } catch (error) {
      return {
        accepted: false,
        version: snapshot.version,
        issues: issuesOf(error, 'TRL_DELIVERY_APPLY_FAILED'),
      };
    }
  }

  #accept(snapshot: Snapshot, origin: ConfigOrigin): void {
    this.#inForce = snapshot;
    this.#refusedBase = undefined;
    this.#origin = origin;
    this.#appliedAt = this.#o.wallClock();
    this.#latestSeen = Math.max(this.#latestSeen, snapshot.version);
    try {
      if (origin !== 'persisted') this.#o.onAccepted?.(snapshot, origin);
    } catch (error) {
      this.#o.log.error({ reason: (error as Error).message }, 'onAccepted hook threw');
    }
  }

  #ack(): void {
    this.#o.counters.acks++;
    this.#publish(this.#status('ack'));
  }

  #nack(version: number, issues: readonly ConfigIssue[]): void {
    const at = new Date(this.#o.wallClock()).toISOString();
    this.#refusedVersion = version;
    this.#lastNack = { version, issues, at };
    this.#o.counters.nacks++;
    const first = issues[0];
    this.#o.log.warn(
      {
        code: 'TRL_DELIVERY_NACK',
        version,
        inForce: this.#inForce?.version ?? 0,
        issues: issues.length,
        ...(first ? { first: formatIssue(first) } : {}),
      },
      'refused a config version; the last good one stays in force',
    );
    this.#publish({ ...this.#status('nack'), rejectedVersion: version, issues });
  }

  #status(kind: ProxyStatusKind): ProxyStatus {
    return {
      proxy: this.#o.identity,
      kind,
      version: this.#inForce?.version ?? 0,
      hash: this.#inForce?.hash ?? '',
      at: new Date(this.#o.wallClock()).toISOString(),
    };
  }

  #publish(status: ProxyStatus): void {
    try {
      this.#o.transport.publishStatus(status);
    } catch (error) {
      this.#o.log.warn(
        { code: 'TRL_DELIVERY_NATS_ERROR', reason: (error as Error).message },
        'status not published',
      );
    }
  }
}
