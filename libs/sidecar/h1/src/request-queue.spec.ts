import { describe, expect, it } from 'vitest';
import { RequestQueue } from './request-queue.js';

const item = (n: number): { n: number } => ({ n });

describe('RequestQueue', () => {
  it('hands items out first in, first out', () => {
    const q = new RequestQueue<{ n: number }>();
    const [a, b, c] = [item(1), item(2), item(3)];
    q.push(a);
    q.push(b);
    q.push(c);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([a, b, c, null]);
    expect(q.size).toBe(0);
  });

  it('skips a removed item and reports removals of absent ones', () => {
    const q = new RequestQueue<{ n: number }>();
    const [a, b, c] = [item(1), item(2), item(3)];
    q.push(a);
    q.push(b);
    q.push(c);
    expect(q.remove(b)).toBe(true);
    expect(q.remove(b)).toBe(false);
    expect(q.size).toBe(2);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([a, c, null]);
  });

  it('keeps order across compaction of a long-running queue', () => {
    const q = new RequestQueue<{ n: number }>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(item(i));
      if (i % 3 !== 0) out.push((q.shift() as { n: number }).n);
    }
    for (let x = q.shift(); x !== null; x = q.shift()) out.push(x.n);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
