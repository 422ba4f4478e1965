// The compiled config in JetStream KV (`trellis-config` / `snapshot`): the whole WireSnapshot
// under one key. Every replica loads it at start (its version seeds the next one), follows it
// with a watch (plus a slow poll, should a watch die silently), and the writer stores new
// versions with compare-and-set on the key's revision: a lost race re-reads, and no write ever
// stores a version that is not greater than the newest one known.
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { KV, KvEntry } from '@nats-io/kv';
import type { Resource, Snapshot } from '@trellis/config';
import { KV_CONFIG_KEY } from '@trellis/mesh-protocol';
import type { WireSnapshot } from '@trellis/mesh-protocol';
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import { DeliveryError } from './errors.js';
import { isRevisionConflict } from './kv-buckets.js';
import type { DeliveryLogger } from './logger.js';

export const DEFAULT_STORE_POLL_MS = 5_000;

export interface StoredSnapshot {
  readonly snapshot: Snapshot;
  /** The KV revision it was stored under. */
  readonly revision: number;
}

export type WriteOutcome =
  | { readonly kind: 'written'; readonly stored: StoredSnapshot }
  /** Another writer stored first; `latest` is what the store holds now. */
  | { readonly kind: 'conflict'; readonly latest: StoredSnapshot | undefined };

export interface StoredChange {
  readonly latest: StoredSnapshot;
  /** The snapshot it replaced, when this process knew it. */
  readonly previous: Snapshot | undefined;
}

export interface ConfigStoreOptions {
  readonly key?: string;
  readonly clock?: Clock;
  /** Interval of the safety-net poll behind the watch (default 5 s). */
  readonly pollMs?: number;
  readonly log: DeliveryLogger;
}

const encoder = new TextEncoder();

export function encodeStoredSnapshot(snapshot: Snapshot): Uint8Array {
  const wire: WireSnapshot = {
    version: snapshot.version,
    hash: snapshot.hash,
    resources: snapshot.resources,
  };
  return encoder.encode(JSON.stringify(wire));
}

/** Checks the shape of a stored value; resources were validated before they were stored. */
export function decodeStoredSnapshot(bytes: Uint8Array): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new DeliveryError(
      'TRL_DELIVERY_STORE_INVALID',
      `stored snapshot is not JSON: ${(error as Error).message}`,
    );
  }
  const v = value as Partial<Record<keyof WireSnapshot, unknown>> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.version !== 'number' ||
    !Number.isSafeInteger(v.version) ||
    v.version < 1 ||
    typeof v.hash !== 'string' ||
    !v.hash.startsWith('sha256:') ||
    !Array.isArray(v.resources) ||
    !v.resources.every(
      (r) => typeof r === 'object' && r !== null && typeof (r as Resource).kind === 'string',
    )
  ) {
    throw new DeliveryError(
      'TRL_DELIVERY_STORE_INVALID',
      'stored value is not a snapshot {version ≥ 1, hash, resources[]}',
    );
  }
  return { version: v.version, hash: v.hash, resources: v.resources as Resource[] };
}

export class ConfigStore {
  readonly #kv: KV;
  readonly #key: string;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #log: DeliveryLogger;
  readonly #changes = new Subject<StoredChange>();
  #latest: StoredSnapshot | undefined;
  #previous: Snapshot | undefined;
  /** Revision of the key's newest entry, whatever it holds (what a compare-and-set must name). */
  #revision = 0;
  #watch: { stop(): void } | undefined;
  #pollTimer: Timer | undefined;
  #reading: Promise<StoredSnapshot | undefined> | undefined;
  #nextRead: Promise<StoredSnapshot | undefined> | undefined;
  #closed = false;

  /** Each newer version, from this replica's writes and from the watch. */
  readonly changes: Observable<StoredChange> = this.#changes.asObservable();

  constructor(kv: KV, options: ConfigStoreOptions) {
    this.#kv = kv;
    this.#key = options.key ?? KV_CONFIG_KEY;
    this.#clock = options.clock ?? systemClock;
    this.#pollMs = options.pollMs ?? DEFAULT_STORE_POLL_MS;
    this.#log = options.log;
  }

  get latest(): StoredSnapshot | undefined {
    return this.#latest;
  }

  /** The snapshot stored before `latest`, when this process saw it (the base of an increment). */
  get previous(): Snapshot | undefined {
    return this.#previous;
  }

