import { describe, expect, it } from 'vitest';
import { randomHexId } from './random-ids.js';

describe('randomHexId', () => {
  it('writes 16-byte trace ids as 32 lowercase hex digits, four bytes per draw', () => {
    const draws = [0.5, 0.25, 0.75, 0.0625];
    expect(randomHexId(16, () => draws.shift() ?? 0)).toBe('8000000040000000c000000010000000');
  });

  it('writes 8-byte span ids as 16 hex digits', () => {
    expect(randomHexId(8, () => 0.999999999)).toBe('fffffffbfffffffb');
  });

  it('never returns an all-zero id', () => {
    expect(randomHexId(16, () => 0)).toBe('00000000000000000000000000000001');
    expect(randomHexId(8, () => 0)).toBe('0000000000000001');
  });

  it('does not let a shorter id reuse the bytes of a longer one', () => {
    randomHexId(16, () => 0.5);
    expect(randomHexId(8, () => 0)).toBe('0000000000000001');
  });

  it('draws from Math.random by default', () => {
    expect(randomHexId(16)).toMatch(/^[0-9a-f]{32}$/);
  });
});
