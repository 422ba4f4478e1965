import { describe, expect, it } from 'vitest';
import { BalanceError } from './errors.js';
import {
  DEFAULT_BALANCE_PARAMS,
  DEFAULT_OUTLIER_PARAMS,
  resolveBalanceParams,
  resolveOutlierParams,
} from './params.js';

function errorOf(fn: () => unknown): BalanceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BalanceError) return error;
    throw error;
  }
  throw new Error('expected a BalanceError');
}

describe('resolveBalanceParams', () => {
  it('returns the documented defaults when nothing is overridden', () => {
    expect(resolveBalanceParams()).toEqual({
      zoneMinAvailablePercent: 70,
      panicThresholdPercent: 50,
      ewmaDecayMs: 10_000,
      ewmaDefaultRttMs: 30,
    });
    expect(resolveBalanceParams()).toEqual(DEFAULT_BALANCE_PARAMS);
  });

  it('overlays overrides on the defaults', () => {
    expect(resolveBalanceParams({ panicThresholdPercent: 0, ewmaDecayMs: 500 })).toEqual({
      ...DEFAULT_BALANCE_PARAMS,
      panicThresholdPercent: 0,
      ewmaDecayMs: 500,
    });
  });

  it('rejects a percentage above 100 with its code and path', () => {
    const error = errorOf(() => resolveBalanceParams({ zoneMinAvailablePercent: 101 }));
    expect(error.code).toBe('TRL_BALANCE_INVALID_PARAMS');
    expect(error.path).toBe('balance.zoneMinAvailablePercent');
  });

  it('rejects a zero decay window', () => {
    expect(errorOf(() => resolveBalanceParams({ ewmaDecayMs: 0 })).path).toBe(
      'balance.ewmaDecayMs',
    );
  });

  it('rejects NaN', () => {
    expect(errorOf(() => resolveBalanceParams({ ewmaDefaultRttMs: Number.NaN })).path).toBe(
      'balance.ewmaDefaultRttMs',
    );
  });
});

describe('resolveOutlierParams', () => {
  it('returns the documented defaults when nothing is overridden', () => {
    expect(resolveOutlierParams()).toEqual({
      consecutive5xx: 5,
      consecutiveGatewayErrors: 5,
      baseEjectionTimeMs: 30_000,
      maxEjectionTimeMs: 300_000,
      maxEjectionPercent: 10,
      ejectionDecayMs: 10_000,
    });
    expect(resolveOutlierParams()).toEqual(DEFAULT_OUTLIER_PARAMS);
  });

  it('accepts 0 to disable a consecutive-failure detector', () => {
    expect(resolveOutlierParams({ consecutive5xx: 0 }).consecutive5xx).toBe(0);
  });

  it('rejects a fractional threshold', () => {
    expect(errorOf(() => resolveOutlierParams({ consecutiveGatewayErrors: 2.5 })).path).toBe(
      'outlier.consecutiveGatewayErrors',
    );
  });

  it('rejects a max ejection time below the base ejection time', () => {
    const error = errorOf(() =>
      resolveOutlierParams({ baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 9_999 }),
    );
    expect(error.path).toBe('outlier.maxEjectionTimeMs');
    expect(error.message).toBe(
      'outlier.maxEjectionTimeMs: must be a finite number ≥ 10000 (got 9999)',
    );
  });

  it('rejects a negative max ejection percent', () => {
    expect(errorOf(() => resolveOutlierParams({ maxEjectionPercent: -1 })).path).toBe(
      'outlier.maxEjectionPercent',
    );
  });
});
