import { describe, expect, it } from 'vitest';
import { hash32 } from './hash.js';

describe('hash32', () => {
  it('is deterministic', () => {
    expect(hash32('user-42', 7)).toBe(hash32('user-42', 7));
  });

  it('returns an unsigned 32-bit integer', () => {
    for (const text of ['', 'a', 'user-42', '10.0.0.1:8080', 'ünïcødé']) {
      const h = hash32(text, 1);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });

  it('depends on the seed', () => {
    expect(hash32('user-42', 1)).not.toBe(hash32('user-42', 2));
  });

  it('separates strings differing in one character', () => {
    expect(hash32('user-42', 1)).not.toBe(hash32('user-43', 1));
  });

  it('spreads sequential keys evenly over 16 buckets (each within 10% of the mean)', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 32_000; i++) {
      const h = hash32(`key-${i}`, 0);
      buckets[h % 16] = (buckets[h % 16] as number) + 1;
    }
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });
});
