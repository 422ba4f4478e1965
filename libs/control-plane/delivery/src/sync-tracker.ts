// Sync state of every proxy, as one control-plane replica sees it (docs/protocol.md, Sync state).
// Pure: fed with sync requests, status messages and new stored versions, it keeps per proxy what
// it runs and whether that is the newest config, and moves proxies to STALE or DISCONNECTED on
// timers of an injected clock. The NATS adapters (status listener, sync responder) feed it.
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { ConfigIssue } from '@trellis/config';
import type { ProxyIdentity, ProxyStatus, ProxyStatusKind } from '@trellis/mesh-protocol';
import type { Clock, Timer } from '@trellis/time';
import { DeliveryError } from './errors.js';

export type SyncState = 'SYNCED' | 'STALE' | 'NACKED' | 'DISCONNECTED';
export const SYNC_STATES: readonly SyncState[] = ['SYNCED', 'STALE', 'NACKED', 'DISCONNECTED'];

export const DEFAULT_STALE_AFTER_MS = 5_000;
export const DEFAULT_HEARTBEAT_MS = 10_000;
export const DEFAULT_MISSED_HEARTBEATS = 3;
export const DEFAULT_FORGET_AFTER_MS = 15 * 60_000;
/** Push-to-ACK latencies kept per proxy (newest versions). */
const ACK_LATENCIES_KEPT = 10;
/** Versions whose arrival time is remembered for latencies (a proxy ACKing older ones is rare). */
const VERSION_TIMES_KEPT = 64;

export interface AckLatency {
  readonly version: number;
  /** From this replica learning of the version (stored, or seen stored) to the proxy's ACK. */
  readonly latencyMs: number;
}

export interface ProxyNack {
  /** The version refused. */
  readonly version: number;
  readonly issues: readonly ConfigIssue[];
}

export interface ProxySyncView {
  /** `namespace/pod`. */
  readonly key: string;
  readonly identity: ProxyIdentity;
  readonly state: SyncState;
  /** Version and hash in force at the proxy, as it last reported. */
  readonly version: number;
  readonly hash: string;
  /** Set while NACKED: the version refused and why. */
  readonly nack: ProxyNack | undefined;
  /** What the proxy last sent: a sync request or a status kind. */
  readonly lastEvent: 'sync' | ProxyStatusKind;
  readonly lastSeenAgoMs: number;
  /** Oldest first, at most 10. */
  readonly ackLatencies: readonly AckLatency[];
}

export type SyncChange =
  | {
      readonly kind: 'updated';
      readonly proxy: ProxySyncView;
      /** undefined for a proxy seen for the first time (or again after being forgotten). */
      readonly previousState: SyncState | undefined;
    }
  | { readonly kind: 'removed'; readonly key: string; readonly identity: ProxyIdentity };

export interface SyncTrackerOptions {
  readonly clock: Clock;
  /** A proxy behind the newest version this long is STALE (default 5 s). */
  readonly staleAfterMs?: number;
  /** The sidecars' heartbeat interval (default 10 s). */
  readonly heartbeatMs?: number;
  /** Heartbeats missed before DISCONNECTED (default 3). */
  readonly missedHeartbeats?: number;
  /** A DISCONNECTED proxy is forgotten after this long (default 15 min). */
  readonly forgetAfterMs?: number;
}

export interface StatusOutcome {
  /** Set when the status is the proxy's first ACK of a version this replica saw arrive. */
  readonly ackLatencyMs: number | undefined;
}

interface ProxyRecord {
  readonly key: string;
  identity: ProxyIdentity;
  version: number;
  hash: string;
  nack: ProxyNack | undefined;
  lastEvent: 'sync' | ProxyStatusKind;
  lastSeen: number;
  goodbyeAt: number | undefined;
  /** When the proxy fell behind the newest version; undefined while it is not behind. */
  behindSince: number | undefined;
  acks: AckLatency[];
  state: SyncState | undefined;
  /** What was last announced as a change: state, version, hash, NACK and process start. */
  signature: string;
  timer: Timer | undefined;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new DeliveryError(
      'TRL_DELIVERY_INVALID_OPTION',
      `${name} must be a positive number (got ${value})`,
    );
  }
  return value;
}

