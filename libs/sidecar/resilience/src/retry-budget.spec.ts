import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from './params.js';
import { RetryBudget, type RetryBudgetParams } from './retry-budget.js';

function budget(overrides: Partial<RetryBudgetParams> = {}, clock = new FakeClock()) {
  return new RetryBudget(
    { retryRatio: 0.2, minRetriesPerSecond: 0, ttlMs: 10_000, buckets: 10, ...overrides },
    clock,
  );
}

function record(b: RetryBudget, requests: number): void {
  for (let i = 0; i < requests; i++) b.recordRequest();
}

function withdrawUntilDenied(b: RetryBudget): number {
  let granted = 0;
  while (b.tryWithdrawRetry()) granted++;
  return granted;
}

describe('RetryBudget', () => {
  it('allows no retry without requests or reserve', () => {
    expect(budget().tryWithdrawRetry()).toBe(false);
  });

  it('allows retryRatio retries per request', () => {
    const b = budget();
    record(b, 10);
    expect(withdrawUntilDenied(b)).toBe(2);
    expect(b.retries).toBe(2);
  });

  it('allows minRetriesPerSecond × ttl retries with no traffic', () => {
    const b = budget({ minRetriesPerSecond: 1 });
    expect(withdrawUntilDenied(b)).toBe(10);
  });

  it('adds the reserve to the ratio', () => {
    const b = budget({ minRetriesPerSecond: 0.5 });
    record(b, 10);
    expect(withdrawUntilDenied(b)).toBe(7);
  });

  it('tolerates float error when ratio × requests is a whole number', () => {
    const b = budget({ retryRatio: 0.29 });
    record(b, 100);
    expect(withdrawUntilDenied(b)).toBe(29);
  });

  it('refills as requests arrive and frees retries as their bucket leaves the window', () => {
    const clock = new FakeClock();
    const b = budget({}, clock);
    record(b, 10);
    expect(withdrawUntilDenied(b)).toBe(2);

    clock.advance(5000);
    record(b, 5);
    expect(withdrawUntilDenied(b)).toBe(1);

    clock.advance(4999);
    expect([b.requests, b.retries]).toEqual([15, 3]);
    expect(b.tryWithdrawRetry()).toBe(false);

    clock.advance(1); // t = 10 000: the t = 0 bucket (10 requests, 2 retries) slides out
    expect([b.requests, b.retries]).toEqual([5, 1]);
    record(b, 5);
    expect(withdrawUntilDenied(b)).toBe(1);
  });

  it('expires a bucket by its start, so late entries count for less than ttl', () => {
    const clock = new FakeClock(999);
    const b = budget({}, clock);
    record(b, 5);
    clock.advance(9000); // t = 9 999
    expect(b.requests).toBe(5);
    clock.advance(1); // t = 10 000
    expect(b.requests).toBe(0);
  });

  it('empties completely after an idle gap longer than the window', () => {
    const clock = new FakeClock();
    const b = budget({}, clock);
    record(b, 10);
    b.tryWithdrawRetry();
    clock.advance(123_456);
    expect([b.requests, b.retries]).toEqual([0, 0]);
    record(b, 5);
    expect(withdrawUntilDenied(b)).toBe(1);
  });

  it('drops the whole window at once with a single bucket', () => {
    const clock = new FakeClock();
    const b = budget({ buckets: 1 }, clock);
    record(b, 5);
    clock.advance(9999);
    expect(b.requests).toBe(5);
    clock.advance(1);
    expect(b.requests).toBe(0);
  });

  it.each([
    [{ retryRatio: -0.1 }, 'retryRatio'],
    [{ retryRatio: NaN }, 'retryRatio'],
    [{ minRetriesPerSecond: -1 }, 'minRetriesPerSecond'],
    [{ ttlMs: 0 }, 'ttlMs'],
    [{ buckets: 0 }, 'buckets'],
    [{ buckets: 2.5 }, 'buckets'],
  ])('rejects %o naming %s', (overrides, field) => {
    expect(() => budget(overrides)).toThrow(InvalidParamsError);
    expect(() => budget(overrides)).toThrow(expect.objectContaining({ field }));
  });
});
