import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitBreakerParams } from './circuit-breaker.js';
import { InvalidParamsError } from './params.js';

function breaker(overrides: Partial<CircuitBreakerParams> = {}): CircuitBreaker {
  return new CircuitBreaker({
    maxConnections: 2,
    maxPendingRequests: 1,
    maxActiveRequests: 3,
    maxActiveRetries: 1,
    ...overrides,
  });
}

function fill(b: CircuitBreaker, limit: Parameters<CircuitBreaker['tryAcquire']>[0], n: number) {
  for (let i = 0; i < n; i++) expect(b.tryAcquire(limit).admitted).toBe(true);
}

describe('CircuitBreaker limits', () => {
  it('admits up to the limit, then names the limit that tripped', () => {
    const b = breaker();
    fill(b, 'active-requests', 3);
    expect(b.tryAcquire('active-requests')).toEqual({
      admitted: false,
      overloaded: 'active-requests',
    });
    expect(b.active('active-requests')).toBe(3);
  });

  it('counts trips per limit', () => {
    const b = breaker();
    fill(b, 'connections', 2);
    b.tryAcquire('connections');
    b.tryAcquire('connections');
    fill(b, 'pending-requests', 1);
    b.tryAcquire('pending-requests');
    expect(b.trips('connections')).toBe(2);
    expect(b.trips('pending-requests')).toBe(1);
    expect(b.trips('active-requests')).toBe(0);
  });

  it('frees a slot on release', () => {
    const b = breaker();
    const first = b.tryAcquire('pending-requests');
    expect(b.tryAcquire('pending-requests').admitted).toBe(false);
    if (!first.admitted) throw new Error('expected admission');
    first.release();
    expect(b.active('pending-requests')).toBe(0);
    expect(b.tryAcquire('pending-requests').admitted).toBe(true);
  });

  it('keeps limits independent', () => {
    const b = breaker();
    fill(b, 'pending-requests', 1);
    expect(b.tryAcquire('active-requests').admitted).toBe(true);
    expect(b.active('pending-requests')).toBe(1);
    expect(b.active('active-requests')).toBe(1);
  });

  it('returns shared frozen results', () => {
    const b = breaker({ maxActiveRequests: 10, maxPendingRequests: 0 });
    const one = b.tryAcquire('active-requests');
    expect(b.tryAcquire('active-requests')).toBe(one);
    expect(b.tryAcquire('pending-requests')).toBe(b.tryAcquire('pending-requests'));
    expect(Object.isFrozen(one)).toBe(true);
  });

  it('rejects everything at limit 0', () => {
    expect(breaker({ maxConnections: 0 }).tryAcquire('connections')).toEqual({
      admitted: false,
      overloaded: 'connections',
    });
  });

  it('never trips an Infinity limit', () => {
    const b = breaker({ maxActiveRequests: Infinity });
    fill(b, 'active-requests', 1000);
    expect(b.trips('active-requests')).toBe(0);
  });
});

describe('CircuitBreaker retry budget', () => {
  it('caps active retries at minRetryConcurrency when traffic is low', () => {
    const b = breaker({
      maxActiveRetries: 100,
      retryBudget: { percent: 20, minRetryConcurrency: 3 },
    });
    expect(b.max('active-retries')).toBe(3);
    fill(b, 'active-retries', 3);
    expect(b.tryAcquire('active-retries')).toEqual({
      admitted: false,
      overloaded: 'active-retries',
    });
  });

  it('caps active retries at percent of active plus pending requests, rounded down', () => {
    const b = breaker({
      maxActiveRequests: 100,
      maxPendingRequests: 100,
      retryBudget: { percent: 20, minRetryConcurrency: 3 },
    });
    fill(b, 'active-requests', 20);
    fill(b, 'pending-requests', 9);
    expect(b.max('active-retries')).toBe(5); // floor(0.2 × 29)
    fill(b, 'active-retries', 5);
    expect(b.tryAcquire('active-retries').admitted).toBe(false);
  });

  it('uses maxActiveRetries without a budget', () => {
    expect(breaker({ maxActiveRetries: 7 }).max('active-retries')).toBe(7);
  });

  it.each([
    [{ maxConnections: -1 }, 'maxConnections'],
    [{ maxActiveRequests: 1.5 }, 'maxActiveRequests'],
    [{ maxPendingRequests: NaN }, 'maxPendingRequests'],
    [{ retryBudget: { percent: 101, minRetryConcurrency: 3 } }, 'retryBudget.percent'],
    [{ retryBudget: { percent: 20, minRetryConcurrency: -3 } }, 'retryBudget.minRetryConcurrency'],
  ])('rejects %o naming %s', (overrides, field) => {
    expect(() => breaker(overrides)).toThrow(InvalidParamsError);
    expect(() => breaker(overrides)).toThrow(expect.objectContaining({ field }));
  });
});
