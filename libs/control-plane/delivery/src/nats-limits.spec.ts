import { describe, expect, it } from 'vitest';
import { trellisNatsLimits } from './nats-limits.js';

describe('trellisNatsLimits', () => {
  it('keeps nats-server max_connections default for small meshes and raises the auth timeout', () => {
    expect(trellisNatsLimits(1_000)).toEqual({
      maxConnections: 65_536,
      authTimeoutSeconds: 10,
      writeDeadlineSeconds: 10,
    });
  });

  it('raises max_connections past the number of sidecars plus room for other clients', () => {
    expect(trellisNatsLimits(100_000).maxConnections).toBe(101_024);
  });

  it('refuses a negative or fractional number of sidecars', () => {
    expect(() => trellisNatsLimits(-1)).toThrow(
      expect.objectContaining({
        code: 'TRL_DELIVERY_INVALID_OPTION',
        message: 'sidecars must be a whole number ≥ 0 (got -1)',
      }),
    );
    expect(() => trellisNatsLimits(1.5)).toThrow('sidecars must be a whole number ≥ 0 (got 1.5)');
  });
});
