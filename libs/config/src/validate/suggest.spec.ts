import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from './suggest.js';

describe('editDistance', () => {
  it.each([
    ['retrys', 'retries', 2],
    ['', 'abc', 3],
    ['same', 'same', 0],
    ['kitten', 'sitting', 3],
  ])('%s → %s is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });
});

describe('closestMatch', () => {
  it('picks the closest candidate within two edits', () => {
    expect(closestMatch('timout', ['timeout', 'retries'])).toBe('timeout');
  });

  it('prefers the earliest candidate on ties', () => {
    expect(closestMatch('ab', ['ax', 'ay'])).toBe('ax');
  });

  it('gives nothing when every candidate is further away', () => {
    expect(closestMatch('banana', ['timeout', 'retries'])).toBeUndefined();
  });
});
