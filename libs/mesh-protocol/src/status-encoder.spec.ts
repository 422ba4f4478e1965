import { describe, expect, it } from 'vitest';
import { decodeProxyStatus, encodeMessage } from './messages.js';
import type { ProxyIdentity, ProxyStatus } from './messages.js';
import { statusEncoder } from './status-encoder.js';

const identity: ProxyIdentity = {
  namespace: 'shop',
  pod: 'catalog-7d9f-abc',
  service: 'catalog',
  role: 'sidecar',
  labels: { app: 'catalog', 'quote"d': 'a\\b' },
  startedAt: '2026-11-25T10:00:00.000Z',
};
const at = '2026-11-25T10:00:01.500Z';
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('statusEncoder', () => {
  it('encodes an ACK, a heartbeat and a goodbye to the same bytes as encodeMessage', () => {
    const encode = statusEncoder(identity);
    for (const kind of ['ack', 'heartbeat', 'goodbye'] as const) {
      const status: ProxyStatus = { proxy: identity, kind, version: 7, hash: 'sha256:ab', at };
      expect(text(encode(status))).toBe(text(encodeMessage(status)));
    }
  });

  it('encodes a sidecar without config (version 0, empty hash) that decodes back to it', () => {
    const status: ProxyStatus = { proxy: identity, kind: 'heartbeat', version: 0, hash: '', at };
    expect(decodeProxyStatus(statusEncoder(identity)(status))).toEqual(status);
  });

  it('encodes a NACK with its rejected version and issues in full', () => {
    const status: ProxyStatus = {
      proxy: identity,
      kind: 'nack',
      version: 6,
      hash: 'sha256:ab',
      at,
      rejectedVersion: 7,
      issues: [{ severity: 'error', code: 'TRL_X', message: 'bad' }],
    };
    expect(text(statusEncoder(identity)(status))).toBe(text(encodeMessage(status)));
  });

  it("never stamps its own identity on another identity's status", () => {
    const other: ProxyIdentity = { ...identity, pod: 'catalog-other' };
    const status: ProxyStatus = { proxy: other, kind: 'ack', version: 7, hash: 'sha256:ab', at };
    expect(decodeProxyStatus(statusEncoder(identity)(status)).proxy.pod).toBe('catalog-other');
  });
});
