// Least-request with power-of-two-choices: sample two distinct candidates at random and take the
// one with the lower (active + 1) / weight. The + 1 makes idle endpoints compare by weight (plain
// active / weight would tie them at 0); O(1) per pick, no allocation. Ties keep the first sample.
import type { Balancer, PickContext } from './balancer.js';
import { randomIndex } from './balancer.js';
import type { EndpointSet } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';

export class LeastRequestBalancer implements Balancer {
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
    return (b.active + 1) * a.weight < (a.active + 1) * b.weight ? b : a;
  }
}
