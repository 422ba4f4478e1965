import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from 250 ms and caps at 10 s, half fixed and half jittered', () => {
    const mid = (): number => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid))).toEqual([
      187.5, 375, 750, 1500, 3000, 6000, 7500, 7500,
    ]);
  });

  it('never goes below half a step nor above a whole step', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(500);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.999999)).toBeCloseTo(1000, 3);
  });

  it('stays finite after a very long outage', () => {
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => 0)).toBe(5000);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(-3, { initialMs: 100, maxMs: 1000 }, () => 0)).toBe(50);
  });
});
