import { describe, expect, it } from 'vitest';
import type { BalancerAlgorithm } from './create-balancer.js';
import { BALANCER_ALGORITHMS, createBalancer } from './create-balancer.js';
import type { EndpointState } from './endpoint-state.js';
import { LeastRequestBalancer } from './least-request.js';
import { MaglevBalancer } from './maglev-balancer.js';
import { PeakEwmaBalancer } from './peak-ewma-balancer.js';
import { RoundRobinBalancer } from './round-robin.js';
import { ep, fixture, pickIds, seededRandom } from './testing/fixtures.js';

function ctx(seed: number): { hashKey?: string; random: () => number } {
  return { random: seededRandom(seed) };
}

describe('createBalancer', () => {
  it('builds each algorithm', () => {
    const { set } = fixture([ep('a')]);
    expect(createBalancer('round-robin', set)).toBeInstanceOf(RoundRobinBalancer);
    expect(createBalancer('least-request', set)).toBeInstanceOf(LeastRequestBalancer);
    expect(createBalancer('ewma', set)).toBeInstanceOf(PeakEwmaBalancer);
    expect(createBalancer('consistent-hash', set)).toBeInstanceOf(MaglevBalancer);
  });

  it('passes Maglev options through', () => {
    const { set } = fixture([ep('a')]);
    expect(() => createBalancer('consistent-hash', set, { maglev: { tableSize: 8 } })).toThrow(
      expect.objectContaining({ path: 'maglev.tableSize' }),
    );
  });

  it('rejects an unknown algorithm name', () => {
    const { set } = fixture([ep('a')]);
    expect(() => createBalancer('random' as BalancerAlgorithm, set)).toThrow(
      expect.objectContaining({ code: 'TRL_BALANCE_UNKNOWN_ALGORITHM', path: 'algorithm' }),
    );
  });
});

describe.each(BALANCER_ALGORITHMS)('%s', (algorithm) => {
  it('picks undefined from an empty set', () => {
    const { set } = fixture([]);
    expect(createBalancer(algorithm, set).pick(ctx(1))).toBeUndefined();
  });

  it('never picks an ejected endpoint', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c')]);
    const b = set.get('b') as EndpointState;
    for (let i = 0; i < 5; i++) set.start(b).end({ outcome: 'gateway-error', latencyMs: 1 });
    const balancer = createBalancer(algorithm, set);
    const context = ctx(2);
    const picks = pickIds(() => balancer.pick(context), 300);
    expect(picks).not.toContain('b');
    expect(new Set(picks)).toEqual(new Set(['a', 'c']));
  });

  it('never picks a terminating or unready endpoint', () => {
    const { set } = fixture([ep('a', { terminating: true }), ep('b', { ready: false }), ep('c')]);
    const balancer = createBalancer(algorithm, set);
    const context = ctx(3);
    expect(new Set(pickIds(() => balancer.pick(context), 100))).toEqual(new Set(['c']));
  });

  it('picks every endpoint again in panic when all are ejected', () => {
    const { set } = fixture([ep('a'), ep('b')], { outlier: { maxEjectionPercent: 100 } });
    for (const state of set.endpoints) {
      for (let i = 0; i < 5; i++) set.start(state).end({ outcome: '5xx', latencyMs: 1 });
    }
    const balancer = createBalancer(algorithm, set);
    const context = ctx(4);
    expect(new Set(pickIds(() => balancer.pick(context), 100))).toEqual(new Set(['a', 'b']));
  });

  it('picks undefined when all are ejected and panic is disabled', () => {
    const { set } = fixture([ep('a'), ep('b')], {
      outlier: { maxEjectionPercent: 100 },
      balance: { panicThresholdPercent: 0 },
    });
    for (const state of set.endpoints) {
      for (let i = 0; i < 5; i++) set.start(state).end({ outcome: '5xx', latencyMs: 1 });
    }
    expect(createBalancer(algorithm, set).pick(ctx(5))).toBeUndefined();
  });
});
