// Micro-benchmark: picks per second of each algorithm over 3, 50 and 1000 endpoints with uneven
// weights (1–5). Run from this folder with `npx vitest bench --run`; not part of the tests.
// Round-robin at 1000 endpoints exceeds the precomputed-cycle budget and measures the EDF path.
import { FakeClock } from '@trellis/time';
import { bench, describe } from 'vitest';
import type { Endpoint } from '../src/index.js';
import { BALANCER_ALGORITHMS, createBalancer, EndpointSet } from '../src/index.js';

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `10.0.${i >> 8}.${i & 255}:8080`,
    address: `10.0.${i >> 8}.${i & 255}`,
    port: 8080,
    weight: 1 + (i % 5),
    ready: true,
    serving: true,
    terminating: false,
  }));
}

/** xorshift32: cheaper than Math.random and reproducible. */
function fastRandom(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
}

const keys = Array.from({ length: 1024 }, (_, i) => `session-${i}-${(i * 2_654_435_761) >>> 0}`);

for (const n of [3, 50, 1000]) {
  describe(`${n} endpoints`, () => {
    for (const algorithm of BALANCER_ALGORITHMS) {
      const clock = new FakeClock();
      const set = new EndpointSet({ endpoints: endpoints(n), clock });
      // Give the EWMA something to compare: every endpoint has a measured RTT.
      for (const state of set.endpoints) {
        set.start(state).end({ outcome: 'success', latencyMs: 5 + (state.weight % 3) });
      }
      const balancer = createBalancer(algorithm, set);
      const ctx: { hashKey: string | undefined; random: () => number } = {
        hashKey: undefined,
        random: fastRandom(42),
      };
      let i = 0;
      // Warm the lazily built tables outside the measured loop.
      balancer.pick(ctx);
      bench(
        algorithm,
        () => {
          if (algorithm === 'consistent-hash') ctx.hashKey = keys[i++ & 1023];
          balancer.pick(ctx);
        },
        { time: 300, warmupTime: 100 },
      );
    }
  });
}
