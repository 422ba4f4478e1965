// Smooth weighted round-robin, nginx's algorithm: each turn every candidate's current weight grows
// by its weight, the largest (first on ties) is served and loses the total. Weights {a:5, b:1, c:1}
// give a a b a c a a. That is O(n) per turn, so the whole period (Σ weights / gcd turns) is
// computed once per candidate-pool change and picks walk it in O(1). When the period or its
// build cost is too large (big pools with uneven weights) the balancer uses the EDF scheduler
// instead: same long-run shares and smoothness, O(log n) picks, but not nginx's exact order.
// Each rebuild starts at a random point of the cycle so sidecars do not all hit the same endpoint
// first.
import type { Balancer, PickContext } from './balancer.js';
import { randomIndex } from './balancer.js';
import { EdfScheduler } from './edf-scheduler.js';
import type { EndpointSet } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';

/** Longest precomputed cycle (4 bytes per turn). */
const MAX_SCHEDULE_LENGTH = 1 << 16;
/** Most turns × candidates spent building a cycle (bounds the pause on a pool change). */
const MAX_SCHEDULE_WORK = 1 << 21;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** One full nginx smooth-weighted cycle over `weights` (already divided by their gcd). */
export function smoothWeightedCycle(weights: readonly number[], length: number): Uint32Array {
  const n = weights.length;
  const current = new Float64Array(n);
  const cycle = new Uint32Array(length);
  for (let turn = 0; turn < length; turn++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      current[i] = (current[i] as number) + (weights[i] as number);
      if ((current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - length;
    cycle[turn] = best;
  }
  return cycle;
}

export class RoundRobinBalancer implements Balancer {
  readonly #set: EndpointSet;
  #version = -1;
  #cycle: Uint32Array | undefined;
  #cursor = 0;
  #edf: EdfScheduler | undefined;

  constructor(set: EndpointSet) {
    this.#set = set;
  }

  pick(ctx: PickContext): EndpointState | undefined {
    const pool = this.#set.candidates();
    if (pool.length === 0) return undefined;
    if (this.#version !== this.#set.version) this.#rebuild(pool, ctx.random);
    const cycle = this.#cycle;
    if (cycle !== undefined) {
      const index = cycle[this.#cursor] as number;
      this.#cursor = this.#cursor + 1 === cycle.length ? 0 : this.#cursor + 1;
      return pool[index];
    }
    return pool[(this.#edf as EdfScheduler).next()];
  }

  #rebuild(pool: readonly EndpointState[], random: () => number): void {
    this.#version = this.#set.version;
    const divisor = pool.reduce((g, s) => gcd(g, s.weight), 0);
    const weights = pool.map((s) => s.weight / divisor);
    const length = weights.reduce((sum, w) => sum + w, 0);
    if (length <= MAX_SCHEDULE_LENGTH && length * pool.length <= MAX_SCHEDULE_WORK) {
      this.#cycle = smoothWeightedCycle(weights, length);
      this.#cursor = randomIndex(random, length);
      this.#edf = undefined;
    } else {
      this.#cycle = undefined;
      this.#edf = new EdfScheduler(weights);
      for (let skip = randomIndex(random, pool.length); skip > 0; skip--) this.#edf.next();
    }
  }
}
