import { describe, expect, it } from 'vitest';
import { decodeTelemetrySummary } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { DestinationWindows } from './destination-window.js';
import { SummaryPublisher } from './summary-publisher.js';

const identity = { namespace: 'shop', pod: 'web-1', service: 'web' };
const WALL = Date.parse('2026-11-25T16:00:00.000Z');

function setup(publish: (payload: Uint8Array) => boolean, intervalMs?: number) {
  const clock = new FakeClock(0);
  const windows = new DestinationWindows({ clock, identity });
  const warnings: object[] = [];
  const publisher = new SummaryPublisher({
    windows,
    identity,
    publish,
    clock,
    wallClock: () => WALL + clock.now(),
    intervalMs,
    log: { warn: (fields) => void warnings.push(fields) },
  });
  return { clock, windows, publisher, warnings };
}

describe('SummaryPublisher', () => {
  it('publishes the encoded summary every interval', () => {
    const sent: Uint8Array[] = [];
    const { clock, windows, publisher } = setup((p) => sent.push(p) > 0, 5_000);
    publisher.start();
    windows.observe('outbound', 'catalog.shop:8080', true, 1);
    clock.advance(4_999);
    expect(sent).toHaveLength(0);
    clock.advance(1);
    expect(sent).toHaveLength(1);
    expect(decodeTelemetrySummary(sent[0]!)).toEqual({
      v: 1,
      proxy: identity,
      at: '2026-11-25T16:00:05.000Z',
      windowSeconds: 10,
      destinations: [
        {
          direction: 'outbound',
          service: 'catalog.shop',
          requests: 1,
          failures: 0,
          rps: 0.1,
          successRate: 1,
          p50Ms: 1.008,
          p95Ms: 1.008,
          p99Ms: 1.008,
          latency: [111, 1],
        },
      ],
      edges: [{ from: 'web.shop', to: 'catalog.shop', requests: 1, failures: 0 }],
    });
    clock.advance(5_000);
    expect(sent).toHaveLength(2);
    expect(publisher.counters).toEqual({ published: 2, skipped: 0, failed: 0 });
  });

  it('publishes an idle window too, so receivers see the traffic stop', () => {
    const sent: Uint8Array[] = [];
    const { clock, publisher } = setup((p) => sent.push(p) > 0);
    publisher.start();
    clock.advance(5_000);
    expect(decodeTelemetrySummary(sent[0]!).destinations).toEqual([]);
  });

  it('counts a summary NATS could not take as skipped and goes on', () => {
    let up = false;
    const { clock, publisher } = setup(() => up);
    publisher.start();
    clock.advance(5_000);
    up = true;
    clock.advance(5_000);
    expect(publisher.counters).toEqual({ published: 1, skipped: 1, failed: 0 });
  });

  it('never throws when publishing fails, and logs why', () => {
    const { clock, publisher, warnings } = setup(() => {
      throw new Error('connection draining');
    });
    publisher.start();
    clock.advance(10_000);
    expect(publisher.counters).toEqual({ published: 0, skipped: 0, failed: 2 });
    expect(warnings[0]).toEqual({
      code: 'TRL_TELEMETRY_PUBLISH_FAILED',
      reason: 'connection draining',
    });
  });

  it('stops publishing once stopped', () => {
    const sent: Uint8Array[] = [];
    const { clock, publisher } = setup((p) => sent.push(p) > 0);
    publisher.start();
    clock.advance(5_000);
    publisher.stop();
    clock.advance(20_000);
    expect(sent).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a non-positive interval', () => {
    expect(() => setup(() => true, 0)).toThrow(RangeError);
  });
});
