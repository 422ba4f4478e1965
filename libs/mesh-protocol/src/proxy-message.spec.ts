import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { readProxyMessage } from './proxy-message.js';

const text = (s: string) => new TextEncoder().encode(s);
const decode = (data: Uint8Array): { proxy: { namespace: string; pod: string } } => {
  const value: unknown = JSON.parse(new TextDecoder().decode(data));
  if (typeof value !== 'object' || value === null || !('proxy' in value))
    throw new ProtocolError('TRL_PROTO_INVALID', 'no proxy');
  return value as { proxy: { namespace: string; pod: string } };
};
const fromWeb1 = text('{"proxy":{"namespace":"shop","pod":"web-1"}}');

function code(result: object): string | undefined {
  return result instanceof ProtocolError ? result.code : undefined;
}

describe('readProxyMessage', () => {
  it('reads a message sent on its proxy’s own subject', () => {
    expect(readProxyMessage('sync', 'trellis.v1.sync.shop.web-1', fromWeb1, decode)).toEqual({
      proxy: { namespace: 'shop', pod: 'web-1' },
    });
  });

  it('refuses a message whose subject names another proxy', () => {
    for (const subject of ['trellis.v1.sync.shop.web-2', 'trellis.v1.sync.other.web-1'])
      expect(code(readProxyMessage('sync', subject, fromWeb1, decode))).toBe(
        'TRL_PROTO_IDENTITY_MISMATCH',
      );
  });

  it('refuses a subject of another kind or shape before reading the payload', () => {
    for (const subject of [
      'trellis.v1.status.shop.web-1',
      'trellis.v1.sync.shop.web-1.extra',
      'trellis.v1.sync.shop',
    ])
      expect(code(readProxyMessage('sync', subject, text('{'), decode))).toBe('TRL_PROTO_INVALID');
  });

  it('passes on the decoder’s ProtocolError and reads anything else it throws as malformed', () => {
    const subject = 'trellis.v1.telemetry.shop.web-1';
    expect(code(readProxyMessage('telemetry', subject, text('{}'), decode))).toBe(
      'TRL_PROTO_INVALID',
    );
    expect(code(readProxyMessage('telemetry', subject, text('{'), decode))).toBe(
      'TRL_PROTO_MALFORMED',
    );
  });
});
