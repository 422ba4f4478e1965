import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';
import { KubernetesSourceError } from './errors.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs when the random draw takes nothing off', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoff.attempts).toBe(6);
  });

  it('takes up to `jitter` of each delay off at random', () => {
    const draws = [0.999, 0.5, 0];
    const backoff = new Backoff({
      initialMs: 1_000,
      maxMs: 10_000,
      random: () => draws.shift() ?? 0,
    });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1500, 4000]);
  });

  it('starts over after reset()', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(100);
  });

  it('stays at maxMs after very many failures instead of overflowing', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, random: () => 0 });
    for (let i = 0; i < 5_000; i++) backoff.next();
    expect(backoff.next()).toBe(30_000);
  });

  it('defaults to 500 ms doubling to 30 s with half the delay as jitter', () => {
    const backoff = new Backoff({ random: () => 0.5 });
    expect(backoff.next()).toBe(375);
  });

  it.each([
    [{ initialMs: 0 }, 'backoff needs 0 < initialMs <= maxMs (got 0, 30000)'],
    [{ initialMs: 100, maxMs: 50 }, 'backoff needs 0 < initialMs <= maxMs (got 100, 50)'],
    [{ factor: 0.5 }, 'backoff needs factor >= 1 and 0 <= jitter <= 1 (got 0.5, 0.5)'],
    [{ jitter: 1.5 }, 'backoff needs factor >= 1 and 0 <= jitter <= 1 (got 2, 1.5)'],
  ])('rejects %j', (options, message) => {
    expect(() => new Backoff(options)).toThrow(
      new KubernetesSourceError('TRL_K8S_INVALID_OPTION', message),
    );
  });
});
