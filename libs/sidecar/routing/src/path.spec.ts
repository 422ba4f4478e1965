import { describe, expect, it } from 'vitest';
import { matchesPathPrefix, normalizePath, splitTarget } from './path.js';

describe('splitTarget', () => {
  it('splits path and query', () => {
    expect(splitTarget('/a/b?x=1&y')).toEqual({ path: '/a/b', query: 'x=1&y' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: '' });
    expect(splitTarget('/a?')).toEqual({ path: '/a', query: '' });
  });
});

describe('normalizePath', () => {
  it.each([
    ['/a/b/c', '/a/b/c'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/public/../admin', '/admin'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/a/.hidden', '/a/.hidden'],
    ['/a/..b', '/a/..b'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it('returns the same string when there is nothing to do', () => {
    const path = '/items/42';
    expect(normalizePath(path)).toBe(path);
  });
});

describe('matchesPathPrefix', () => {
  it('matches whole path elements only', () => {
    expect(matchesPathPrefix('/foo', '/foo')).toBe(true);
    expect(matchesPathPrefix('/foo/', '/foo')).toBe(true);
    expect(matchesPathPrefix('/foo/bar', '/foo')).toBe(true);
    expect(matchesPathPrefix('/foobar', '/foo')).toBe(false);
    expect(matchesPathPrefix('/fo', '/foo')).toBe(false);
  });

  it('treats a trailing slash as "anything below"', () => {
    expect(matchesPathPrefix('/foo/bar', '/foo/')).toBe(true);
    expect(matchesPathPrefix('/foo', '/foo/')).toBe(false);
    expect(matchesPathPrefix('/anything', '/')).toBe(true);
  });
});
