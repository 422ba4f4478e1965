import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { EndpointSet } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';
import { BalanceError } from './errors.js';
import type { Outcome } from './outlier-detector.js';
import { ep, fixture } from './testing/fixtures.js';

function ids(states: readonly EndpointState[]): string[] {
  return states.map((s) => s.id);
}

/** Runs `count` requests on `id` that all end with `outcome`. */
function fail(set: EndpointSet, id: string, outcome: Outcome = '5xx', count = 5): void {
  const state = set.get(id) as EndpointState;
  for (let i = 0; i < count; i++) set.start(state).end({ outcome, latencyMs: 1 });
}

describe('EndpointSet construction', () => {
  it('keeps endpoints in discovery order', () => {
    const { set } = fixture([ep('b'), ep('a'), ep('c')]);
    expect(ids(set.endpoints)).toEqual(['b', 'a', 'c']);
    expect(set.size).toBe(3);
    expect(set.get('a')?.endpoint).toEqual(ep('a'));
    expect(set.get('zzz')).toBeUndefined();
  });

  it('rejects a duplicate id with its path', () => {
    try {
      fixture([ep('a'), ep('b'), ep('a')]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BalanceError);
      expect((error as BalanceError).code).toBe('TRL_BALANCE_DUPLICATE_ENDPOINT');
      expect((error as BalanceError).path).toBe('endpoints[2].id');
    }
  });

  it('rejects an invalid endpoint with its path', () => {
    expect(() => fixture([ep('a'), ep('b', { weight: 0 })])).toThrow(
      expect.objectContaining({
        code: 'TRL_BALANCE_INVALID_ENDPOINT',
        path: 'endpoints[1].weight',
      }),
    );
  });

  it('rejects an empty local zone', () => {
    expect(() => fixture([ep('a')], { localZone: '' })).toThrow(
      expect.objectContaining({ code: 'TRL_BALANCE_INVALID_PARAMS', path: 'localZone' }),
    );
  });

  it('rejects invalid params', () => {
    expect(() => fixture([ep('a')], { outlier: { baseEjectionTimeMs: -1 } })).toThrow(
      expect.objectContaining({ path: 'outlier.baseEjectionTimeMs' }),
    );
  });

  it('has no candidates when empty', () => {
    const { set } = fixture([]);
    expect(set.candidates()).toEqual([]);
    expect(set.mode).toBe('empty');
  });
});

describe('EndpointSet readiness', () => {
  it('routes only to ready, non-terminating endpoints', () => {
    const { set } = fixture([
      ep('a'),
      ep('b', { ready: false }),
      ep('c', { ready: false, serving: true, terminating: true }),
      ep('d'),
    ]);
    expect(ids(set.candidates())).toEqual(['a', 'd']);
    expect(set.readinessFallback).toBe(false);
    expect(set.mode).toBe('normal');
  });

  it('falls back to serving endpoints, terminating ones included, when none is ready', () => {
    const { set } = fixture([
      ep('a', { ready: false, serving: false }),
      ep('b', { ready: false, serving: true, terminating: true }),
      ep('c', { ready: false, serving: true }),
    ]);
    expect(ids(set.candidates())).toEqual(['b', 'c']);
    expect(set.readinessFallback).toBe(true);
  });

  it('in panic, routes to every non-terminating endpoint when nothing is ready or serving', () => {
    const { set } = fixture([
      ep('a', { ready: false, serving: false }),
      ep('b', { ready: false, serving: false, terminating: true }),
      ep('c', { ready: false, serving: false }),
    ]);
    expect(ids(set.candidates())).toEqual(['a', 'c']);
    expect(set.mode).toBe('panic');
  });

  it('has no candidates when nothing is ready or serving and panic is disabled', () => {
    const { set } = fixture([ep('a', { ready: false, serving: false })], {
      balance: { panicThresholdPercent: 0 },
    });
    expect(set.candidates()).toEqual([]);
    expect(set.mode).toBe('empty');
  });
});

