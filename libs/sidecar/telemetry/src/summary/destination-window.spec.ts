import { describe, expect, it } from 'vitest';
import { FakeClock } from '@trellis/time';
import { completedRequest } from '../testing.js';
import { DestinationWindows } from './destination-window.js';
import { OVERFLOW_SERVICE, UNROUTED_SERVICE } from './window-contents.js';

const identity = { namespace: 'shop', pod: 'web-1', service: 'web' };

function windows(options: { windowSeconds?: number; maxDestinations?: number } = {}) {
  const clock = new FakeClock(1_000_000);
  return { clock, w: new DestinationWindows({ clock, identity, ...options }) };
}

describe('DestinationWindows', () => {
  it('reports nothing before a second has completed', () => {
    const { w } = windows();
    w.observe('outbound', 'catalog.shop:8080', true, 5);
    expect(w.summarize().destinations).toEqual([]);
  });

  it('sums a destination over the complete seconds of the window', () => {
    const { clock, w } = windows();
    for (let i = 0; i < 20; i++) w.observe('outbound', 'catalog.shop:8080', i % 10 !== 0, 1);
    clock.advance(1_000);
    for (let i = 0; i < 10; i++) w.observe('outbound', 'catalog.shop:8080', true, 2);
    clock.advance(1_000);
    expect(w.summarize()).toEqual({
      windowSeconds: 10,
      destinations: [
        {
          direction: 'outbound',
          service: 'catalog.shop',
          requests: 30,
          failures: 2,
          rps: 3,
          successRate: 0.9333,
          p50Ms: 1.008,
          p95Ms: 2.016,
          p99Ms: 2.016,
          latency: [111, 20, 127, 10],
        },
      ],
      edges: [{ from: 'web.shop', to: 'catalog.shop', requests: 30, failures: 2 }],
    });
  });

  it('leaves the second in progress out', () => {
    const { clock, w } = windows();
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    clock.advance(1_000);
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    expect(w.summarize().destinations.map((d) => d.requests)).toEqual([1]);
  });

  it('drops seconds that slid out of the window', () => {
    const { clock, w } = windows({ windowSeconds: 3 });
    w.observe('outbound', 'catalog.shop:8080', false, 1);
    clock.advance(1_000);
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    clock.advance(3_000);
    const [stats] = w.summarize().destinations;
    expect([stats?.requests, stats?.failures, stats?.rps]).toEqual([1, 0, 0.3333]);
  });

  it('reuses a ring slot for a later second without carrying its old counts', () => {
    const { clock, w } = windows({ windowSeconds: 2 });
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    clock.advance(3_000);
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    clock.advance(1_000);
    expect(w.summarize().destinations.map((d) => d.requests)).toEqual([2]);
  });

  it('merges the ports of one service into one destination', () => {
    const { clock, w } = windows();
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    w.observe('outbound', 'catalog.shop:9090', true, 1);
    clock.advance(1_000);
    expect(w.summarize().destinations.map((d) => [d.service, d.requests])).toEqual([
      ['catalog.shop', 2],
    ]);
  });

  it('sends inbound requests to the local service and draws no edge for them', () => {
    const { clock, w } = windows();
    w.observe('inbound', undefined, true, 1);
    clock.advance(1_000);
    const summary = w.summarize();
    expect(summary.destinations.map((d) => [d.direction, d.service])).toEqual([
      ['inbound', 'web.shop'],
    ]);
    expect(summary.edges).toEqual([]);
  });

  it('counts requests without a destination as unrouted, outside the graph', () => {
    const { clock, w } = windows();
    w.observe('outbound', undefined, true, 1);
    clock.advance(1_000);
    const summary = w.summarize();
    expect(summary.destinations.map((d) => d.service)).toEqual([UNROUTED_SERVICE]);
    expect(summary.edges).toEqual([]);
  });

  it('names a proxy without a service by its pod in the edges', () => {
    const clock = new FakeClock(0);
    const w = new DestinationWindows({
      clock,
      identity: { namespace: 'edge', pod: 'gw-1', service: '' },
    });
    w.observe('gateway', 'web.shop:80', true, 1);
    clock.advance(1_000);
    expect(w.summarize().edges).toEqual([
      { from: 'gw-1.edge', to: 'web.shop', requests: 1, failures: 0 },
    ]);
  });

  it('folds services beyond the cap into __overflow__', () => {
    const { clock, w } = windows({ maxDestinations: 2 });
    for (const name of ['a', 'b', 'c', 'd']) w.observe('outbound', `${name}.shop:80`, true, 1);
    clock.advance(1_000);
    const summary = w.summarize();
    expect(summary.destinations.map((d) => [d.service, d.requests])).toEqual([
      [OVERFLOW_SERVICE, 2],
      ['a.shop', 1],
      ['b.shop', 1],
    ]);
    expect(summary.edges.map((e) => e.to)).toEqual(['a.shop', 'b.shop']);
  });

  it('forgets a destination idle for a whole window, making room under the cap', () => {
    const { clock, w } = windows({ windowSeconds: 2, maxDestinations: 1 });
    w.observe('outbound', 'a.shop:80', true, 1);
    clock.advance(3_000);
    expect(w.summarize().destinations).toEqual([]);
    w.observe('outbound', 'b.shop:80', true, 1);
    clock.advance(1_000);
    expect(w.summarize().destinations.map((d) => d.service)).toEqual(['b.shop']);
  });

  it('classifies a completed request with the shared success rule', () => {
    const { clock, w } = windows();
    w.record(completedRequest({ status: 503, durationMs: 3 }), 'outbound');
    w.record(completedRequest({ status: 200, grpcStatus: '14' }), 'outbound');
    w.record(completedRequest({ status: 200, grpcStatus: '5' }), 'outbound');
    clock.advance(1_000);
    const [stats] = w.summarize().destinations;
    expect([stats?.service, stats?.requests, stats?.failures]).toEqual(['catalog.shop', 3, 2]);
  });

  it('hands out its complete seconds as plain data, youngest first', () => {
    const { clock, w } = windows({ windowSeconds: 3 });
    w.observe('outbound', 'catalog.shop:8080', false, 2);
    clock.advance(1_000);
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    w.observe('inbound', undefined, true, 1);
    clock.advance(1_000);
    w.observe('outbound', 'catalog.shop:8080', true, 1);
    expect(w.contents()).toEqual({
      windowSeconds: 3,
      series: [
        {
          direction: 'inbound',
          service: 'web.shop',
          seconds: [{ age: 1, requests: 1, failures: 0, latency: [111, 1] }],
        },
        {
          direction: 'outbound',
          service: 'catalog.shop',
          seconds: [
            { age: 1, requests: 1, failures: 0, latency: [111, 1] },
            { age: 2, requests: 1, failures: 1, latency: [127, 1] },
          ],
        },
      ],
    });
  });

  it('forgets idle series when handing out its contents too', () => {
    const { clock, w } = windows({ windowSeconds: 2, maxDestinations: 1 });
    w.observe('outbound', 'a.shop:80', true, 1);
    clock.advance(3_000);
    expect(w.contents().series).toEqual([]);
    w.observe('outbound', 'b.shop:80', true, 1);
    clock.advance(1_000);
    expect(w.contents().series.map((s) => s.service)).toEqual(['b.shop']);
  });

  it('refuses a window that is not a whole number of seconds', () => {
    const clock = new FakeClock(0);
    expect(() => new DestinationWindows({ clock, identity, windowSeconds: 2.5 })).toThrow(
      RangeError,
    );
  });
});
