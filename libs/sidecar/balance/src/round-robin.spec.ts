import { describe, expect, it } from 'vitest';
import type { PickContext } from './balancer.js';
import type { EndpointState } from './endpoint-state.js';
import { RoundRobinBalancer, smoothWeightedCycle } from './round-robin.js';
import { ep, fixture, pickIds, scripted, tally } from './testing/fixtures.js';

const fromStart: PickContext = { random: () => 0 };

describe('smoothWeightedCycle', () => {
  it('produces nginx’s sequence for weights 5, 1, 1', () => {
    expect(Array.from(smoothWeightedCycle([5, 1, 1], 7))).toEqual([0, 0, 1, 0, 2, 0, 0]);
  });

  it('interleaves 2:1 weights', () => {
    expect(Array.from(smoothWeightedCycle([2, 1], 3))).toEqual([0, 1, 0]);
  });
});

describe('RoundRobinBalancer', () => {
  it('picks in nginx smooth weighted order, cycle after cycle', () => {
    const { set } = fixture([ep('a', { weight: 5 }), ep('b'), ep('c')]);
    const rr = new RoundRobinBalancer(set);
    expect(pickIds(() => rr.pick(fromStart), 14)).toEqual('a a b a c a a a a b a c a a'.split(' '));
  });

  it('reduces weights by their gcd (500:100:100 behaves as 5:1:1)', () => {
    const { set } = fixture([
      ep('a', { weight: 500 }),
      ep('b', { weight: 100 }),
      ep('c', { weight: 100 }),
    ]);
    const rr = new RoundRobinBalancer(set);
    expect(pickIds(() => rr.pick(fromStart), 7)).toEqual('a a b a c a a'.split(' '));
  });

  it('cycles equal weights in discovery order', () => {
    const { set } = fixture([ep('x'), ep('y'), ep('z')]);
    const rr = new RoundRobinBalancer(set);
    expect(pickIds(() => rr.pick(fromStart), 6)).toEqual(['x', 'y', 'z', 'x', 'y', 'z']);
  });

  it('starts at a random point of the cycle', () => {
    const { set } = fixture([ep('x'), ep('y'), ep('z')]);
    const rr = new RoundRobinBalancer(set);
    expect(pickIds(() => rr.pick({ random: scripted(0.5) }), 4)).toEqual(['y', 'z', 'x', 'y']);
  });

  it('rebuilds over the remaining endpoints after an ejection', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c')]);
    const rr = new RoundRobinBalancer(set);
    expect(pickIds(() => rr.pick(fromStart), 2)).toEqual(['a', 'b']);
    const b = set.get('b') as EndpointState;
    for (let i = 0; i < 5; i++) set.start(b).end({ outcome: '5xx', latencyMs: 1 });
    expect(pickIds(() => rr.pick(fromStart), 4)).toEqual(['a', 'c', 'a', 'c']);
  });

  it('returns undefined for an empty set', () => {
    const { set } = fixture([]);
    expect(new RoundRobinBalancer(set).pick(fromStart)).toBeUndefined();
  });

  it('serves each endpoint exactly its weight per cycle in a large uneven pool (EDF path)', () => {
    // Σ weights = 100 × 998.5 > 65 536 turns, so the cycle is not precomputed.
    const endpoints = Array.from({ length: 100 }, (_, i) =>
      ep(`e${i}`, { weight: i % 2 === 0 ? 997 : 1000 }),
    );
    const { set } = fixture(endpoints);
    const rr = new RoundRobinBalancer(set);
    const counts = tally(pickIds(() => rr.pick({ random: () => 0.37 }), 99_850));
    expect(counts['e0']).toBe(997);
    expect(counts['e1']).toBe(1000);
    expect(Object.keys(counts)).toHaveLength(100);
    expect(new Set(endpoints.map((e) => counts[e.id] === e.weight)).size).toBe(1);
  });
});
