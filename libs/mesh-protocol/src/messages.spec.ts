import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import {
  decodeConfigUpdate,
  decodeProxyStatus,
  decodeSyncReply,
  decodeSyncRequest,
  encodeMessage,
} from './messages.js';
import type { ProxyIdentity, ProxyStatus, SyncRequest } from './messages.js';

const proxy: ProxyIdentity = {
  namespace: 'shop',
  pod: 'catalog-7d9f-abc',
  service: 'catalog',
  role: 'sidecar',
  labels: { app: 'catalog' },
  startedAt: '2026-11-25T10:00:00.000Z',
};
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

describe('decoders', () => {
  it('round-trip every message kind', () => {
    const request: SyncRequest = { proxy, version: 3, hash: 'sha256:aa' };
    expect(decodeSyncRequest(encodeMessage(request))).toEqual(request);
    const status: ProxyStatus = {
      proxy,
      kind: 'nack',
      version: 3,
      hash: 'sha256:aa',
      rejectedVersion: 4,
      issues: [{ severity: 'error', code: 'TRL_CFG_SCHEMA', message: 'is required' }],
      at: '2026-11-25T10:00:01.000Z',
    };
    expect(decodeProxyStatus(encodeMessage(status))).toEqual(status);
    expect(decodeSyncReply(encodeMessage({ kind: 'current', version: 3, hash: 'h' }))).toEqual({
      kind: 'current',
      version: 3,
      hash: 'h',
    });
    expect(
      decodeSyncReply(encodeMessage({ kind: 'unavailable', reason: 'no config yet' })),
    ).toEqual({ kind: 'unavailable', reason: 'no config yet' });
    const update = {
      version: 5,
      baseVersion: 4,
      hash: 'h',
      added: [],
      changed: [],
      removed: [{ kind: 'Route', namespace: 'shop', name: 'x' }],
      publishedAt: 't',
    };
    expect(decodeConfigUpdate(encodeMessage(update as never))).toEqual(update);
  });

  it('reject oversized messages before parsing them', () => {
    const error = protocolError(() => decodeSyncRequest(new Uint8Array(101), 100));
    expect(error.code).toBe('TRL_PROTO_TOO_LARGE');
    expect(error.message).toBe('sync request: 101 bytes exceeds the 100-byte limit');
  });

  it('reject bytes that are not a JSON object', () => {
    expect(protocolError(() => decodeProxyStatus(new TextEncoder().encode('{nope'))).code).toBe(
      'TRL_PROTO_MALFORMED',
    );
    expect(protocolError(() => decodeProxyStatus(bytes([1, 2]))).message).toBe(
      'proxy status: must be a JSON object',
    );
    expect(protocolError(() => decodeProxyStatus(new Uint8Array([0xff, 0xfe]))).code).toBe(
      'TRL_PROTO_MALFORMED',
    );
  });

  it('name the field that is wrong', () => {
    expect(
      protocolError(() => decodeSyncRequest(bytes({ proxy, version: -1, hash: '' }))).message,
    ).toBe('sync request: version: must be a whole number ≥ 0 (got -1)');
    expect(
      protocolError(() =>
        decodeSyncRequest(bytes({ proxy: { ...proxy, pod: 'a.b' }, version: 1, hash: '' })),
      ).message,
    ).toBe('sync request: proxy.pod: must be a DNS label (got "a.b")');
    expect(
      protocolError(() =>
        decodeSyncRequest(bytes({ proxy: { ...proxy, role: 'mesh' }, version: 1, hash: '' })),
      ).message,
    ).toBe('sync request: proxy.role: must be sidecar or gateway (got "mesh")');
    expect(
      protocolError(() =>
        decodeProxyStatus(bytes({ proxy, kind: 'ok', version: 1, hash: '', at: '' })),
      ).message,
    ).toBe('proxy status: kind: must be one of ack, nack, heartbeat, goodbye (got "ok")');
    expect(
      protocolError(() =>
        decodeSyncReply(
          bytes({ kind: 'full', snapshot: { version: 1, hash: 'h', resources: [7] } }),
        ),
      ).message,
    ).toBe('sync reply.snapshot: resources[0]: must be a resource with kind and metadata');
  });

  it('reject an update whose version does not move forward', () => {
    const update = {
      version: 4,
      baseVersion: 4,
      hash: 'h',
      added: [],
      changed: [],
      removed: [],
      publishedAt: 't',
    };
    expect(protocolError(() => decodeConfigUpdate(bytes(update))).message).toBe(
      'config update: version: must be greater than baseVersion 4 (got 4)',
    );
  });
});
