import { describe, expect, it } from 'vitest';
import type { PickContext } from './balancer.js';
import type { Endpoint } from './endpoint.js';
import type { EndpointState } from './endpoint-state.js';
import { BalanceError } from './errors.js';
import { buildMaglevTable, DEFAULT_MAGLEV_TABLE_SIZE, MaglevBalancer } from './maglev-balancer.js';
import { ep, fixture, seededRandom, tally } from './testing/fixtures.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
const noRandom = (): number => {
  throw new Error('a keyed pick must not use randomness');
};

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => ep(`10.1.${i >> 8}.${i & 255}:8080`));
}

/** The endpoint id each key maps to. */
function mapping(balancer: MaglevBalancer, keys: readonly string[] = KEYS): string[] {
  const ctx: { hashKey: string; random: () => number } = { hashKey: '', random: noRandom };
  return keys.map((key) => {
    ctx.hashKey = key;
    return (balancer.pick(ctx) as EndpointState).id;
  });
}

function slotCounts(table: Uint32Array): number[] {
  const counts: number[] = [];
  for (const owner of table) counts[owner] = (counts[owner] ?? 0) + 1;
  return counts;
}

describe('buildMaglevTable', () => {
  it('fills every slot and gives equal weights equal shares (±1 slot)', () => {
    const ids = endpoints(10).map((e) => e.id);
    const counts = slotCounts(buildMaglevTable(ids, new Array<number>(10).fill(1), 65_537));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(65_537);
    expect(Math.min(...counts)).toBe(6553);
    expect(Math.max(...counts)).toBe(6554);
  });

  it('gives shares proportional to weight', () => {
    const counts = slotCounts(buildMaglevTable(['a', 'b', 'c'], [3, 1, 2], 6007));
    // 6007 × 3/6, 1/6, 2/6 = 3003.5, 1001.2, 2002.3
    expect(Math.abs((counts[0] as number) - 3003.5)).toBeLessThanOrEqual(2);
    expect(Math.abs((counts[1] as number) - 1001.2)).toBeLessThanOrEqual(2);
    expect(Math.abs((counts[2] as number) - 2002.3)).toBeLessThanOrEqual(2);
  });
});

describe('MaglevBalancer', () => {
  it('maps a key to the same endpoint every time', () => {
    const { set } = fixture(endpoints(5));
    const balancer = new MaglevBalancer(set);
    const first = balancer.pick({ hashKey: 'session-1', random: noRandom })?.id;
    for (let i = 0; i < 100; i++) {
      expect(balancer.pick({ hashKey: 'session-1', random: noRandom })?.id).toBe(first);
    }
  });

  it('maps keys identically whatever the discovery order', () => {
    const list = endpoints(8);
    const forward = new MaglevBalancer(fixture(list).set);
    const reversed = new MaglevBalancer(fixture([...list].reverse()).set);
    expect(mapping(reversed)).toEqual(mapping(forward));
  });

  it('spreads keys evenly (each endpoint within 8% of the mean)', () => {
    const counts = tally(mapping(new MaglevBalancer(fixture(endpoints(10)).set)));
    expect(Object.keys(counts)).toHaveLength(10);
    for (const count of Object.values(counts)) expect(Math.abs(count - 2000)).toBeLessThan(160);
  });

  it.each([5, 10, 50, 100])(
    'moves at most 1/n + 1%% of keys when one of %i endpoints is removed',
    (n) => {
      const list = endpoints(n);
      const removed = list[Math.floor(n / 2)] as Endpoint;
      const before = mapping(new MaglevBalancer(fixture(list).set));
      const after = mapping(new MaglevBalancer(fixture(list.filter((e) => e !== removed)).set));
      let moved = 0;
      let movedFromOthers = 0;
      for (let k = 0; k < KEYS.length; k++) {
        if (before[k] === after[k]) continue;
        moved++;
        if (before[k] !== removed.id) movedFromOthers++;
      }
      expect(after).not.toContain(removed.id);
      expect(moved / KEYS.length).toBeLessThanOrEqual(1 / n + 0.01);
      expect(movedFromOthers / KEYS.length).toBeLessThanOrEqual(0.01);
    },
  );

  it('reroutes an ejected endpoint’s keys and restores them when it returns', () => {
    const { set, clock } = fixture(endpoints(10));
    const balancer = new MaglevBalancer(set);
    const before = mapping(balancer);
    const victim = set.endpoints[3] as EndpointState;
    for (let i = 0; i < 5; i++) set.start(victim).end({ outcome: '5xx', latencyMs: 1 });
    const during = mapping(balancer);
    expect(during).not.toContain(victim.id);
    const movedFromOthers = before.filter((id, k) => id !== victim.id && id !== during[k]);
    expect(movedFromOthers.length / KEYS.length).toBeLessThanOrEqual(0.01);
    clock.advance(30_000);
    expect(mapping(balancer)).toEqual(before);
  });

  it('picks a weighted random slot when there is no key', () => {
    const { set } = fixture([ep('a', { weight: 3 }), ep('b')]);
    const balancer = new MaglevBalancer(set);
    const ctx: PickContext = { random: seededRandom(5) };
    const counts = tally(Array.from({ length: 40_000 }, () => balancer.pick(ctx)?.id));
    expect(Math.abs((counts['a'] ?? 0) - 30_000)).toBeLessThan(600);
  });

  it('accepts a smaller prime table', () => {
    const { set } = fixture([ep('a'), ep('b')]);
    const balancer = new MaglevBalancer(set, { tableSize: 7 });
    expect(['a', 'b']).toContain(balancer.pick({ hashKey: 'k', random: noRandom })?.id);
  });

  it('rejects a table size that is not prime', () => {
    const { set } = fixture([ep('a')]);
    expect(() => new MaglevBalancer(set, { tableSize: 65_536 })).toThrow(
      expect.objectContaining({ code: 'TRL_BALANCE_INVALID_PARAMS', path: 'maglev.tableSize' }),
    );
    expect(() => new MaglevBalancer(set, { tableSize: 1 })).toThrow(BalanceError);
  });

  it('defaults to Envoy’s table size', () => {
    expect(DEFAULT_MAGLEV_TABLE_SIZE).toBe(65_537);
  });

  it('returns undefined for an empty set', () => {
    const { set } = fixture([]);
    expect(new MaglevBalancer(set).pick({ hashKey: 'k', random: noRandom })).toBeUndefined();
  });
});