export class SyncTracker {
  readonly #clock: Clock;
  readonly #staleAfterMs: number;
  readonly #silentMs: number;
  readonly #forgetAfterMs: number;
  readonly #records = new Map<string, ProxyRecord>();
  readonly #versionTimes = new Map<number, number>();
  readonly #changes = new Subject<SyncChange>();
  #latest: { readonly version: number; readonly hash: string } | undefined;
  #closed = false;

  /** Every change of a proxy's state, version, hash or NACK; joins and removals. */
  readonly changes: Observable<SyncChange> = this.#changes.asObservable();

  constructor(options: SyncTrackerOptions) {
    this.#clock = options.clock;
    this.#staleAfterMs = positive('staleAfterMs', options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
    const heartbeatMs = positive('heartbeatMs', options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    const missed = positive(
      'missedHeartbeats',
      options.missedHeartbeats ?? DEFAULT_MISSED_HEARTBEATS,
    );
    this.#silentMs = heartbeatMs * missed;
    this.#forgetAfterMs = positive(
      'forgetAfterMs',
      options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS,
    );
  }

  /** The newest stored version this replica knows. */
  get latest(): { readonly version: number; readonly hash: string } | undefined {
    return this.#latest;
  }

  /** A new stored version: proxies not on it start to fall behind. Older or equal ones are ignored. */
  setLatest(version: number, hash: string): void {
    if (this.#closed || (this.#latest && version <= this.#latest.version)) return;
    this.#latest = { version, hash };
    this.#versionTimes.set(version, this.#clock.now());
    if (this.#versionTimes.size > VERSION_TIMES_KEPT) {
      this.#versionTimes.delete(Math.min(...this.#versionTimes.keys()));
    }
    for (const record of this.#records.values()) this.#refresh(record);
  }

  /** A sync request: the proxy announced itself and what it holds. */
  announce(identity: ProxyIdentity, version: number, hash: string): void {
    if (this.#closed) return;
    const record = this.#touch(identity, 'sync');
    record.version = version;
    record.hash = hash;
    this.#refresh(record);
  }

  /** A decoded status whose subject matched its identity (the adapter checks that). */
  status(status: ProxyStatus): StatusOutcome {
    if (this.#closed) return { ackLatencyMs: undefined };
    const now = this.#clock.now();
    const record = this.#touch(status.proxy, status.kind);
    record.version = status.version;
    record.hash = status.hash;
    let ackLatencyMs: number | undefined;
    switch (status.kind) {
      case 'ack': {
        if (record.nack && status.version >= record.nack.version) record.nack = undefined;
        const arrived = this.#versionTimes.get(status.version);
        if (arrived !== undefined && !record.acks.some((a) => a.version === status.version)) {
          ackLatencyMs = now - arrived;
          record.acks.push({ version: status.version, latencyMs: ackLatencyMs });
          if (record.acks.length > ACK_LATENCIES_KEPT) record.acks.shift();
        }
        break;
      }
      case 'nack':
        record.nack = {
          version: status.rejectedVersion ?? status.version,
          issues: status.issues ?? [],
        };
        break;
      case 'goodbye':
        record.goodbyeAt = now;
        break;
      case 'heartbeat':
        break;
    }
    this.#refresh(record);
    return { ackLatencyMs };
  }

  get(namespace: string, pod: string): ProxySyncView | undefined {
    const record = this.#records.get(`${namespace}/${pod}`);
    return record && this.#view(record);
  }

  /** Every known proxy, sorted by namespace/pod. */
  list(): ProxySyncView[] {
    return [...this.#records.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((r) => this.#view(r));
  }

  counts(): Record<SyncState, number> {
    const counts: Record<SyncState, number> = { SYNCED: 0, STALE: 0, NACKED: 0, DISCONNECTED: 0 };
    for (const record of this.#records.values()) if (record.state) counts[record.state] += 1;
    return counts;
  }

  /** Cancels every timer and completes `changes`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const record of this.#records.values()) record.timer?.cancel();
    this.#changes.complete();
  }

  #touch(identity: ProxyIdentity, event: 'sync' | ProxyStatusKind): ProxyRecord {
    const key = `${identity.namespace}/${identity.pod}`;
    const now = this.#clock.now();
    let record = this.#records.get(key);
    // A new process (restart) or a proxy coming back starts over: its old NACK and latencies
    // belong to a run that is gone.
    if (
      record &&
      (record.identity.startedAt !== identity.startedAt || record.state === 'DISCONNECTED')
    ) {
      record.timer?.cancel();
      record = undefined;
    }
    if (!record) {
      const previous = this.#records.get(key);
      record = {
        key,
        identity,
        version: 0,
        hash: '',
        nack: undefined,
        lastEvent: event,
        lastSeen: now,
        goodbyeAt: undefined,
        behindSince: undefined,
        acks: [],
        state: previous?.state,
        signature: previous?.signature ?? '',
        timer: undefined,
      };
      this.#records.set(key, record);
    }
    record.identity = identity;
    record.lastEvent = event;
    record.lastSeen = now;
    if (event !== 'goodbye') record.goodbyeAt = undefined;
    return record;
  }

  #isBehind(record: ProxyRecord): boolean {
    const latest = this.#latest;
    if (!latest || record.version > latest.version) return false;
    return record.version < latest.version || record.hash !== latest.hash;
  }

  #evaluate(record: ProxyRecord, now: number): SyncState {
    if (record.goodbyeAt !== undefined || now - record.lastSeen >= this.#silentMs)
      return 'DISCONNECTED';
    if (record.nack) return 'NACKED';
    // Behind for less than the threshold counts as SYNCED: the new version is on its way.
    if (record.behindSince !== undefined && now - record.behindSince >= this.#staleAfterMs)
      return 'STALE';
    return 'SYNCED';
  }

  /** Re-evaluates a proxy, announces a change, and arms the timer for its next transition. */
  #refresh(record: ProxyRecord): void {
    const now = this.#clock.now();
    const behind = this.#isBehind(record);
    if (!behind) record.behindSince = undefined;
    else record.behindSince ??= now;
    const previousState = record.state;
    record.state = this.#evaluate(record, now);
    const signature = `${record.state}|${record.version}|${record.hash}|${record.nack?.version ?? ''}|${record.identity.startedAt}`;
    if (signature !== record.signature) {
      record.signature = signature;
      this.#changes.next({ kind: 'updated', proxy: this.#view(record), previousState });
    }
    this.#arm(record, now);
  }

  #arm(record: ProxyRecord, now: number): void {
    record.timer?.cancel();
    let due: number;
    if (record.state === 'DISCONNECTED') {
      due = (record.goodbyeAt ?? record.lastSeen + this.#silentMs) + this.#forgetAfterMs;
    } else {
      due = record.lastSeen + this.#silentMs;
      if (record.state === 'SYNCED' && record.behindSince !== undefined) {
        due = Math.min(due, record.behindSince + this.#staleAfterMs);
      }
    }
    record.timer = this.#clock.setTimer(due - now, () => this.#onTimer(record));
  }

  #onTimer(record: ProxyRecord): void {
    if (this.#closed || this.#records.get(record.key) !== record) return;
    const now = this.#clock.now();
    const forgetAt = (record.goodbyeAt ?? record.lastSeen + this.#silentMs) + this.#forgetAfterMs;
    if (record.state === 'DISCONNECTED' && now >= forgetAt) {
      this.#records.delete(record.key);
      this.#changes.next({ kind: 'removed', key: record.key, identity: record.identity });
      return;
    }
    this.#refresh(record);
  }

  #view(record: ProxyRecord): ProxySyncView {
    return {
      key: record.key,
      identity: record.identity,
      state: record.state ?? 'SYNCED',
      version: record.version,
      hash: record.hash,
      nack: record.nack,
      lastEvent: record.lastEvent,
      lastSeenAgoMs: this.#clock.now() - record.lastSeen,
      ackLatencies: [...record.acks],
    };
  }
}
