import { describe, expect, it } from 'vitest';
import type { EndpointSet } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';
import { PeakEwmaBalancer } from './peak-ewma-balancer.js';
import { ep, fixture, pickIds, scripted } from './testing/fixtures.js';

function respond(set: EndpointSet, id: string, latencyMs: number): void {
  set.start(set.get(id) as EndpointState).end({ outcome: 'success', latencyMs });
}

/** With two endpoints the two samples are always both, so picks are deterministic. */
const both = { random: scripted(0, 0) };

describe('PeakEwmaBalancer', () => {
  it('prefers the faster endpoint', () => {
    const { set } = fixture([ep('slow'), ep('fast')]);
    respond(set, 'slow', 100);
    respond(set, 'fast', 10);
    const balancer = new PeakEwmaBalancer(set);
    expect(pickIds(() => balancer.pick(both), 3)).toEqual(['fast', 'fast', 'fast']);
  });

  it('weighs the estimate by in-flight requests (cost = rtt × (active + 1))', () => {
    const { set } = fixture([ep('slow'), ep('fast')]);
    respond(set, 'slow', 100);
    respond(set, 'fast', 10);
    const balancer = new PeakEwmaBalancer(set);
    const picks: string[] = [];
    for (let i = 0; i < 11; i++) {
      const chosen = balancer.pick(both) as EndpointState;
      picks.push(chosen.id);
      set.start(chosen);
    }
    // fast costs 10 × (k + 1) with k in flight: at k = 9 it ties slow's 100 and the first sample
    // (slow) wins; then slow costs 200 and fast is cheaper again.
    expect(picks).toEqual([...new Array<string>(9).fill('fast'), 'slow', 'fast']);
  });

  it('reacts to a latency spike at once (peak)', () => {
    const { set } = fixture([ep('a'), ep('b')]);
    respond(set, 'a', 10);
    respond(set, 'b', 20);
    const balancer = new PeakEwmaBalancer(set);
    expect(balancer.pick(both)?.id).toBe('a');
    respond(set, 'a', 500);
    expect(balancer.pick(both)?.id).toBe('b');
  });

  it('recovers a once-slow endpoint as its estimate decays, then keeps preferring it', () => {
    const { set, clock } = fixture([ep('a'), ep('b')]);
    respond(set, 'a', 1000);
    const balancer = new PeakEwmaBalancer(set);
    const picks: string[] = [];
    // Each second one request; a now answers in 5 ms, b in 20 ms.
    for (let second = 1; second <= 80; second++) {
      clock.advance(1000);
      const chosen = balancer.pick(both) as EndpointState;
      picks.push(chosen.id);
      respond(set, chosen.id, chosen.id === 'a' ? 5 : 20);
    }
    // a's 1000 ms peak decays as 1000·e^(−t/10 s); b, observed a second earlier, reads
    // 20·e^(−0.1) ≈ 18.1 ms; a is cheaper from t > 10·ln(1000 / 18.1) ≈ 40.1 s.
    expect(picks.slice(0, 41)).toEqual([...new Array<string>(40).fill('b'), 'a']);
    // From then on a wins, except when b's unobserved estimate decays below a's and b is re-probed.
    expect(picks.slice(40).filter((id) => id === 'a')).toHaveLength(38);
  });

  it('gives an endpoint without data the default RTT', () => {
    const { set } = fixture([ep('new'), ep('slow'), ep('fast')], {
      balance: { ewmaDefaultRttMs: 50 },
    });
    respond(set, 'slow', 80);
    respond(set, 'fast', 40);
    const balancer = new PeakEwmaBalancer(set);
    // Samples (new, slow) then (new, fast).
    expect(balancer.pick({ random: scripted(0, 0) })?.id).toBe('new');
    expect(balancer.pick({ random: scripted(0, 0.9) })?.id).toBe('fast');
  });

  it('divides the cost by weight', () => {
    const { set } = fixture([ep('a', { weight: 3 }), ep('b')]);
    respond(set, 'a', 25);
    respond(set, 'b', 10);
    expect(new PeakEwmaBalancer(set).pick(both)?.id).toBe('a');
  });

  it('returns the only endpoint, and undefined for an empty set', () => {
    expect(new PeakEwmaBalancer(fixture([ep('a')]).set).pick(both)?.id).toBe('a');
    expect(new PeakEwmaBalancer(fixture([]).set).pick(both)).toBeUndefined();
  });
});
