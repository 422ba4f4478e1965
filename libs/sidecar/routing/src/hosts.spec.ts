import { describe, expect, it } from 'vitest';
import { splitAuthority } from './hosts.js';

describe('splitAuthority', () => {
  it.each([
    ['catalog', { host: 'catalog', port: undefined }],
    ['Catalog.Shop:8080', { host: 'catalog.shop', port: 8080 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['[::1]', { host: '::1', port: undefined }],
    ['example.com.', { host: 'example.com', port: undefined }],
    ['example.com.:80', { host: 'example.com', port: 80 }],
    ['host:notaport', { host: 'host:notaport', port: undefined }],
  ])('%s', (authority, expected) => {
    expect(splitAuthority(authority)).toEqual(expected);
  });

  it('answers a repeated authority the same, between others, with parts nobody can change', () => {
    const order = ['a:1', 'a:1', 'B.example', 'a:1', '[::1]:9000', '[::1]:9000', 'a:2'];
    const parts = order.map((authority) => splitAuthority(authority));
    expect(parts).toEqual([
      { host: 'a', port: 1 },
      { host: 'a', port: 1 },
      { host: 'b.example', port: undefined },
      { host: 'a', port: 1 },
      { host: '::1', port: 9000 },
      { host: '::1', port: 9000 },
      { host: 'a', port: 2 },
    ]);
    expect(Object.isFrozen(parts[0])).toBe(true);
  });
});
