import { describe, expect, it } from 'vitest';
import { EdfScheduler } from './edf-scheduler.js';

function run(weights: number[], picks: number): number[] {
  const edf = new EdfScheduler(weights);
  return Array.from({ length: picks }, () => edf.next());
}

describe('EdfScheduler', () => {
  it('serves equal weights in index order', () => {
    expect(run([1, 1, 1], 6)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('serves weights 3:1 by earliest deadline, ties to the lower index', () => {
    // Deadlines: entry 0 at 1/3, 2/3, 1, 4/3…; entry 1 at 1, 2…
    expect(run([3, 1], 8)).toEqual([0, 0, 0, 1, 0, 0, 0, 1]);
  });

  it('serves every entry exactly `weight` times in any Σweights consecutive picks', () => {
    const weights = [7, 3, 10, 1, 6];
    const picks = run(weights, 27 * 4 + 5);
    for (const start of [0, 5, 27, 60]) {
      const counts = new Array<number>(weights.length).fill(0);
      for (const i of picks.slice(start, start + 27)) counts[i] = (counts[i] as number) + 1;
      expect(counts).toEqual(weights);
    }
  });

  it('serves a single entry every time', () => {
    expect(run([5], 3)).toEqual([0, 0, 0]);
  });
});