describe('EndpointSet zones', () => {
  const zoned = [
    ep('a1', { zone: 'a' }),
    ep('a2', { zone: 'a' }),
    ep('a3', { zone: 'a' }),
    ep('b1', { zone: 'b' }),
    ep('n1'),
  ];

  it('prefers the local zone while enough of it is available', () => {
    const { set } = fixture(zoned, { localZone: 'a' });
    expect(ids(set.candidates())).toEqual(['a1', 'a2', 'a3']);
    expect(set.mode).toBe('local-zone');
  });

  it('falls back to all zones when under the local minimum (2 of 3 < 70%)', () => {
    const endpoints = zoned.map((e) => (e.id === 'a2' ? { ...e, ready: false } : e));
    const { set } = fixture(endpoints, { localZone: 'a' });
    expect(ids(set.candidates())).toEqual(['a1', 'a3', 'b1', 'n1']);
    expect(set.mode).toBe('normal');
  });

  it('keeps the local zone at exactly the minimum (2 of 3 ≥ 66%)', () => {
    const endpoints = zoned.map((e) => (e.id === 'a2' ? { ...e, ready: false } : e));
    const { set } = fixture(endpoints, {
      localZone: 'a',
      balance: { zoneMinAvailablePercent: 66 },
    });
    expect(ids(set.candidates())).toEqual(['a1', 'a3']);
  });

  it('does not count terminating local endpoints as missing', () => {
    const endpoints = zoned.map((e) => (e.id === 'a2' ? { ...e, terminating: true } : e));
    const { set } = fixture(endpoints, { localZone: 'a' });
    expect(ids(set.candidates())).toEqual(['a1', 'a3']);
  });

  it('uses all zones when the local zone has no endpoint', () => {
    const { set } = fixture(zoned, { localZone: 'c' });
    expect(ids(set.candidates())).toEqual(['a1', 'a2', 'a3', 'b1', 'n1']);
  });

  it('leaves the local zone when ejections push it under the minimum', () => {
    const { set } = fixture(zoned, { localZone: 'a', outlier: { maxEjectionPercent: 100 } });
    fail(set, 'a1');
    expect(ids(set.candidates())).toEqual(['a2', 'a3', 'b1', 'n1']);
  });
});

describe('EndpointSet outlier ejection', () => {
  it('removes an ejected endpoint from the candidates and bumps the version', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c')]);
    const before = set.version;
    fail(set, 'b');
    expect(ids(set.candidates())).toEqual(['a', 'c']);
    expect(set.get('b')?.ejected).toBe(true);
    expect(set.version).toBeGreaterThan(before);
  });

  it('returns the endpoint when its ejection time passes on the clock', () => {
    const { set, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    fail(set, 'b');
    clock.advance(29_999);
    expect(ids(set.candidates())).toEqual(['a', 'c']);
    clock.advance(1);
    expect(ids(set.candidates())).toEqual(['a', 'b', 'c']);
    expect(set.get('b')?.ejected).toBe(false);
  });

  it('ejects for longer the second time', () => {
    const { set, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    fail(set, 'b');
    clock.advance(30_000);
    set.candidates();
    fail(set, 'b');
    expect(set.get('b')?.outlier.ejectedUntil).toBe(30_000 + 60_000);
  });

  it('never ejects more than the max percentage beyond the first', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c'), ep('d')], {
      outlier: { maxEjectionPercent: 25 },
    });
    fail(set, 'a');
    fail(set, 'b');
    expect(set.get('a')?.ejected).toBe(true);
    expect(set.get('b')?.ejected).toBe(false);
    expect(ids(set.candidates())).toEqual(['b', 'c', 'd']);
  });

  it('frees the ejection budget when an ejection ends', () => {
    const { set, clock } = fixture([ep('a'), ep('b'), ep('c'), ep('d')], {
      outlier: { maxEjectionPercent: 25 },
    });
    fail(set, 'a');
    clock.advance(30_000);
    fail(set, 'b');
    expect(set.get('a')?.ejected).toBe(false);
    expect(set.get('b')?.ejected).toBe(true);
  });

  it('enters panic and routes to all routable endpoints when too few are healthy', () => {
    const { set } = fixture([ep('a'), ep('b'), ep('c'), ep('d')], {
      outlier: { maxEjectionPercent: 100 },
    });
    fail(set, 'a');
    fail(set, 'b');
    expect(set.mode).toBe('normal');
    expect(ids(set.candidates())).toEqual(['c', 'd']);
    fail(set, 'c');
    expect(set.mode).toBe('panic');
    expect(ids(set.candidates())).toEqual(['a', 'b', 'c', 'd']);
  });

  it('routes to every endpoint in panic when all are ejected', () => {
    const { set } = fixture([ep('a'), ep('b')], { outlier: { maxEjectionPercent: 100 } });
    fail(set, 'a');
    fail(set, 'b');
    expect(set.mode).toBe('panic');
    expect(ids(set.candidates())).toEqual(['a', 'b']);
  });

  it('has no candidates when all are ejected and panic is disabled', () => {
    const { set } = fixture([ep('a'), ep('b')], {
      outlier: { maxEjectionPercent: 100 },
      balance: { panicThresholdPercent: 0 },
    });
    fail(set, 'a');
    fail(set, 'b');
    expect(set.mode).toBe('empty');
    expect(set.candidates()).toEqual([]);
  });

  it('leaves panic when ejections end', () => {
    const { set, clock } = fixture([ep('a'), ep('b')], { outlier: { maxEjectionPercent: 100 } });
    fail(set, 'a');
    clock.advance(10_000);
    fail(set, 'b');
    clock.advance(20_000);
    expect(ids(set.candidates())).toEqual(['a']);
    expect(set.mode).toBe('normal');
  });
});

