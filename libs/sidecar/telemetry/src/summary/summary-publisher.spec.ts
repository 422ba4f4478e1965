import { describe, expect, it } from 'vitest';
import { decodeTelemetrySummary } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { DestinationWindows } from './destination-window.js';
import { SummaryPublisher } from './summary-publisher.js';
import type { WindowSummary } from './window-contents.js';

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

const stats = (requests: number) => ({
  direction: 'outbound',
  service: '__unrouted__',
  requests,
  failures: 0,
  rps: requests / 10,
  successRate: 1,
  p50Ms: 1.008,
  p95Ms: 1.008,
  p99Ms: 1.008,
  latency: [111, requests],
});
const summaryOf = (requests: number): WindowSummary => ({
  windowSeconds: 10,
  destinations: [stats(requests)],
  edges: [],
});

/** Lets the publisher's promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A publisher over a source that answers when the test says (as a --concurrency primary's). */
function gathering() {
  const clock = new FakeClock(0);
  const sent: Uint8Array[] = [];
  const warnings: object[] = [];
  const waiting: { resolve(s: WindowSummary): void; reject(e: Error): void }[] = [];
  let asked = 0;
  const publisher = new SummaryPublisher({
    windows: {
      summarize: () => {
        asked++;
        return new Promise<WindowSummary>((resolve, reject) => waiting.push({ resolve, reject }));
      },
    },
    identity,
    publish: (p) => sent.push(p) > 0,
    clock,
    wallClock: () => WALL + clock.now(),
    log: { warn: (fields) => void warnings.push(fields) },
  });
  const answer = {
    next: (s: WindowSummary) => waiting.shift()?.resolve(s),
    fail: (e: Error) => waiting.shift()?.reject(e),
  };
  return { clock, publisher, sent, warnings, answer, asked: () => asked };
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

  it('publishes a gathered summary once its source has answered, on the same schedule', async () => {
    const { clock, publisher, sent, answer } = gathering();
    publisher.start();
    clock.advance(5_000);
    expect(sent).toHaveLength(0);
    answer.next(summaryOf(3));
    await settle();
    expect(sent.map((p) => decodeTelemetrySummary(p))).toEqual([
      {
        v: 1,
        proxy: identity,
        at: '2026-11-25T16:00:05.000Z',
        windowSeconds: 10,
        destinations: [stats(3)],
        edges: [],
      },
    ]);
    clock.advance(5_000);
    answer.next(summaryOf(4));
    await settle();
    expect(sent.map((p) => decodeTelemetrySummary(p).destinations[0]?.requests)).toEqual([3, 4]);
    expect(publisher.counters).toEqual({ published: 2, skipped: 0, failed: 0 });
  });

  it('skips a round while the previous one is still gathering', async () => {
    const { clock, publisher, sent, answer, asked } = gathering();
    publisher.start();
    clock.advance(10_000);
    expect(asked()).toBe(1);
    answer.next(summaryOf(1));
    await settle();
    expect(sent).toHaveLength(1);
    expect(publisher.counters).toEqual({ published: 1, skipped: 1, failed: 0 });
    clock.advance(5_000);
    expect(asked()).toBe(2);
  });

  it('counts a gathering that failed, logs why, and goes on', async () => {
    const { clock, publisher, sent, answer, warnings } = gathering();
    publisher.start();
    clock.advance(5_000);
    answer.fail(new Error('no worker answered'));
    await settle();
    expect(publisher.counters).toEqual({ published: 0, skipped: 0, failed: 1 });
    expect(warnings).toEqual([
      { code: 'TRL_TELEMETRY_PUBLISH_FAILED', reason: 'no worker answered' },
    ]);
    clock.advance(5_000);
    answer.next(summaryOf(2));
    await settle();
    expect(sent).toHaveLength(1);
  });

  it('sends nothing gathered after it was stopped', async () => {
    const { clock, publisher, sent, answer } = gathering();
    publisher.start();
    clock.advance(5_000);
    publisher.stop();
    answer.next(summaryOf(1));
    await settle();
    expect(sent).toHaveLength(0);
  });

  it('answers summary() with a promise when the source gathers', async () => {
    const { publisher, answer } = gathering();
    const summary = publisher.summary();
    answer.next(summaryOf(5));
    expect((await summary).destinations).toEqual([stats(5)]);
  });

  it('refuses a non-positive interval', () => {
    expect(() => setup(() => true, 0)).toThrow(RangeError);
  });
});
