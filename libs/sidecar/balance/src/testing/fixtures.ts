// Test helpers shared by the specs (excluded from the library build): endpoint records, a
// seeded random source and a scripted one, and a set on a fake clock.
import { FakeClock } from '@trellis/time';
import type { Endpoint } from '../endpoint.js';
import type { EndpointSetInit } from '../endpoint-set.js';
import { EndpointSet } from '../endpoint-set.js';

/** A ready, serving, non-terminating endpoint `id` (address = id, port 8080, weight 1). */
export function ep(id: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id,
    address: id,
    port: 8080,
    weight: 1,
    ready: true,
    serving: true,
    terminating: false,
    ...overrides,
  };
}

/** Deterministic uniform [0, 1) source (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Returns `values` in order, cycling. */
export function scripted(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

export interface Fixture {
  readonly clock: FakeClock;
  readonly set: EndpointSet;
}

/** A set of `endpoints` on a fresh FakeClock starting at 0. */
export function fixture(
  endpoints: readonly Endpoint[],
  init: Partial<Omit<EndpointSetInit, 'endpoints' | 'clock'>> = {},
  clock = new FakeClock(),
): Fixture {
  return { clock, set: new EndpointSet({ endpoints, clock, ...init }) };
}

/** Ids of `count` picks. */
export function pickIds(
  pick: () => { readonly id: string } | undefined,
  count: number,
): (string | undefined)[] {
  return Array.from({ length: count }, () => pick()?.id);
}

/** How many times each id occurs. */
export function tally(ids: readonly (string | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[String(id)] = (counts[String(id)] ?? 0) + 1;
  return counts;
}
