// forwardableHeaders: what a proxy may pass on (RFC 9110 §7.6.1), names lower-cased, order kept.
import { describe, expect, it } from 'vitest';
import { forwardableHeaders, keepForwardable, lowerCaseNames } from './flat-headers.js';

describe('forwardableHeaders', () => {
  it('drops hop-by-hop fields and the fields Connection names, keeping the rest in order', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Connection',
      'keep-alive, X-Secret , close',
      'Keep-Alive',
      'timeout=5',
      'X-Secret',
      'a',
      'Close',
      'b',
      'X-Kept',
      'c',
      'Transfer-Encoding',
      'chunked',
      'Host',
      'h',
      ':authority',
      'h',
      'content-length',
      '3',
    ];
    expect(forwardableHeaders(raw)).toEqual([
      'content-type',
      'text/plain',
      'x-kept',
      'c',
      'content-length',
      '3',
    ]);
  });

  it('keeps a field Connection does not name, and te only as trailers', () => {
    expect(
      forwardableHeaders(['Connection', 'keep-alive', 'X-A', '1', 'TE', 'trailers, deflate']),
    ).toEqual(['x-a', '1', 'te', 'trailers']);
    expect(forwardableHeaders(['te', 'gzip'])).toEqual([]);
  });

  it('copies: the input is left as it was', () => {
    const raw = ['X-A', '1'];
    const out = forwardableHeaders(raw);
    out.push('x-b', '2');
    expect(raw).toEqual(['X-A', '1']);
  });
});

describe('keepForwardable', () => {
  it('keeps in place exactly what forwardableHeaders copies', () => {
    const lists = [
      [
        'Connection',
        'keep-alive, X-Secret',
        'X-Secret',
        'a',
        'Keep-Alive',
        'timeout=5',
        'X-Kept',
        'c',
      ],
      ['te', 'trailers', 'content-type', 'application/grpc', 'Host', 'h', ':status', '200'],
      ['x-a', '1', 'x-a', '2', 'transfer-encoding', 'chunked', 'TE', 'gzip'],
      [],
    ];
    for (const list of lists) {
      const expected = forwardableHeaders(list);
      const same = list;
      expect(keepForwardable(list)).toBe(same);
      expect(list).toEqual(expected);
    }
  });
});

describe('lowerCaseNames', () => {
  it('lower-cases names as toLowerCase does, non-ASCII letters included, values untouched', () => {
    const raw = [
      'Content-Type',
      'Text/Plain',
      'x-ok',
      'B',
      'X-\u00c4\u0130',
      'C',
      'KEEP-ALIVE',
      'x',
    ];
    expect(lowerCaseNames(raw)).toEqual([
      'content-type',
      'Text/Plain',
      'x-ok',
      'B',
      'x-\u00e4i\u0307',
      'C',
      'keep-alive',
      'x',
    ]);
  });
});
