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
});
