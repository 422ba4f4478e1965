import { describe, expect, it } from 'vitest';
import { shadowAuthority, shouldMirror } from './mirror.js';

describe('shouldMirror', () => {
  it('mirrors when the draw falls under the percentage', () => {
    expect(shouldMirror(25, () => 0.2499)).toBe(true);
  });

  it('does not mirror when the draw reaches the percentage', () => {
    expect(shouldMirror(25, () => 0.25)).toBe(false);
  });

  it('never mirrors at 0 %, even on a zero draw, and does not draw', () => {
    let draws = 0;
    expect(
      shouldMirror(0, () => {
        draws++;
        return 0;
      }),
    ).toBe(false);
    expect(draws).toBe(0);
  });

  it('always mirrors at 100 %, even on the highest draw, and does not draw', () => {
    let draws = 0;
    expect(
      shouldMirror(100, () => {
        draws++;
        return 0.999999;
      }),
    ).toBe(true);
    expect(draws).toBe(0);
  });

  it('honours fractional percentages', () => {
    expect(shouldMirror(0.5, () => 0.004)).toBe(true);
    expect(shouldMirror(0.5, () => 0.006)).toBe(false);
  });
});

describe('shadowAuthority', () => {
  it('appends -shadow to a host without port', () => {
    expect(shadowAuthority('catalog.shop')).toBe('catalog.shop-shadow');
  });

  it('inserts -shadow before the port', () => {
    expect(shadowAuthority('catalog.shop:8080')).toBe('catalog.shop-shadow:8080');
  });

  it('keeps a bracketed IPv6 host and its port', () => {
    expect(shadowAuthority('[::1]:80')).toBe('[::1]-shadow:80');
    expect(shadowAuthority('[::1]')).toBe('[::1]-shadow');
  });

  it('treats a colon not followed by a port as part of the host', () => {
    expect(shadowAuthority('weird:')).toBe('weird:-shadow');
  });

  it('shadows an empty authority as -shadow', () => {
    expect(shadowAuthority('')).toBe('-shadow');
  });
});
