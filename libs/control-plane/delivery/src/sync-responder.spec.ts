import { describe, expect, it } from 'vitest';
import { encodeMessage, subjects } from '@trellis/mesh-protocol';
import type { ProxyIdentity, SyncRequest } from '@trellis/mesh-protocol';
import { snapshotOf } from '../testing/fixtures.js';
import { UNAVAILABLE_REASON, readSyncRequest, syncReplyFor } from './sync-responder.js';

const proxy: ProxyIdentity = {
  namespace: 'shop',
  pod: 'web-1',
  service: 'web',
  role: 'sidecar',
  labels: {},
  startedAt: '2025-01-01T00:00:00.000Z',
};
const latest = snapshotOf(['catalog'], 4);
const request = (version: number, hash: string): SyncRequest => ({ proxy, version, hash });
const text = (s: string) => new TextEncoder().encode(s);

describe('syncReplyFor', () => {
  it('answers current to a proxy holding the newest version and hash', () => {
    expect(syncReplyFor(request(4, latest.hash), latest)).toEqual({
      kind: 'current',
      version: 4,
      hash: latest.hash,
    });
  });

  it('answers full to a proxy holding nothing, an older version, or the version with another hash', () => {
    for (const [version, hash] of [
      [0, ''],
      [3, 'sha256:old'],
      [4, 'sha256:other'],
    ] as const) {
      expect(syncReplyFor(request(version, hash), latest)).toEqual({
        kind: 'full',
        snapshot: { version: 4, hash: latest.hash, resources: latest.resources },
      });
    }
  });

  it('answers unavailable before any config is stored', () => {
    expect(syncReplyFor(request(0, ''), undefined)).toEqual({
      kind: 'unavailable',
      reason: UNAVAILABLE_REASON,
    });
  });
});

describe('readSyncRequest', () => {
  const web1 = subjects.sync('shop', 'web-1');

  it('reads a request sent on its proxy’s own subject', () => {
    expect(readSyncRequest(web1, encodeMessage(request(2, 'h')), 1_000)).toEqual({
      request: request(2, 'h'),
    });
  });

  it('refuses what it cannot read with the ProtocolError code', () => {
    const codes = [
      text('{'),
      text('{"proxy":{},"version":1,"hash":""}'),
      new Uint8Array(2_000),
    ].map((data) => readSyncRequest(web1, data, 1_000).error?.code);
    expect(codes).toEqual(['TRL_PROTO_MALFORMED', 'TRL_PROTO_INVALID', 'TRL_PROTO_TOO_LARGE']);
  });

  it('refuses a request naming another proxy than its subject, as a status would be', () => {
    const bytes = encodeMessage(request(2, 'h'));
    expect(
      [subjects.sync('shop', 'web-2'), subjects.sync('blog', 'web-1')].map(
        (subject) => readSyncRequest(subject, bytes, 1_000).error?.code,
      ),
    ).toEqual(['TRL_PROTO_IDENTITY_MISMATCH', 'TRL_PROTO_IDENTITY_MISMATCH']);
    expect(readSyncRequest(`${web1}.extra`, bytes, 1_000).error?.code).toBe('TRL_PROTO_INVALID');
  });
});
