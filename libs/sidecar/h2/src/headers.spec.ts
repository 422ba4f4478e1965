import { describe, expect, it } from 'vitest';
import { H2Error } from './errors.js';
import {
  getHeader,
  isValidFieldName,
  isValidFieldValue,
  requestFieldList,
  responseStatus,
  trailerFieldList,
  trailersWellFormed,
} from './headers.js';
import type { HeaderInput } from './headers.js';

const GET = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'a'];

function rejection(input: HeaderInput): string {
  try {
    requestFieldList(input);
  } catch (err) {
    expect(H2Error.is(err) && err.code).toBe('TRL_H2_INVALID_HEADER');
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('requestFieldList', () => {
  it('returns a flat list as is', () => {
    const flat = [...GET, 'x', '1'];
    expect(requestFieldList(flat)).toBe(flat);
  });

  it('flattens pairs keeping order and duplicates', () => {
    expect(
      requestFieldList([
        [':method', 'POST'],
        [':scheme', 'http'],
        [':path', '/p'],
        ['a', '1'],
        ['a', '2'],
      ]),
    ).toEqual([':method', 'POST', ':scheme', 'http', ':path', '/p', 'a', '1', 'a', '2']);
  });

  it('accepts CONNECT with :authority only', () => {
    expect(requestFieldList([':method', 'CONNECT', ':authority', 'h:1'])).toHaveLength(4);
  });

  it('rejects a pseudo-header after a regular header', () => {
    expect(rejection([':method', 'GET', ':scheme', 'http', 'x', '1', ':path', '/'])).toMatch(
      /after regular/,
    );
  });

  it('rejects uppercase names', () => {
    expect(rejection([...GET, 'X-Up', '1'])).toMatch(/invalid header name/);
  });

  it('rejects missing, empty and duplicate pseudo-headers', () => {
    expect(rejection([':scheme', 'http', ':path', '/'])).toMatch(/missing :method/);
    expect(rejection([':method', 'GET', ':path', '/'])).toMatch(/missing :scheme/);
    expect(rejection([':method', 'GET', ':scheme', 'http', ':path', ''])).toMatch(/empty :path/);
    expect(rejection([...GET, ':path', '/x'])).toMatch(/duplicate :path/);
    expect(
      rejection([':method', 'GET', ':method', 'GET', ':scheme', 'http', ':path', '/']),
    ).toMatch(/duplicate :method/);
  });

  it('rejects unknown pseudo-headers and CONNECT with a path', () => {
    expect(rejection([':method', 'GET', ':status', '200'])).toMatch(/unknown pseudo/);
    expect(rejection([':method', 'CONNECT', ':authority', 'h', ':path', '/'])).toMatch(/CONNECT/);
  });

  it('rejects connection-specific headers and te other than trailers', () => {
    expect(rejection([...GET, 'connection', 'close'])).toMatch(/connection-specific/);
    expect(rejection([...GET, 'transfer-encoding', 'chunked'])).toMatch(/connection-specific/);
    expect(rejection([...GET, 'te', 'gzip'])).toMatch(/te header/);
    expect(requestFieldList([...GET, 'te', 'trailers'])).toHaveLength(10);
  });

  it('rejects values with CR, LF, NUL, non-latin1 or surrounding whitespace', () => {
    for (const v of ['a\rb', 'a\nb', 'a\0b', 'a\u0100', ' a', 'a\t']) {
      expect(rejection([...GET, 'x', v])).toMatch(/invalid value/);
    }
  });

  it('rejects an odd flat list', () => {
    expect(rejection([':method'])).toMatch(/odd/);
  });
});

describe('trailerFieldList', () => {
  it('accepts regular fields and rejects pseudo-headers', () => {
    expect(trailerFieldList([['grpc-status', '0']])).toEqual(['grpc-status', '0']);
    expect(() => trailerFieldList([':status', '200'])).toThrow(/pseudo-header/);
  });
});

describe('field checks', () => {
  it('accepts tokens and latin1 values', () => {
    expect(isValidFieldName("a-b_c.d~1!#$%&'*+^`|")).toBe(true);
    expect(isValidFieldName('')).toBe(false);
    expect(isValidFieldName('a b')).toBe(false);
    expect(isValidFieldValue('caf\u00e9 a\tb')).toBe(true);
    expect(isValidFieldValue('')).toBe(true);
  });
});

describe('responseStatus', () => {
  it('reads a three-digit :status in first position', () => {
    expect(responseStatus([':status', '204', 'x', '1'])).toBe(204);
  });

  it('returns -1 for malformed blocks', () => {
    expect(responseStatus([])).toBe(-1);
    expect(responseStatus(['x', '1', ':status', '200'])).toBe(-1);
    expect(responseStatus([':status', '20'])).toBe(-1);
    expect(responseStatus([':status', '099'])).toBe(-1);
    expect(responseStatus([':status', '2x0'])).toBe(-1);
    expect(responseStatus([':status', '200', ':path', '/'])).toBe(-1);
    expect(responseStatus([':status', '200', 'Upper', '1'])).toBe(-1);
    expect(responseStatus([':status', '200', 'connection', 'close'])).toBe(-1);
  });
});

describe('trailersWellFormed', () => {
  it('rejects pseudo-headers in trailers', () => {
    expect(trailersWellFormed(['grpc-status', '0'])).toBe(true);
    expect(trailersWellFormed([':status', '200'])).toBe(false);
  });
});

describe('getHeader', () => {
  it('finds the first value of a name', () => {
    expect(getHeader(['a', '1', 'b', '2', 'a', '3'], 'a')).toBe('1');
    expect(getHeader(['a', '1'], 'z')).toBeUndefined();
  });
});
