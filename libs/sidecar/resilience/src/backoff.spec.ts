import { describe, expect, it } from 'vitest';
import { ExponentialBackoff, backoffCeilingMs } from './backoff.js';
import { InvalidParamsError } from './params.js';

describe('backoffCeilingMs', () => {
  it('doubles from base per retry until max caps it', () => {
    const params = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffCeilingMs(params, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('stays finite for huge retry numbers', () => {
    expect(backoffCeilingMs({ baseMs: 100, maxMs: 1000 }, 5000)).toBe(1000);
  });

  it('stays 0 with base 0 instead of NaN', () => {
    expect(backoffCeilingMs({ baseMs: 0, maxMs: 1000 }, 5000)).toBe(0);
  });
});

describe('ExponentialBackoff', () => {
  it('draws the delay uniformly from [0, ceiling] in whole ms', () => {
    const draws = [0, 0.5, 0.999_999];
    const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 1000 }, () => draws.shift()!);
    expect(backoff.delayMs(1)).toBe(0);
    expect(backoff.delayMs(1)).toBe(100); // floor(0.5 × 201)
    expect(backoff.delayMs(1)).toBe(200); // the ceiling itself is reachable
  });

  it('takes exactly one random draw per delay', () => {
    let draws = 0;
    const backoff = new ExponentialBackoff({ baseMs: 10, maxMs: 10 }, () => {
      draws++;
      return 0.25;
    });
    backoff.delayMs(0);
    backoff.delayMs(3);
    expect(draws).toBe(2);
  });

  it('never waits with base 0', () => {
    expect(new ExponentialBackoff({ baseMs: 0, maxMs: 0 }, () => 0.99).delayMs(7)).toBe(0);
  });

  it.each([
    [{ baseMs: -1, maxMs: 10 }, 'baseMs'],
    [{ baseMs: 1.5, maxMs: 10 }, 'baseMs'],
    [{ baseMs: 10, maxMs: Infinity }, 'maxMs'],
    [{ baseMs: 10, maxMs: 5 }, 'maxMs'],
  ])('rejects %o naming %s', (params, field) => {
    expect(() => new ExponentialBackoff(params)).toThrow(
      expect.objectContaining({ code: 'TRL_INVALID_PARAMS', field }),
    );
    expect(() => new ExponentialBackoff(params)).toThrow(InvalidParamsError);
  });
});
