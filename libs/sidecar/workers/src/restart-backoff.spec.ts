import { describe, expect, it } from 'vitest';
import { RestartBackoff } from './restart-backoff.js';

const params = { initialMs: 100, maxMs: 1_000, stableMs: 5_000 };

describe('RestartBackoff', () => {
  it('doubles per crash up to the ceiling', () => {
    const backoff = new RestartBackoff(params);
    expect([0, 0, 0, 0, 0, 0].map(() => backoff.next(10))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoff.crashes).toBe(6);
  });

  it('starts over after a worker stayed up for stableMs', () => {
    const backoff = new RestartBackoff(params);
    backoff.next(10);
    backoff.next(10);
    expect(backoff.next(5_000)).toBe(100);
    expect(backoff.next(4_999)).toBe(200);
  });

  it('stays at the ceiling after very many crashes', () => {
    const backoff = new RestartBackoff(params);
    for (let i = 0; i < 100; i++) backoff.next(0);
    expect(backoff.next(0)).toBe(1_000);
  });

  it('refuses params that cannot make a delay', () => {
    expect(() => new RestartBackoff({ initialMs: 0, maxMs: 10, stableMs: 0 })).toThrow(
      'restart backoff needs 0 < initialMs ≤ maxMs and stableMs ≥ 0 (got 0, 10, 0)',
    );
    expect(() => new RestartBackoff({ initialMs: 20, maxMs: 10, stableMs: 0 })).toThrow(
      expect.objectContaining({ code: 'TRL_WORKERS_INVALID_OPTION' }),
    );
  });
});
