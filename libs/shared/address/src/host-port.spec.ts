import { describe, expect, it } from 'vitest';
import { formatHostPort, parseHostPort } from './host-port.js';

describe('parseHostPort', () => {
  it('parses host:port, [ipv6]:port and :port', () => {
    expect(parseHostPort('127.0.0.1:15000', '--admin')).toEqual({ host: '127.0.0.1', port: 15000 });
    expect(parseHostPort('[::1]:80', '--admin')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort(':15006', '--inbound')).toEqual({ host: '0.0.0.0', port: 15006 });
    expect(parseHostPort('localhost:0', '--x')).toEqual({ host: 'localhost', port: 0 });
  });

  it('names the flag and the expected forms on bad input', () => {
    for (const bad of ['15000', 'host:', 'host:99999', '::1:80', 'a:b']) {
      expect(() => parseHostPort(bad, '--admin')).toThrow(
        `--admin must be HOST:PORT, [IPv6]:PORT or :PORT (got "${bad}")`,
      );
    }
  });

  it('formats back, bracketing IPv6', () => {
    expect(formatHostPort({ host: '::1', port: 80 })).toBe('[::1]:80');
    expect(formatHostPort({ host: '10.0.0.1', port: 8080 })).toBe('10.0.0.1:8080');
  });
});
