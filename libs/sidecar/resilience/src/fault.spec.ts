import { describe, expect, it } from 'vitest';
import type { Random } from './backoff.js';
import { FaultInjector, type FaultParams } from './fault.js';
import { InvalidParamsError } from './params.js';

/** A random source that replays `values` and records how many it handed out. */
function draws(...values: number[]): Random & { count: number } {
  const random = Object.assign(
    () => {
      const v = values[random.count++];
      if (v === undefined) throw new Error('no more random values');
      return v;
    },
    { count: 0 },
  );
  return random;
}

describe('FaultInjector', () => {
  it('draws nothing and injects nothing without faults', () => {
    const random = draws();
    expect(new FaultInjector({}, random).decide()).toEqual({ delayMs: 0, abort: undefined });
    expect(random.count).toBe(0);
  });

  it('delays when the draw falls under the percentage', () => {
    const injector = new FaultInjector({ delay: { percent: 10, ms: 250 } }, draws(0.0999, 0.1));
    expect(injector.decide()).toEqual({ delayMs: 250, abort: undefined });
    expect(injector.decide()).toEqual({ delayMs: 0, abort: undefined });
  });

  it('draws for the delay first, then for the abort', () => {
    const params: FaultParams = {
      delay: { percent: 50, ms: 100 },
      abort: { percent: 50, httpStatus: 503 },
    };
    const injector = new FaultInjector(params, draws(0.9, 0.1, 0.1, 0.9, 0.1, 0.1));
    const abort = { httpStatus: 503, grpcStatus: 14 };
    expect(injector.decide()).toEqual({ delayMs: 0, abort });
    expect(injector.decide()).toEqual({ delayMs: 100, abort: undefined });
    expect(injector.decide()).toEqual({ delayMs: 100, abort });
  });

  it('always fires at 100% and never draws at 0%', () => {
    const random = draws(0.999_999);
    const injector = new FaultInjector(
      { delay: { percent: 0, ms: 5 }, abort: { percent: 100, grpcStatus: 8 } },
      random,
    );
    expect(injector.decide().abort).toEqual({ httpStatus: 503, grpcStatus: 8 });
    expect(random.count).toBe(1);
  });

  it.each([
    [503, 14],
    [404, 12],
    [500, 2],
  ])('maps an abort with HTTP %i only to gRPC status %i', (httpStatus, grpcStatus) => {
    const injector = new FaultInjector({ abort: { percent: 100, httpStatus } }, draws(0));
    expect(injector.decide().abort).toEqual({ httpStatus, grpcStatus });
  });

  it('keeps both statuses when both are given', () => {
    const injector = new FaultInjector(
      { abort: { percent: 100, httpStatus: 500, grpcStatus: 13 } },
      draws(0),
    );
    expect(injector.decide().abort).toEqual({ httpStatus: 500, grpcStatus: 13 });
  });

  it('returns shared frozen decisions', () => {
    const injector = new FaultInjector({ delay: { percent: 100, ms: 5 } }, draws(0, 0));
    const first = injector.decide();
    expect(injector.decide()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it.each([
    [{ delay: { percent: 101, ms: 1 } }, 'delay.percent'],
    [{ delay: { percent: 5, ms: -1 } }, 'delay.ms'],
    [{ abort: { percent: 5 } }, 'abort'],
    [{ abort: { percent: -5, httpStatus: 503 } }, 'abort.percent'],
    [{ abort: { percent: 5, httpStatus: 600 } }, 'abort.httpStatus'],
    [{ abort: { percent: 5, grpcStatus: 17 } }, 'abort.grpcStatus'],
  ])('rejects %o naming %s', (params, field) => {
    expect(() => new FaultInjector(params)).toThrow(InvalidParamsError);
    expect(() => new FaultInjector(params)).toThrow(expect.objectContaining({ field }));
  });
});
