import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  LATENCY_BUCKET_COUNT,
  latencyBucketOf,
  latencyBucketValueUs,
  latencyQuantileMs,
} from './latency-buckets.js';

function histogram(durationsMs: readonly number[]): number[] {
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const d of durationsMs) counts[latencyBucketOf(d)]! += 1;
  return counts;
}

describe('latency buckets', () => {
  it('has 448 buckets', () => {
    expect(LATENCY_BUCKET_COUNT).toBe(448);
  });

  it('keeps every microsecond below 32 µs exact', () => {
    for (let us = 0; us < 32; us++)
      expect(latencyBucketValueUs(latencyBucketOf(us / 1000))).toBe(us);
  });

  it('maps 1 ms to the bucket [992, 1024) µs, valued at its midpoint', () => {
    expect(latencyBucketOf(0.991)).toBe(latencyBucketOf(1) - 1);
    expect(latencyBucketOf(0.992)).toBe(latencyBucketOf(1.023));
    expect(latencyBucketOf(1.024)).toBe(latencyBucketOf(1) + 1);
    expect(latencyBucketValueUs(latencyBucketOf(1))).toBe(1008);
  });

  it('puts negatives at 0 and clamps beyond 2^31 µs into the last bucket', () => {
    expect(latencyBucketOf(-5)).toBe(0);
    expect(latencyBucketOf(1e12)).toBe(LATENCY_BUCKET_COUNT - 1);
  });

  it('orders buckets like the values they hold', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 3e6, noNaN: true }),
        fc.double({ min: 0, max: 3e6, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(latencyBucketOf(lo)).toBeLessThanOrEqual(latencyBucketOf(hi));
        },
      ),
    );
  });

  it('values a bucket within 1/32 of anything it holds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (us) => {
        const value = latencyBucketValueUs(latencyBucketOf(us / 1000));
        expect(Math.abs(value - us)).toBeLessThanOrEqual(us / 32);
      }),
    );
  });
});

describe('latencyQuantileMs', () => {
  it('is 0 for an empty histogram', () => {
    expect(latencyQuantileMs(histogram([]), 0, 0.99)).toBe(0);
  });

  it('takes the nearest rank: p50 of 1..4 ms is the 2nd value, p99 the 4th', () => {
    const counts = histogram([1, 2, 3, 4]);
    expect(latencyQuantileMs(counts, 4, 0.5)).toBe(2.016);
    expect(latencyQuantileMs(counts, 4, 0.99)).toBe(4.032);
  });

  it('is within 1/32 + 1 µs of the exact nearest-rank quantile', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.constantFrom(0.5, 0.95, 0.99),
        (durations, q) => {
          const sorted = [...durations].sort((a, b) => a - b);
          const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
          const estimate = latencyQuantileMs(histogram(durations), durations.length, q);
          expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(exact / 32 + 0.001 + 1e-9);
        },
      ),
    );
  });
});
