import { describe, expect, it } from 'vitest';
import { isH2cUpgrade, upgradedRequest } from './upgrade.js';
import type { H2cUpgradeRequest } from './upgrade.js';

// SETTINGS_MAX_CONCURRENT_STREAMS=100, SETTINGS_INITIAL_WINDOW_SIZE=65535 (curl's shape).
const SETTINGS = 'AAMAAABkAAQAAP__';

function request(overrides: Partial<H2cUpgradeRequest> = {}): H2cUpgradeRequest {
  return {
    method: 'GET',
    target: '/x?y',
    authority: 'svc',
    upgrade: 'h2c',
    hasBody: false,
    headers: [
      'host',
      'svc',
      'connection',
      'Upgrade, HTTP2-Settings',
      'upgrade',
      'h2c',
      'http2-settings',
      SETTINGS,
      'te',
      'gzip',
      'accept',
      '*/*',
    ],
    ...overrides,
  };
}

describe('h2c upgrade', () => {
  it('accepts a bodiless request with Connection naming HTTP2-Settings and a valid payload', () => {
    expect(isH2cUpgrade(request())).toBe(true);
  });

  it('turns it into a stream-1 request without HTTP/1.1 connection fields', () => {
    const upgraded = upgradedRequest(request())!;
    expect(upgraded).toMatchObject({ method: 'GET', authority: 'svc', path: '/x?y' });
    expect(upgraded.headers).toEqual(['accept', '*/*']);
    expect([...upgraded.settings]).toEqual([0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 255, 255]);
  });

  it.each([
    ['a body', { hasBody: true }],
    ['another protocol', { upgrade: 'websocket' }],
    ['h2c among others', { upgrade: 'h2c, websocket' }],
    ['CONNECT', { method: 'CONNECT' }],
    [
      'HTTP2-Settings not nominated by Connection',
      { headers: ['connection', 'Upgrade', 'http2-settings', SETTINGS] },
    ],
    ['no HTTP2-Settings', { headers: ['connection', 'Upgrade, HTTP2-Settings'] }],
    [
      'two HTTP2-Settings',
      {
        headers: [
          'connection',
          'Upgrade, HTTP2-Settings',
          'http2-settings',
          SETTINGS,
          'http2-settings',
          SETTINGS,
        ],
      },
    ],
    [
      'HTTP2-Settings not base64url',
      { headers: ['connection', 'Upgrade, HTTP2-Settings', 'http2-settings', 'AAMA+AB/'] },
    ],
    [
      'HTTP2-Settings not whole settings',
      { headers: ['connection', 'Upgrade, HTTP2-Settings', 'http2-settings', 'AAMAAA'] },
    ],
  ])('refuses a request with %s', (_name, overrides) => {
    expect(isH2cUpgrade(request(overrides as Partial<H2cUpgradeRequest>))).toBe(false);
    expect(upgradedRequest(request(overrides as Partial<H2cUpgradeRequest>))).toBeNull();
  });
});