describe('EndpointSet leases', () => {
  it('counts active requests from start to end', () => {
    const { set } = fixture([ep('a')]);
    const a = set.get('a') as EndpointState;
    const first = set.start(a);
    const second = set.start(a);
    expect(a.active).toBe(2);
    first.end({ outcome: 'success', latencyMs: 5 });
    expect(a.active).toBe(1);
    second.end({ outcome: '5xx', latencyMs: 5 });
    expect(a.active).toBe(0);
    expect([a.successes, a.failures]).toEqual([1, 1]);
  });

  it('ignores a second end', () => {
    const { set } = fixture([ep('a')]);
    const a = set.get('a') as EndpointState;
    set.start(a);
    const lease = set.start(a);
    expect(lease.end({ outcome: '5xx', latencyMs: 5 })).toBe(true);
    expect(lease.end({ outcome: 'success', latencyMs: 5 })).toBe(false);
    expect(lease.ended).toBe(true);
    expect([a.active, a.successes, a.failures, a.outlier.consecutive5xx]).toEqual([1, 0, 1, 1]);
  });

  it('feeds the RTT estimate with responses and timeouts', () => {
    const { set, clock } = fixture([ep('a')]);
    const a = set.get('a') as EndpointState;
    set.start(a).end({ outcome: 'success', latencyMs: 80 });
    expect(a.ewma.read(clock.now(), 10_000)).toBe(80);
    set.start(a).end({ outcome: 'timeout', latencyMs: 1000 });
    expect(a.ewma.read(clock.now(), 10_000)).toBe(1000);
    expect(a.ewma.samples).toBe(2);
  });

  it('keeps connect failures, resets and invalid latencies out of the RTT estimate', () => {
    const { set } = fixture([ep('a')]);
    const a = set.get('a') as EndpointState;
    set.start(a).end({ outcome: 'connect-failure', latencyMs: 2 });
    set.start(a).end({ outcome: 'reset', latencyMs: 3 });
    set.start(a).end({ outcome: 'success', latencyMs: Number.NaN });
    set.start(a).end({ outcome: 'success', latencyMs: -1 });
    expect(a.ewma.samples).toBe(0);
    expect(a.ewma.read(0, 10_000)).toBe(30);
  });
});

