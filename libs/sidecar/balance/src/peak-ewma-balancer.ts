// Peak-EWMA balancer, as linkerd2-proxy balances endpoints: power-of-two-choices over
// cost = RTT estimate (decayed to now) × (active + 1), divided by weight so endpoint weights keep
// their meaning (linkerd endpoints have no weight; at weight 1 the cost is linkerd's). O(1) per
// pick, no allocation. Ties keep the first sample, as tower's p2c does.
import type { Balancer, PickContext } from './balancer.js';
import { randomIndex } from './balancer.js';
import type { EndpointSet } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';

export class PeakEwmaBalancer implements Balancer {
  readonly #set: EndpointSet;

  constructor(set: EndpointSet) {
    this.#set = set;
  }

  pick(ctx: PickContext): EndpointState | undefined {
    const pool = this.#set.candidates();
    const n = pool.length;
    if (n < 2) return pool[0];
    const i = randomIndex(ctx.random, n);
    let j = randomIndex(ctx.random, n - 1);
    if (j >= i) j++;
    const a = pool[i] as EndpointState;
    const b = pool[j] as EndpointState;
    const now = this.#set.clock.now();
    const decayMs = this.#set.params.ewmaDecayMs;
    const costA = (a.ewma.read(now, decayMs) * (a.active + 1)) / a.weight;
    const costB = (b.ewma.read(now, decayMs) * (b.active + 1)) / b.weight;
    return costB < costA ? b : a;
  }
}
