import { describe, expect, it } from 'vitest';
import { decodeTelemetrySummary, encodeTelemetrySummary } from './telemetry-summary.js';
import type { TelemetrySummary } from './telemetry-summary.js';

const summary: TelemetrySummary = {
  v: 1,
  proxy: { namespace: 'shop', pod: 'web-1', service: 'web' },
  at: '2026-11-25T16:00:00.000Z',
  windowSeconds: 10,
  destinations: [
    {
      direction: 'outbound',
      service: 'catalog.shop',
      requests: 3,
      failures: 1,
      rps: 0.3,
      successRate: 0.6667,
      p50Ms: 2.016,
      p95Ms: 4.032,
      p99Ms: 4.032,
      latency: [111, 2, 127, 1],
    },
  ],
  edges: [{ from: 'web.shop', to: 'catalog.shop', requests: 3, failures: 1 }],
};

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const mutated = (edit: (copy: Record<string, unknown>) => void) => {
  const copy = structuredClone(summary) as unknown as Record<string, unknown>;
  edit(copy);
  return bytes(copy);
};
const destination0 = (copy: Record<string, unknown>) =>
  (copy['destinations'] as Record<string, unknown>[])[0]!;

describe('telemetry summary codec', () => {
  it('round-trips a summary', () => {
    expect(decodeTelemetrySummary(encodeTelemetrySummary(summary))).toEqual(summary);
  });

  it('refuses another format version', () => {
    expect(() => decodeTelemetrySummary(mutated((c) => (c['v'] = 2)))).toThrow(
      expect.objectContaining({
        code: 'TRL_PROTO_INVALID',
        message: expect.stringContaining('v: must be 1'),
      }),
    );
  });

  it('refuses a message over the size bound', () => {
    expect(() => decodeTelemetrySummary(encodeTelemetrySummary(summary), 100)).toThrow(
      expect.objectContaining({ code: 'TRL_PROTO_TOO_LARGE' }),
    );
  });

  it('refuses non-JSON', () => {
    expect(() => decodeTelemetrySummary(new TextEncoder().encode('{nope'))).toThrow(
      expect.objectContaining({ code: 'TRL_PROTO_MALFORMED' }),
    );
  });

  it('refuses more failures than requests', () => {
    expect(() => decodeTelemetrySummary(mutated((c) => (destination0(c)['failures'] = 4)))).toThrow(
      expect.objectContaining({
        message: 'telemetry summary.destinations[0]: failures: exceeds requests (4 > 3)',
      }),
    );
  });

  it('refuses a success rate above 1', () => {
    expect(() =>
      decodeTelemetrySummary(mutated((c) => (destination0(c)['successRate'] = 1.5))),
    ).toThrow(expect.objectContaining({ code: 'TRL_PROTO_INVALID' }));
  });

  it('refuses latency counts that do not add up to the requests', () => {
    expect(() =>
      decodeTelemetrySummary(mutated((c) => (destination0(c)['latency'] = [111, 2]))),
    ).toThrow(
      expect.objectContaining({
        message:
          'telemetry summary.destinations[0]: latency: counts add up to 2, not to the 3 requests',
      }),
    );
  });

  it('refuses latency buckets out of order or out of range', () => {
    for (const latency of [
      [127, 1, 111, 2],
      [448, 3],
      [111, 3, 112],
    ]) {
      expect(() =>
        decodeTelemetrySummary(mutated((c) => (destination0(c)['latency'] = latency))),
      ).toThrow(expect.objectContaining({ code: 'TRL_PROTO_INVALID' }));
    }
  });

  it('refuses a pod that is not a subject token', () => {
    expect(() =>
      decodeTelemetrySummary(
        mutated((c) => ((c['proxy'] as Record<string, unknown>)['pod'] = 'a.b')),
      ),
    ).toThrow(expect.objectContaining({ message: expect.stringContaining('proxy.pod') }));
  });

  it('refuses a zero window and an edge without a target', () => {
    expect(() => decodeTelemetrySummary(mutated((c) => (c['windowSeconds'] = 0)))).toThrow(
      expect.objectContaining({ code: 'TRL_PROTO_INVALID' }),
    );
    expect(() =>
      decodeTelemetrySummary(
        mutated((c) => ((c['edges'] as Record<string, unknown>[])[0]!['to'] = '')),
      ),
    ).toThrow(
      expect.objectContaining({ message: 'telemetry summary.edges[0]: to: must not be empty' }),
    );
  });
});
