import { describe, expect, it } from 'vitest';
import type { EndpointState } from './endpoint-state.js';
import { LeastRequestBalancer } from './least-request.js';
import { ep, fixture, pickIds, scripted, seededRandom, tally } from './testing/fixtures.js';

function load(
  state: EndpointState | undefined,
  set: { start(s: EndpointState): unknown },
  n: number,
) {
  for (let i = 0; i < n; i++) set.start(state as EndpointState);
}

describe('LeastRequestBalancer', () => {
  it('picks the less loaded of the two sampled endpoints', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c')]);
    load(set.get('a'), set, 3);
    const lr = new LeastRequestBalancer(set);
    // First sample index 0 (a), second index 0 of the remaining two (b).
    expect(lr.pick({ random: scripted(0, 0) })?.id).toBe('b');
  });

  it('samples two distinct endpoints', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c')]);
    load(set.get('c'), set, 1);
    const lr = new LeastRequestBalancer(set);
    // First sample index 2 (c); the second, index 1 of [a, b], is b, never c again.
    expect(lr.pick({ random: scripted(0.9, 0.9) })?.id).toBe('b');
  });

  it('keeps the first sample on a tie', () => {
    const { set } = fixture([ep('a'), ep('b')]);
    const lr = new LeastRequestBalancer(set);
    expect(lr.pick({ random: scripted(0.7, 0) })?.id).toBe('b');
  });

  it('compares (active + 1) / weight', () => {
    const { set } = fixture([ep('a', { weight: 4 }), ep('b')]);
    const lr = new LeastRequestBalancer(set);
    load(set.get('a'), set, 2);
    // a: 3/4 < b: 1/1
    expect(lr.pick({ random: scripted(0.9, 0) })?.id).toBe('a');
    load(set.get('a'), set, 2);
    // a: 5/4 > b: 1/1
    expect(lr.pick({ random: scripted(0, 0) })?.id).toBe('b');
  });

  it('prefers the heavier of two idle endpoints', () => {
    const { set } = fixture([ep('a'), ep('b', { weight: 2 })]);
    const lr = new LeastRequestBalancer(set);
    expect(lr.pick({ random: scripted(0, 0) })?.id).toBe('b');
  });

  it('keeps in-flight load even across endpoints when requests never finish', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c'), ep('d')]);
    const lr = new LeastRequestBalancer(set);
    const random = seededRandom(7);
    for (let i = 0; i < 400; i++) set.start(lr.pick({ random }) as EndpointState);
    const active = set.endpoints.map((s) => s.active);
    expect(active.reduce((a, b) => a + b, 0)).toBe(400);
    expect(Math.max(...active) - Math.min(...active)).toBeLessThanOrEqual(2);
  });

  it('sends a 3× weighted endpoint about 3× the requests under load', () => {
    const { set } = fixture([ep('a', { weight: 3 }), ep('b'), ep('c')]);
    const lr = new LeastRequestBalancer(set);
    const random = seededRandom(11);
    for (let i = 0; i < 500; i++) set.start(lr.pick({ random }) as EndpointState);
    const [a, b, c] = set.endpoints.map((s) => s.active) as [number, number, number];
    expect(a / ((b + c) / 2)).toBeGreaterThan(2.5);
    expect(a / ((b + c) / 2)).toBeLessThan(3.5);
  });

  it('spreads idle picks uniformly', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c')]);
    const lr = new LeastRequestBalancer(set);
    const random = seededRandom(3);
    const counts = tally(pickIds(() => lr.pick({ random }), 30_000));
    for (const id of ['a', 'b', 'c'])
      expect(Math.abs((counts[id] ?? 0) - 10_000)).toBeLessThan(400);
  });

  it('returns the only endpoint without sampling', () => {
    const { set } = fixture([ep('a')]);
    let calls = 0;
    const lr = new LeastRequestBalancer(set);
    expect(lr.pick({ random: () => (calls++, 0.5) })?.id).toBe('a');
    expect(calls).toBe(0);
  });

  it('returns undefined for an empty set', () => {
    const { set } = fixture([]);
    expect(new LeastRequestBalancer(set).pick({ random: Math.random })).toBeUndefined();
  });

  it('clamps a random source that returns 1', () => {
    const { set } = fixture([ep('a'), ep('b')]);
    expect(new LeastRequestBalancer(set).pick({ random: () => 1 })?.id).toBe('b');
  });
});
