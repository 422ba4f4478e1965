import { describe, expect, it } from 'vitest';
import { ProtocolError, encodeMessage } from '@trellis/mesh-protocol';
import type { ProxyStatus } from '@trellis/mesh-protocol';
import { readStatusMessage } from './status-listener.js';

const status: ProxyStatus = {
  proxy: {
    namespace: 'shop',
    pod: 'web-1',
    service: 'web',
    role: 'sidecar',
    labels: {},
    startedAt: '2025-01-01T00:00:00.000Z',
  },
  kind: 'heartbeat',
  version: 3,
  hash: 'sha256:h',
  at: '2025-01-01T00:00:10.000Z',
};

function code(result: ProxyStatus | ProtocolError): string | undefined {
  return result instanceof ProtocolError ? result.code : undefined;
}

describe('readStatusMessage', () => {
  it('reads a status sent on its own subject', () => {
    expect(readStatusMessage('trellis.v1.status.shop.web-1', encodeMessage(status), 1_000)).toEqual(
      status,
    );
  });

  it('refuses a status whose subject names another proxy', () => {
    expect(
      code(readStatusMessage('trellis.v1.status.shop.web-2', encodeMessage(status), 1_000)),
    ).toBe('TRL_PROTO_IDENTITY_MISMATCH');
    expect(
      code(readStatusMessage('trellis.v1.status.other.web-1', encodeMessage(status), 1_000)),
    ).toBe('TRL_PROTO_IDENTITY_MISMATCH');
  });

  it('refuses a subject that is not trellis.v1.status.<namespace>.<pod>', () => {
    expect(
      code(readStatusMessage('trellis.v1.status.shop.web-1.extra', encodeMessage(status), 1_000)),
    ).toBe('TRL_PROTO_INVALID');
  });

  it('refuses oversized, non-JSON and mis-shaped payloads', () => {
    const subject = 'trellis.v1.status.shop.web-1';
    expect(code(readStatusMessage(subject, encodeMessage(status), 10))).toBe('TRL_PROTO_TOO_LARGE');
    expect(code(readStatusMessage(subject, new TextEncoder().encode('nope'), 1_000))).toBe(
      'TRL_PROTO_MALFORMED',
    );
    expect(
      code(
        readStatusMessage(
          subject,
          encodeMessage({ ...status, kind: 'hello' } as unknown as ProxyStatus),
          1_000,
        ),
      ),
    ).toBe('TRL_PROTO_INVALID');
  });
});
