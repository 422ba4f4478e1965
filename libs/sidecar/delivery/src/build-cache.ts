// A process-wide memo of snapshot builds. Every client in a process (the benchmark runs
// thousands per process) receives the same update and the same full snapshots; decoding,
// validating, sorting and hashing them once is enough, and the clients then share one frozen
// Snapshot (and one decoded update: decoded messages are never mutated).
//
// Keys name the inputs by version and content hash. An update's outcome is a function of the
// base snapshot (its version and hash fix its content) and the update; the update is named by
// its base version, version and announced hash. An `applied` outcome's content is proven by its
// hash. `invalid` and `hash-mismatch` outcomes are remembered under the announced hash: a control
// plane that published two different updates under the same version and hash is already broken,
// and the worst case is a resync. `stale` and `gap` are cheap version checks and are not cached.
import { buildSnapshot } from '@trellis/config';
import type { ConfigIssue, Snapshot } from '@trellis/config';
import { applyConfigUpdate, decodeConfigUpdate } from '@trellis/mesh-protocol';
import type { ConfigUpdate, UpdateOutcome, WireSnapshot } from '@trellis/mesh-protocol';
import { issuesOf } from './issues.js';

export type FullBuild =
  | { readonly kind: 'built'; readonly snapshot: Snapshot }
  | { readonly kind: 'invalid'; readonly issues: readonly ConfigIssue[] };

export interface BuildCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

type Entry = { readonly update: UpdateOutcome } | { readonly full: FullBuild };

export class SnapshotBuildCache {
  readonly #maxEntries: number;
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the
  // least recently used one.
  readonly #entries = new Map<string, Entry>();
  /** The last update message decoded (a copy of its bytes) and what it decoded to. */
  #lastUpdate: { readonly bytes: Buffer; readonly update: ConfigUpdate } | undefined;
  /** The last (base, update) pair answered, by identity, and its outcome. */
  #lastApply:
    | { readonly base: Snapshot; readonly update: ConfigUpdate; readonly outcome: UpdateOutcome }
    | undefined;
  #hits = 0;
  #misses = 0;

  /** Clients of one process move in lockstep, so a few entries suffice; each holds a snapshot. */
  constructor(maxEntries = 4) {
    this.#maxEntries = Math.max(1, maxEntries);
  }

  get stats(): BuildCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  /**
   * `decodeConfigUpdate(bytes, maxBytes)`, decoded once per distinct message in this process:
   * bytes equal to the last message decoded (each client gets its own copy from NATS) return
   * the same update object. A message that fails to decode is never remembered.
   */
  decodeUpdate(bytes: Uint8Array, maxBytes: number): ConfigUpdate {
    const last = this.#lastUpdate;
    if (
      last !== undefined &&
      bytes.byteLength <= maxBytes &&
      last.bytes.equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    ) {
      this.#hits++;
      return last.update;
    }
    this.#misses++;
    const update = decodeConfigUpdate(bytes, maxBytes);
    // A copy: the message's bytes may be a view of a buffer NATS reuses.
    this.#lastUpdate = { bytes: Buffer.from(bytes), update };
    return update;
  }

  /** `applyConfigUpdate(current, update)`, computed once per (base, update) in this process. */
  applyUpdate(current: Snapshot | undefined, update: ConfigUpdate): UpdateOutcome {
    const have = current?.version ?? 0;
    // Version checks first: they are cheap and must not be answered from another base.
    if (update.version <= have || !current || update.baseVersion !== have) {
      return applyConfigUpdate(current, update);
    }
    // Clients in lockstep hold the same base object (the outcome this cache gave them) and get
    // the same decoded update: the very same pair is answered without building the key.
    const last = this.#lastApply;
    if (last !== undefined && last.base === current && last.update === update) {
      this.#hits++;
      return last.outcome;
    }
    const key = `u|${have}|${current.hash}|${update.version}|${update.hash}`;
    const hit = this.#get(key);
    const outcome = hit && 'update' in hit ? hit.update : applyConfigUpdate(current, update);
    if (!hit) this.#set(key, { update: outcome });
    this.#lastApply = { base: current, update, outcome };
    return outcome;
  }

  /** Validates a full snapshot and checks that its content hashes to the hash it announces. */
  buildFull(wire: WireSnapshot): FullBuild {
    const key = `f|${wire.version}|${wire.hash}`;
    const hit = this.#get(key);
    if (hit && 'full' in hit) return hit.full;
    const built = buildFull(wire);
    this.#set(key, { full: built });
    return built;
  }

  clear(): void {
    this.#entries.clear();
    this.#lastUpdate = undefined;
    this.#lastApply = undefined;
  }

  #get(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  #set(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}

function buildFull(wire: WireSnapshot): FullBuild {
  let snapshot: Snapshot;
  try {
    snapshot = buildSnapshot(wire.resources, wire.version);
  } catch (error) {
    return { kind: 'invalid', issues: issuesOf(error) };
  }
  if (snapshot.hash !== wire.hash) {
    return {
      kind: 'invalid',
      issues: [
        {
          severity: 'error',
          code: 'TRL_DELIVERY_HASH_MISMATCH',
          message: `snapshot ${wire.version} hashes to ${snapshot.hash}, not the announced ${wire.hash}`,
        },
      ],
    };
  }
  return { kind: 'built', snapshot };
}

/** The cache every client shares unless given its own. */
export const sharedBuildCache = new SnapshotBuildCache();
