import { describe, expect, it } from 'vitest';
import type { Endpoint } from './endpoint.js';
import { validateEndpoint } from './endpoint.js';
import { BalanceError } from './errors.js';
import { ep } from './testing/fixtures.js';

function pathOf(endpoint: Endpoint): string | undefined {
  try {
    validateEndpoint(endpoint, 'endpoints[0]');
    return undefined;
  } catch (error) {
    if (!(error instanceof BalanceError)) throw error;
    expect(error.code).toBe('TRL_BALANCE_INVALID_ENDPOINT');
    return error.path;
  }
}

describe('validateEndpoint', () => {
  it('accepts a well-formed endpoint with a zone', () => {
    expect(pathOf(ep('10.0.0.1:8080', { zone: 'z1', weight: 1000 }))).toBeUndefined();
  });

  it('rejects an empty id', () => {
    expect(pathOf(ep(''))).toBe('endpoints[0].id');
  });

  it('rejects weight 0 and weight 1001', () => {
    expect(pathOf(ep('a', { weight: 0 }))).toBe('endpoints[0].weight');
    expect(pathOf(ep('a', { weight: 1001 }))).toBe('endpoints[0].weight');
  });

  it('rejects a fractional weight', () => {
    expect(pathOf(ep('a', { weight: 1.5 }))).toBe('endpoints[0].weight');
  });

  it('rejects port 0', () => {
    expect(pathOf(ep('a', { port: 0 }))).toBe('endpoints[0].port');
  });

  it('rejects an empty zone', () => {
    expect(pathOf(ep('a', { zone: '' }))).toBe('endpoints[0].zone');
  });

  it('rejects a non-boolean condition', () => {
    const bad = { ...ep('a'), terminating: 'no' } as unknown as Endpoint;
    expect(pathOf(bad)).toBe('endpoints[0].terminating');
  });
});
