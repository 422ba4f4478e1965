import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from './params.js';
import { TokenBucket, retryAfterSeconds, type TokenBucketParams } from './token-bucket.js';

function setup(overrides: Partial<TokenBucketParams> = {}) {
  const clock = new FakeClock();
  const bucket = new TokenBucket(
    { maxTokens: 3, tokensPerFill: 2, fillIntervalMs: 1000, ...overrides },
    clock,
  );
  return { clock, bucket };
}

function drain(bucket: TokenBucket): number {
  let taken = 0;
  while (bucket.tryTake().allowed) taken++;
  return taken;
}

describe('TokenBucket', () => {
  it('starts full', () => {
    const { bucket } = setup();
    expect(drain(bucket)).toBe(3);
  });

  it('says how long until the next fill when empty', () => {
    const { clock, bucket } = setup();
    drain(bucket);
    clock.advance(400);
    expect(bucket.tryTake()).toEqual({ allowed: false, retryAfterMs: 600 });
  });

  it('adds tokensPerFill per elapsed interval', () => {
    const { clock, bucket } = setup();
    drain(bucket);
    clock.advance(1000);
    expect(bucket.tokens).toBe(2);
    expect(drain(bucket)).toBe(2);
    expect(bucket.tryTake()).toEqual({ allowed: false, retryAfterMs: 1000 });
  });

  it('caps refills at maxTokens after a long idle', () => {
    const { clock, bucket } = setup();
    drain(bucket);
    clock.advance(60_000);
    expect(drain(bucket)).toBe(3);
  });

  it('keeps fills on their schedule when takes fall between them', () => {
    const { clock, bucket } = setup();
    drain(bucket);
    clock.advance(1500); // one fill, at t = 1000
    expect(drain(bucket)).toBe(2);
    expect(bucket.tryTake()).toEqual({ allowed: false, retryAfterMs: 500 });
  });

  it('returns a shared frozen result when allowed', () => {
    const { bucket } = setup();
    const first = bucket.tryTake();
    expect(bucket.tryTake()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it.each([
    [{ maxTokens: 0 }, 'maxTokens'],
    [{ tokensPerFill: 0.5 }, 'tokensPerFill'],
    [{ fillIntervalMs: 0 }, 'fillIntervalMs'],
    [{ fillIntervalMs: Infinity }, 'fillIntervalMs'],
  ])('rejects %o naming %s', (overrides, field) => {
    expect(() => setup(overrides)).toThrow(InvalidParamsError);
    expect(() => setup(overrides)).toThrow(expect.objectContaining({ field }));
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [0, 0],
    [1, 1],
    [1000, 1],
    [1000.5, 2],
    [2500, 3],
  ])('rounds %s ms up to %s s', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
