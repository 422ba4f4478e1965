// Consistent hashing on a request key with a Maglev lookup table (Google's Maglev, as Envoy's
// `MAGLEV` policy builds it), chosen over a ring with virtual nodes because a pick is one hash and
// one array read (O(1), versus a binary search over n × vnodes points), every endpoint owns an
// almost equal share of the table (±1 slot, versus the ring's vnode variance), and weights map to
// shares exactly. The price is slightly more than minimal disruption: removing one of n endpoints
// moves its own ~1/n of the keys plus a small extra fraction, which the spec bounds.
//
// The table is rebuilt when the candidate pool changes (ejection, panic, zone switch). Candidates
// are sorted by id before building, so every sidecar with the same endpoints builds the same table
// whatever its discovery order. Without a hash key, a pick is a weighted random table slot.
import type { Balancer, PickContext } from './balancer.js';
import { randomIndex } from './balancer.js';
import type { EndpointSet } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';
import { BalanceError } from './errors.js';
import { hash32 } from './hash.js';

/** Envoy's default Maglev table size; must be prime and should be ≫ the endpoint count. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

const OFFSET_SEED = 0x9e3779b9;
const SKIP_SEED = 0x85ebca6b;
const KEY_SEED = 0xc2b2ae35;

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export interface MaglevOptions {
  /** Lookup table size: a prime, default 65 537 (Envoy's), at most 5 000 011. */
  readonly tableSize?: number;
}

/**
 * Fills a Maglev table of `size` slots with indexes into `ids`: each endpoint walks its own
 * permutation (offset + k·skip mod size) and claims its next free slot in turn; an endpoint of
 * weight w takes a turn only in rounds where its claims stay within w / maxWeight of the leader's
 * (Envoy's weighted Maglev).
 */
export function buildMaglevTable(
  ids: readonly string[],
  weights: readonly number[],
  size: number,
): Uint32Array {
  const n = ids.length;
  const empty = 0xffffffff;
  const table = new Uint32Array(size).fill(empty);
  // Integer arithmetic with a conditional subtraction instead of `%`: this loop runs about
  // size × ln(size) times per build and floating-point modulo would dominate it.
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const target = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    position[i] = hash32(id, OFFSET_SEED) % size;
    skip[i] = (hash32(id, SKIP_SEED) % (size - 1)) + 1;
    maxWeight = Math.max(maxWeight, weights[i] as number);
  }
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      const weight = weights[i] as number;
      if (round * weight < (target[i] as number)) continue;
      target[i] = (target[i] as number) + maxWeight;
      const step = skip[i] as number;
      let slot = position[i] as number;
      while (table[slot] !== empty) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = i;
      slot += step;
      position[i] = slot >= size ? slot - size : slot;
      filled++;
    }
  }
  return table;
}

export class MaglevBalancer implements Balancer {
  readonly #set: EndpointSet;
  readonly #size: number;
  #version = -1;
  #entries: readonly EndpointState[] = [];
  #table: Uint32Array = new Uint32Array(0);

  constructor(set: EndpointSet, options: MaglevOptions = {}) {
    const size = options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    if (!isPrime(size) || size > MAX_MAGLEV_TABLE_SIZE) {
      throw new BalanceError(
        'TRL_BALANCE_INVALID_PARAMS',
        'maglev.tableSize',
        `must be a prime ≤ ${MAX_MAGLEV_TABLE_SIZE} (got ${String(size)})`,
      );
    }
    this.#set = set;
    this.#size = size;
  }

  pick(ctx: PickContext): EndpointState | undefined {
    const pool = this.#set.candidates();
    if (pool.length === 0) return undefined;
    if (this.#version !== this.#set.version) this.#rebuild(pool);
    const key = ctx.hashKey;
    const slot =
      key === undefined ? randomIndex(ctx.random, this.#size) : hash32(key, KEY_SEED) % this.#size;
    return this.#entries[this.#table[slot] as number];
  }

  #rebuild(pool: readonly EndpointState[]): void {
    this.#version = this.#set.version;
    const entries = [...pool].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.#entries = entries;
    this.#table = buildMaglevTable(
      entries.map((s) => s.id),
      entries.map((s) => s.weight),
      this.#size,
    );
  }
}
