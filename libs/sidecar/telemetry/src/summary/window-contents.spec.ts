import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@trellis/time';
import { DestinationWindows } from './destination-window.js';
import {
  OVERFLOW_SERVICE,
  UNROUTED_SERVICE,
  mergeWindowContents,
  summarizeWindowContents,
} from './window-contents.js';
import type { WindowContents } from './window-contents.js';

const identity = { namespace: 'shop', pod: 'web-1', service: 'web' };

/** Windows on one fake clock: `workers` of them, plus one that sees every request. */
function fleet(workers: number, options: { maxDestinations?: number } = {}) {
  const clock = new FakeClock(1_000_000);
  const make = () => new DestinationWindows({ clock, identity, ...options });
  return { clock, workers: Array.from({ length: workers }, make), all: make() };
}

const second = (age: number, requests: number, failures: number, latency: number[]) => ({
  age,
  requests,
  failures,
  latency,
});

describe('mergeWindowContents', () => {
  it('merges two workers into what one window that saw every request holds', () => {
    const { clock, workers, all } = fleet(2);
    const [a, b] = workers as [DestinationWindows, DestinationWindows];
    const both = (
      w: DestinationWindows,
      direction: string,
      key: string | undefined,
      ok: boolean,
      ms: number,
    ) => {
      w.observe(direction, key, ok, ms);
      all.observe(direction, key, ok, ms);
    };
    for (let i = 0; i < 6; i++) both(a, 'outbound', 'catalog.shop:8080', true, 2);
    for (let i = 0; i < 2; i++) both(b, 'outbound', 'catalog.shop:8080', false, 40);
    both(b, 'inbound', undefined, true, 1);
    clock.advance(1_000);
    both(a, 'outbound', 'catalog.shop:9090', true, 1);
    both(b, 'gateway', 'catalog.shop:80', true, 1);
    both(b, 'outbound', undefined, false, 1);
    clock.advance(1_000);
    const merged = mergeWindowContents([a.contents(), b.contents()], { windowSeconds: 10 });
    expect(merged).toEqual(all.contents());
    expect(merged).toEqual({
      windowSeconds: 10,
      series: [
        { direction: 'gateway', service: 'catalog.shop', seconds: [second(1, 1, 0, [111, 1])] },
        { direction: 'inbound', service: 'web.shop', seconds: [second(2, 1, 0, [111, 1])] },
        {
          direction: 'outbound',
          service: UNROUTED_SERVICE,
          seconds: [second(1, 1, 1, [111, 1])],
        },
        {
          direction: 'outbound',
          service: 'catalog.shop',
          seconds: [second(1, 1, 0, [111, 1]), second(2, 8, 2, [127, 6, 195, 2])],
        },
      ],
    });
  });

  it('gives the summary of one window that saw every request', () => {
    const { clock, workers, all } = fleet(2);
    const [a, b] = workers as [DestinationWindows, DestinationWindows];
    for (let i = 0; i < 6; i++) a.observe('outbound', 'catalog.shop:8080', true, 2);
    for (let i = 0; i < 2; i++) b.observe('outbound', 'catalog.shop:8080', false, 40);
    for (let i = 0; i < 6; i++) all.observe('outbound', 'catalog.shop:8080', true, 2);
    for (let i = 0; i < 2; i++) all.observe('outbound', 'catalog.shop:8080', false, 40);
    clock.advance(1_000);
    const summary = DestinationWindows.summarizeMerged([a.contents(), b.contents()], {
      identity,
    });
    expect(summary).toEqual(all.summarize());
    expect(summary).toEqual({
      windowSeconds: 10,
      destinations: [
        {
          direction: 'outbound',
          service: 'catalog.shop',
          requests: 8,
          failures: 2,
          rps: 0.8,
          successRate: 0.75,
          p50Ms: 2.016,
          p95Ms: 39.936,
          p99Ms: 39.936,
          latency: [127, 6, 195, 2],
        },
      ],
      edges: [{ from: 'web.shop', to: 'catalog.shop', requests: 8, failures: 2 }],
    });
  });

  it('takes quantiles from the merged buckets, not from the workers’ quantiles', () => {
    const { clock, workers } = fleet(2);
    const [fast, slow] = workers as [DestinationWindows, DestinationWindows];
    for (let i = 0; i < 97; i++) fast.observe('outbound', 'catalog.shop:8080', true, 1);
    for (let i = 0; i < 3; i++) slow.observe('outbound', 'catalog.shop:8080', true, 40);
    clock.advance(1_000);
    const [stats] = DestinationWindows.summarizeMerged([fast.contents(), slow.contents()], {
      identity,
    }).destinations;
    // Rank 50 and 95 fall among the 97 fast requests, rank 99 among the 3 slow ones; averaging
    // the workers' p99 (1.008 and 39.936) would have said 20.472.
    expect([stats?.p50Ms, stats?.p95Ms, stats?.p99Ms]).toEqual([1.008, 1.008, 39.936]);
    expect(stats?.latency).toEqual([111, 97, 195, 3]);
  });

  it('lines seconds up by age, whatever each process’s clock reads', () => {
    const aClock = new FakeClock(5_500);
    const bClock = new FakeClock(987_654_321);
    const a = new DestinationWindows({ clock: aClock, identity });
    const b = new DestinationWindows({ clock: bClock, identity });
    a.observe('outbound', 'catalog.shop:80', true, 1);
    b.observe('outbound', 'catalog.shop:80', true, 1);
    b.observe('outbound', 'catalog.shop:80', true, 1);
    aClock.advance(1_000);
    bClock.advance(1_000);
    expect(mergeWindowContents([a.contents(), b.contents()], { windowSeconds: 10 }).series).toEqual(
      [{ direction: 'outbound', service: 'catalog.shop', seconds: [second(1, 3, 0, [111, 3])] }],
    );
  });

  it('leaves out seconds older than the merged window and seconds without requests', () => {
    const part: WindowContents = {
      windowSeconds: 10,
      series: [
        {
          direction: 'outbound',
          service: 'a.shop',
          seconds: [second(3, 1, 0, [111, 1]), second(4, 2, 0, [111, 2])],
        },
        { direction: 'outbound', service: 'b.shop', seconds: [second(1, 0, 0, [])] },
      ],
    };
    expect(mergeWindowContents([part], { windowSeconds: 3 })).toEqual({
      windowSeconds: 3,
      series: [{ direction: 'outbound', service: 'a.shop', seconds: [second(3, 1, 0, [111, 1])] }],
    });
  });

  it('adds up __unrouted__ and __overflow__ like any service, and draws no edge for them', () => {
    const { clock, workers } = fleet(2, { maxDestinations: 1 });
    const [a, b] = workers as [DestinationWindows, DestinationWindows];
    a.observe('outbound', 'a.shop:80', true, 1);
    a.observe('outbound', 'b.shop:80', true, 1);
    a.observe('outbound', undefined, true, 1);
    b.observe('outbound', 'a.shop:80', true, 1);
    b.observe('outbound', 'c.shop:80', true, 1);
    b.observe('outbound', undefined, false, 1);
    clock.advance(1_000);
    const summary = DestinationWindows.summarizeMerged([a.contents(), b.contents()], {
      identity,
      maxDestinations: 1,
    });
    expect(summary.destinations.map((d) => [d.service, d.requests, d.failures])).toEqual([
      [OVERFLOW_SERVICE, 2, 0],
      [UNROUTED_SERVICE, 2, 1],
      ['a.shop', 2, 0],
    ]);
    expect(summary.edges).toEqual([{ from: 'web.shop', to: 'a.shop', requests: 2, failures: 0 }]);
  });

  it('keeps the busiest services under the cap and folds the rest into __overflow__', () => {
    const { clock, workers } = fleet(2, { maxDestinations: 2 });
    const [a, b] = workers as [DestinationWindows, DestinationWindows];
    for (let i = 0; i < 3; i++) a.observe('outbound', 'a.shop:80', true, 1);
    a.observe('outbound', 'b.shop:80', true, 1);
    for (let i = 0; i < 5; i++) b.observe('outbound', 'c.shop:80', false, 2);
    b.observe('outbound', 'd.shop:80', true, 1);
    b.observe('inbound', undefined, true, 1);
    clock.advance(1_000);
    const merged = mergeWindowContents([a.contents(), b.contents()], {
      windowSeconds: 10,
      maxDestinations: 2,
    });
    expect(merged.series.map((s) => [s.direction, s.service, s.seconds])).toEqual([
      ['inbound', 'web.shop', [second(1, 1, 0, [111, 1])]],
      ['outbound', OVERFLOW_SERVICE, [second(1, 2, 0, [111, 2])]],
      ['outbound', 'a.shop', [second(1, 3, 0, [111, 3])]],
      ['outbound', 'c.shop', [second(1, 5, 5, [127, 5])]],
    ]);
    expect(summarizeWindowContents(merged, identity).edges.map((e) => e.to)).toEqual([
      'a.shop',
      'c.shop',
    ]);
  });

  it('breaks a tie at the cap by service name', () => {
    const part: WindowContents = {
      windowSeconds: 10,
      series: ['c.shop', 'a.shop', 'b.shop'].map((service) => ({
        direction: 'outbound',
        service,
        seconds: [second(1, 1, 0, [111, 1])],
      })),
    };
    const merged = mergeWindowContents([part], { windowSeconds: 10, maxDestinations: 2 });
    expect(merged.series.map((s) => s.service)).toEqual([OVERFLOW_SERVICE, 'a.shop', 'b.shop']);
  });

  it('merges no parts into an empty window', () => {
    expect(mergeWindowContents([], { windowSeconds: 10 })).toEqual({
      windowSeconds: 10,
      series: [],
    });
  });

  it('refuses a window that is not a whole number of seconds, or a cap below 1', () => {
    expect(() => mergeWindowContents([], { windowSeconds: 0 })).toThrow(
      'windowSeconds must be a whole number ≥ 1 (got 0)',
    );
    expect(() => mergeWindowContents([], { windowSeconds: 10, maxDestinations: 0.5 })).toThrow(
      'maxDestinations must be a whole number ≥ 1 (got 0.5)',
    );
  });

  it('equals one window for any requests spread over any number of workers', () => {
    const request = fc.record({
      worker: fc.nat(),
      direction: fc.constantFrom('outbound', 'inbound', 'gateway'),
      key: fc.constantFrom('a.shop:80', 'a.shop:81', 'b.shop:80', 'c.shop:80', undefined),
      ok: fc.boolean(),
      ms: fc.double({ min: 0, max: 60_000, noNaN: true }),
      advanceMs: fc.constantFrom(0, 0, 0, 250, 1_000, 3_700),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(request), (n, requests) => {
        const { clock, workers, all } = fleet(n);
        for (const r of requests) {
          workers[r.worker % n]!.observe(r.direction, r.key, r.ok, r.ms);
          all.observe(r.direction, r.key, r.ok, r.ms);
          clock.advance(r.advanceMs);
        }
        const parts = workers.map((w) => w.contents());
        expect(mergeWindowContents(parts, { windowSeconds: 10 })).toEqual(all.contents());
      }),
      { numRuns: 60 },
    );
  });
});

describe('summarizeWindowContents', () => {
  it('names a proxy without a service by its pod in the edges', () => {
    const contents: WindowContents = {
      windowSeconds: 2,
      series: [{ direction: 'gateway', service: 'web.shop', seconds: [second(2, 4, 1, [111, 4])] }],
    };
    expect(
      summarizeWindowContents(contents, { namespace: 'edge', pod: 'gw-1', service: '' }),
    ).toEqual({
      windowSeconds: 2,
      destinations: [
        {
          direction: 'gateway',
          service: 'web.shop',
          requests: 4,
          failures: 1,
          rps: 2,
          successRate: 0.75,
          p50Ms: 1.008,
          p95Ms: 1.008,
          p99Ms: 1.008,
          latency: [111, 4],
        },
      ],
      edges: [{ from: 'gw-1.edge', to: 'web.shop', requests: 4, failures: 1 }],
    });
  });
});
