import { describe, expect, it } from 'vitest';
import { isIPv4, isIPv6, isIpAddress } from './ip-address.js';

describe('isIPv4', () => {
  it.each(['0.0.0.0', '127.0.0.1', '255.255.255.255', '10.20.30.40'])('accepts %s', (text) => {
    expect(isIPv4(text)).toBe(true);
  });

  it.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.', '', 'a.b.c.d', '1.2.3.4 '])(
    'rejects %j',
    (text) => {
      expect(isIPv4(text)).toBe(false);
    },
  );
});

describe('isIPv6', () => {
  it.each([
    '::',
    '::1',
    '1::',
    'fe80::1',
    '2001:db8:0:0:0:0:2:1',
    '2001:DB8::8:800:200C:417A',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:7::',
  ])('accepts %s', (text) => {
    expect(isIPv6(text)).toBe(true);
  });

  it.each([
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'fe80::1%eth0',
    '::ffff:1.2.3',
    'g::1',
    '1:2:3:4:5:6:7:8::',
  ])('rejects %j', (text) => {
    expect(isIPv6(text)).toBe(false);
  });
});

describe('isIpAddress', () => {
  it('accepts either family', () => {
    expect([isIpAddress('10.0.0.1'), isIpAddress('::1'), isIpAddress('example.com')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
