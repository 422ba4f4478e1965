import { describe, expect, it } from 'vitest';
import { encodeTelemetrySummary, latencyBucketOf, subjects } from '@trellis/mesh-protocol';
import type { DestinationStats, TelemetrySummary } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { TelemetryAggregator } from './telemetry-aggregator.js';

/** A destination whose requests all took `ms`, `failures` of them failed. */
function dest(
  direction: string,
  service: string,
  requests: number,
  failures: number,
  ms: number,
): DestinationStats {
  return {
    direction,
    service,
    requests,
    failures,
    rps: requests / 10,
    successRate: (requests - failures) / requests,
    p50Ms: ms,
    p95Ms: ms,
    p99Ms: ms,
    latency: [latencyBucketOf(ms), requests],
  };
}

function summary(
  pod: string,
  service: string,
  destinations: DestinationStats[],
  windowSeconds = 10,
): TelemetrySummary {
  return {
    v: 1,
    proxy: { namespace: 'shop', pod, service },
    at: '2026-11-25T16:00:00.000Z',
    windowSeconds,
    destinations,
    edges: destinations
      .filter((d) => d.direction === 'outbound')
      .map((d) => ({
        from: `${service}.shop`,
        to: d.service,
        requests: d.requests,
        failures: d.failures,
      })),
  };
}

function setup() {
  const clock = new FakeClock(0);
  const warnings: object[] = [];
  const rejections: string[] = [];
  const aggregator = new TelemetryAggregator({
    clock,
    expireAfterMs: 15_000,
    log: { warn: (fields) => void warnings.push(fields) },
    onRejected: (code) => void rejections.push(code),
  });
  const send = (s: TelemetrySummary, subject = subjects.telemetry('shop', s.proxy.pod)) =>
    aggregator.accept(subject, encodeTelemetrySummary(s));
  return { clock, aggregator, warnings, rejections, send };
}

describe('TelemetryAggregator', () => {
  it('rolls one service up over its reporters: summed rate, pooled success, merged quantiles', () => {
    const { aggregator, send } = setup();
    // 90 fast requests from web-1 and 10 slow ones from web-2: p99 is slow, p50 fast.
    expect(send(summary('web-1', 'web', [dest('outbound', 'catalog.shop', 90, 0, 2)]))).toBe(true);
    send(summary('web-2', 'web', [dest('outbound', 'catalog.shop', 10, 5, 100)], 5));
    expect(aggregator.view()).toEqual({
      sidecars: 2,
      services: [
        {
          service: 'catalog.shop',
          direction: 'outbound',
          reporters: 2,
          requests: 100,
          failures: 5,
          rps: 11,
          successRate: 0.95,
          p50Ms: 2.016,
          p95Ms: 100.352,
          p99Ms: 100.352,
        },
      ],
      edges: [
        {
          from: 'web.shop',
          to: 'catalog.shop',
          reporters: 2,
          requests: 100,
          failures: 5,
          rps: 11,
          successRate: 0.95,
        },
      ],
      rejected: {},
    });
  });

  it('keeps directions apart: the service’s own inbound view and its callers’ view', () => {
    const { aggregator, send } = setup();
    send(summary('web-1', 'web', [dest('outbound', 'catalog.shop', 10, 0, 2)]));
    send(summary('catalog-1', 'catalog', [dest('inbound', 'catalog.shop', 12, 1, 1)]));
    expect(aggregator.view().services.map((s) => [s.direction, s.requests, s.failures])).toEqual([
      ['inbound', 12, 1],
      ['outbound', 10, 0],
    ]);
  });

  it('holds only the latest summary of each sidecar', () => {
    const { aggregator, send } = setup();
    send(summary('web-1', 'web', [dest('outbound', 'catalog.shop', 10, 0, 2)]));
    send(summary('web-1', 'web', [dest('outbound', 'catalog.shop', 30, 3, 2)]));
    expect(aggregator.view().services.map((s) => [s.requests, s.reporters])).toEqual([[30, 1]]);
  });

  it('forgets a sidecar that stopped reporting for the expiry time', () => {
    const { clock, aggregator, send } = setup();
    send(summary('web-1', 'web', [dest('outbound', 'catalog.shop', 10, 0, 2)]));
    clock.advance(14_999);
    expect(aggregator.view().sidecars).toBe(1);
    clock.advance(1);
    expect(aggregator.view()).toEqual({ sidecars: 0, services: [], edges: [], rejected: {} });
    expect(aggregator.latest('shop', 'web-1')).toBeUndefined();
  });

  it('returns one sidecar’s latest summary', () => {
    const { aggregator, send } = setup();
    const s = summary('web-1', 'web', []);
    send(s);
    expect(aggregator.latest('shop', 'web-1')).toEqual(s);
  });

  it('counts and logs a malformed summary, and keeps the previous one', () => {
    const { aggregator, warnings, send } = setup();
    send(summary('web-1', 'web', [dest('outbound', 'catalog.shop', 10, 0, 2)]));
    expect(
      aggregator.accept(subjects.telemetry('shop', 'web-1'), new TextEncoder().encode('{oops')),
    ).toBe(false);
    expect(aggregator.view().rejected).toEqual({ TRL_PROTO_MALFORMED: 1 });
    expect(aggregator.view().services.map((s) => s.requests)).toEqual([10]);
    expect(warnings).toEqual([
      {
        code: 'TRL_PROTO_MALFORMED',
        subject: 'trellis.v1.telemetry.shop.web-1',
        reason: expect.stringContaining('not JSON'),
      },
    ]);
  });

  it('refuses a summary sent on another sidecar’s subject', () => {
    const { aggregator, send } = setup();
    expect(send(summary('web-1', 'web', []), subjects.telemetry('shop', 'web-2'))).toBe(false);
    expect(aggregator.view()).toEqual({
      sidecars: 0,
      services: [],
      edges: [],
      rejected: { TRL_PROTO_IDENTITY_MISMATCH: 1 },
    });
  });

  it('refuses an invalid summary and one on a subject that is not a telemetry subject', () => {
    const { aggregator, rejections, send } = setup();
    send({ ...summary('web-1', 'web', []), windowSeconds: 0 });
    send(summary('web-1', 'web', []), subjects.status('shop', 'web-1'));
    expect(aggregator.view().rejected).toEqual({ TRL_PROTO_INVALID: 2 });
    expect(rejections).toEqual(['TRL_PROTO_INVALID', 'TRL_PROTO_INVALID']);
  });

  it('refuses sidecars beyond its bound, and takes updates from those it holds', () => {
    const clock = new FakeClock(0);
    const aggregator = new TelemetryAggregator({ clock, maxSidecars: 1 });
    const bytes = (pod: string) => encodeTelemetrySummary(summary(pod, 'web', []));
    expect(aggregator.accept(subjects.telemetry('shop', 'a'), bytes('a'))).toBe(true);
    expect(aggregator.accept(subjects.telemetry('shop', 'b'), bytes('b'))).toBe(false);
    expect(aggregator.accept(subjects.telemetry('shop', 'a'), bytes('a'))).toBe(true);
    expect(aggregator.view().rejected).toEqual({ TRL_TELEMETRY_TOO_MANY_SIDECARS: 1 });
  });
});