  /** Loads the stored snapshot, then follows the key. */
  async start(): Promise<StoredSnapshot | undefined> {
    await this.refresh();
    await this.#startWatch();
    this.#schedulePoll();
    return this.#latest;
  }

  /** Re-reads the key (after a reconnect, a lost compare-and-set, or by the poll). */
  async refresh(): Promise<StoredSnapshot | undefined> {
    const entry = await this.#kv.get(this.#key);
    if (entry) this.#apply(entry);
    return this.#latest;
  }

  /**
   * The newest stored snapshot as of a read that started after this call (reads are shared by
   * the calls waiting for them): what a follower answers a sync request from, so a sidecar that
   * saw an update before this replica's watch did is not sent back an older version. Falls back
   * to the known one when the read fails.
   */
  async freshLatest(): Promise<StoredSnapshot | undefined> {
    if (!this.#reading) {
      this.#reading = this.refresh().finally(() => (this.#reading = undefined));
    } else {
      // The read in flight may have started before this call: wait for the next one.
      this.#nextRead ??= this.#reading
        .catch(() => undefined)
        .then(() => {
          this.#nextRead = undefined;
          return this.freshLatest();
        });
      return this.#nextRead;
    }
    try {
      return await this.#reading;
    } catch (error) {
      this.#log.warn({ err: error }, 'config read failed; answering from the version known');
      return this.#latest;
    }
  }

  /**
   * Stores `next` if the key is still at the revision last seen; `next.version` must be greater
   * than the newest stored version (throws TRL_DELIVERY_STALE_WRITE otherwise).
   */
  async write(next: Snapshot): Promise<WriteOutcome> {
    const newest = this.#latest?.snapshot.version ?? 0;
    if (next.version <= newest) {
      throw new DeliveryError(
        'TRL_DELIVERY_STALE_WRITE',
        `refusing to store version ${next.version}: version ${newest} is already stored`,
      );
    }
    const expected = this.#revision;
    const data = encodeStoredSnapshot(next);
    let revision: number;
    try {
      revision =
        expected === 0
          ? await this.#kv.create(this.#key, data)
          : await this.#kv.update(this.#key, data, expected);
    } catch (error) {
      if (!isRevisionConflict(error)) throw error;
      return { kind: 'conflict', latest: await this.refresh() };
    }
    if (revision > this.#revision) this.#accept({ snapshot: next, revision });
    return { kind: 'written', stored: { snapshot: next, revision } };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pollTimer?.cancel();
    this.#watch?.stop();
    this.#changes.complete();
  }

  async #startWatch(): Promise<void> {
    const watch = await this.#kv.watch({ key: this.#key });
    this.#watch = watch;
    void (async () => {
      try {
        for await (const entry of watch) this.#apply(entry);
      } catch (error) {
        this.#log.warn({ err: error }, 'config watch ended; the poll keeps following the store');
      }
    })();
  }

  #schedulePoll(): void {
    this.#pollTimer = this.#clock.setTimer(this.#pollMs, () => {
      if (this.#closed) return;
      this.refresh()
        .catch((error: unknown) => this.#log.warn({ err: error }, 'config store poll failed'))
        .finally(() => {
          if (!this.#closed) this.#schedulePoll();
        });
    });
  }

  #apply(entry: KvEntry): void {
    if (this.#closed || entry.revision <= this.#revision) return;
    this.#revision = entry.revision;
    if (entry.operation !== 'PUT') {
      this.#log.warn(
        { revision: entry.revision },
        'stored config was deleted; the next version is written over it',
      );
      return;
    }
    let snapshot: Snapshot;
    try {
      snapshot = decodeStoredSnapshot(entry.value);
    } catch (error) {
      this.#log.error(
        { err: error, revision: entry.revision },
        'stored config is unreadable; the next version is written over it',
      );
      return;
    }
    const newest = this.#latest?.snapshot.version ?? 0;
    if (snapshot.version <= newest) {
      this.#log.warn(
        { revision: entry.revision, version: snapshot.version, newest },
        'stored config went back in version; the next version continues from the newest',
      );
      return;
    }
    this.#accept({ snapshot, revision: entry.revision });
  }

  #accept(stored: StoredSnapshot): void {
    this.#revision = stored.revision;
    this.#previous = this.#latest?.snapshot;
    this.#latest = stored;
    this.#changes.next({ latest: stored, previous: this.#previous });
  }
}