describe('EndpointSet rebuild from previous', () => {
  it('carries state over by id and creates fresh state for new endpoints', () => {
    const { set: first, clock } = fixture([ep('a'), ep('b')]);
    const next = new EndpointSet({ endpoints: [ep('b'), ep('c')], clock, previous: first });
    expect(next.get('b')).toBe(first.get('b'));
    expect(next.get('c')).not.toBe(undefined);
    expect(next.get('a')).toBeUndefined();
  });

  it('updates the carried endpoint record (weight, conditions)', () => {
    const { set: first, clock } = fixture([ep('a')]);
    const next = new EndpointSet({
      endpoints: [ep('a', { weight: 7, zone: 'z' })],
      clock,
      previous: first,
    });
    expect(next.get('a')?.weight).toBe(7);
    expect(next.get('a')?.endpoint.zone).toBe('z');
  });

  it('keeps an ejection across the rebuild', () => {
    const { set: first, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    fail(first, 'a');
    clock.advance(1000);
    const next = new EndpointSet({
      endpoints: [ep('a'), ep('b'), ep('c')],
      clock,
      previous: first,
    });
    expect(ids(next.candidates())).toEqual(['b', 'c']);
    clock.advance(29_000);
    expect(ids(next.candidates())).toEqual(['a', 'b', 'c']);
  });

  it('keeps in-flight counts and settles old leases into the new set', () => {
    const { set: first, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    const a = first.get('a') as EndpointState;
    const leases = Array.from({ length: 5 }, () => first.start(a));
    const next = new EndpointSet({
      endpoints: [ep('a'), ep('b'), ep('c')],
      clock,
      previous: first,
    });
    expect(next.get('a')?.active).toBe(5);
    for (const lease of leases) lease.end({ outcome: '5xx', latencyMs: 1 });
    expect(next.get('a')?.active).toBe(0);
    expect(ids(next.candidates())).toEqual(['b', 'c']);
  });

  it('drains a terminating endpoint: no new requests, in-flight ones still settle', () => {
    const { set: first, clock } = fixture([ep('a'), ep('b')]);
    const lease = first.start(first.get('a') as EndpointState);
    const next = new EndpointSet({
      endpoints: [ep('a', { ready: false, terminating: true }), ep('b')],
      clock,
      previous: first,
    });
    expect(ids(next.candidates())).toEqual(['b']);
    expect(next.snapshot().endpoints[0]?.activeRequests).toBe(1);
    lease.end({ outcome: 'success', latencyMs: 3 });
    expect(next.snapshot().endpoints[0]).toMatchObject({
      id: 'a',
      terminating: true,
      candidate: false,
      activeRequests: 0,
      successes: 1,
    });
  });

  it('leaves the previous set intact when the new one is rejected', () => {
    const { set: first, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    const a = first.get('a') as EndpointState;
    const leases = Array.from({ length: 5 }, () => first.start(a));
    expect(
      () => new EndpointSet({ endpoints: [ep('a'), ep('a')], clock, previous: first }),
    ).toThrow(BalanceError);
    for (const lease of leases) lease.end({ outcome: '5xx', latencyMs: 1 });
    expect(ids(first.candidates())).toEqual(['b', 'c']);
  });

  it('releases at build time an ejection that ended before the rebuild', () => {
    const { set: first, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    fail(first, 'a');
    clock.advance(45_000);
    const next = new EndpointSet({
      endpoints: [ep('a'), ep('b'), ep('c')],
      clock,
      previous: first,
    });
    expect(ids(next.candidates())).toEqual(['a', 'b', 'c']);
    expect(next.get('a')?.outlier.unejectedAt).toBe(30_000);
  });
});

describe('EndpointSet snapshot', () => {
  it('reports plain per-endpoint data', () => {
    const clock = new FakeClock(1000);
    const { set } = fixture(
      [ep('10.0.0.1:80', { address: '10.0.0.1', port: 80, zone: 'z1', weight: 3 }), ep('b')],
      {},
      clock,
    );
    const a = set.get('10.0.0.1:80') as EndpointState;
    set.start(a).end({ outcome: 'success', latencyMs: 40 });
    set.start(a).end({ outcome: '5xx', latencyMs: 20 });
    set.start(a);
    clock.advance(10_000);
    expect(set.snapshot()).toEqual({
      at: 11_000,
      mode: 'normal',
      readinessFallback: false,
      candidates: 2,
      ejected: 0,
      endpoints: [
        {
          id: '10.0.0.1:80',
          address: '10.0.0.1',
          port: 80,
          zone: 'z1',
          weight: 3,
          ready: true,
          serving: true,
          terminating: false,
          candidate: true,
          activeRequests: 1,
          ewmaMs: 40 * Math.exp(-1),
          rttSamples: 2,
          ejected: false,
          ejectedUntil: null,
          timesEjected: 0,
          totalEjections: 0,
          consecutive5xx: 1,
          consecutiveGatewayErrors: 0,
          successes: 1,
          failures: 1,
        },
        expect.objectContaining({ id: 'b', zone: null, ewmaMs: 30 * Math.exp(-1) }),
      ],
    });
  });

  it('reports ejections', () => {
    const { set, clock } = fixture([ep('a'), ep('b'), ep('c')]);
    clock.advance(500);
    fail(set, 'a', 'gateway-error');
    expect(set.snapshot().endpoints[0]).toMatchObject({
      candidate: false,
      ejected: true,
      ejectedUntil: 30_500,
      timesEjected: 1,
      totalEjections: 1,
      failures: 5,
    });
    expect(set.snapshot().ejected).toBe(1);
  });

  it('does not re-anchor the RTT estimate', () => {
    const { set, clock } = fixture([ep('a')]);
    const a = set.get('a') as EndpointState;
    set.start(a).end({ outcome: 'success', latencyMs: 100 });
    clock.advance(10_000);
    set.snapshot();
    set.start(a).end({ outcome: 'success', latencyMs: 20 });
    const d = Math.exp(-1);
    expect(a.ewma.read(clock.now(), 10_000)).toBeCloseTo(100 * d + 20 * (1 - d), 12);
  });
});
