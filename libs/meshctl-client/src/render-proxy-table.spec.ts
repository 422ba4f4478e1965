import { describe, expect, it } from 'vitest';
import type { ProxyStatusMessage } from '@trellis/control-plane-api';
import { ago, renderProxyTable, shortHash } from './render-proxy-table.js';

const NOW = Date.parse('2026-01-01T00:01:00.000Z');
const proxy = (over: Partial<ProxyStatusMessage>): ProxyStatusMessage => ({
  namespace: 'shop',
  pod: 'web-1',
  service: 'web',
  role: 'sidecar',
  state: 'SYNCED',
  version: 3,
  hash: 'sha256:0123456789abcdef',
  last_seen: '2026-01-01T00:00:58.000Z',
  nack_version: 0,
  nack_issues: [],
  removed: false,
  ...over,
});

describe('renderProxyTable', () => {
  it('prints the latest version and one aligned row per proxy', () => {
    const text = renderProxyTable(
      {
        latest_version: 3,
        latest_hash: 'sha256:0123456789abcdef',
        proxies: [
          proxy({}),
          proxy({ pod: 'gateway-7f', service: '', role: 'gateway', state: 'STALE', version: 2 }),
        ],
      },
      NOW,
    );
    expect(text).toBe(
      [
        'latest version: 3 (0123456789ab)',
        'NAME        NAMESPACE  SERVICE  ROLE     STATE   VERSION  HASH          LAST SEEN',
        'web-1       shop       web      sidecar  SYNCED  3        0123456789ab  2s ago',
        'gateway-7f  shop       -        gateway  STALE   2        0123456789ab  2s ago',
        '',
      ].join('\n'),
    );
  });

  it('lists the issues of a NACKED proxy below the table', () => {
    const issue = {
      severity: 'error' as const,
      code: 'TRL_X',
      document: '',
      path: 'spec.a',
      message: 'bad',
      file: '',
      line: 0,
      column: 0,
      text: 'spec.a: bad',
    };
    const text = renderProxyTable(
      {
        latest_version: 4,
        latest_hash: 'sha256:ff',
        proxies: [proxy({ state: 'NACKED', nack_version: 4, nack_issues: [issue] })],
      },
      NOW,
    );
    expect(text.split('\n').slice(-4)).toEqual([
      '',
      'shop/web-1 refused version 4:',
      '  spec.a: bad',
      '',
    ]);
  });

  it('says when no config is stored and no proxy is known', () => {
    expect(renderProxyTable({ latest_version: 0, latest_hash: '', proxies: [] }, NOW)).toBe(
      'latest version: none stored yet\nno proxies known to the control plane\n',
    );
  });
});

describe('shortHash', () => {
  it('drops the algorithm and keeps 12 characters', () => {
    expect(shortHash('sha256:0123456789abcdef')).toBe('0123456789ab');
  });

  it('shows an empty hash as a dash', () => {
    expect(shortHash('')).toBe('-');
  });
});

describe('ago', () => {
  it.each([
    ['2026-01-01T00:00:59.500Z', '0s ago'],
    ['2026-01-01T00:00:01.000Z', '59s ago'],
    ['2026-01-01T00:00:00.000Z', '1m ago'],
    ['2025-12-31T21:00:00.000Z', '3h ago'],
    ['2025-12-28T00:00:00.000Z', '4d ago'],
    ['2026-01-01T00:02:00.000Z', '0s ago'],
    ['', '-'],
  ])('%s → %s', (time, expected) => {
    expect(ago(time, NOW)).toBe(expected);
  });
});
