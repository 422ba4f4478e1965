import { buildSnapshot } from '@trellis/config';
import { encodeMessage, makeConfigUpdate } from '@trellis/mesh-protocol';
import { describe, expect, it } from 'vitest';
import { danglingRoute, service, snapshotV } from '../testing/fixtures.js';
import { SnapshotBuildCache } from './build-cache.js';

const at = new Date('2025-01-01T00:00:00Z');

describe('SnapshotBuildCache.applyUpdate', () => {
  it('computes an applied update once and hands every caller the same frozen snapshot', () => {
    const cache = new SnapshotBuildCache();
    const base = snapshotV(1);
    const update = makeConfigUpdate(base, snapshotV(2), at);
    const first = cache.applyUpdate(base, update);
    const second = cache.applyUpdate(snapshotV(1), update);
    expect(first.kind).toBe('applied');
    expect(second).toBe(first);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('answers stale and gap from versions without touching the cache', () => {
    const cache = new SnapshotBuildCache();
    const update = makeConfigUpdate(snapshotV(2), snapshotV(3), at);
    expect(cache.applyUpdate(snapshotV(3), update)).toEqual({ kind: 'stale' });
    expect(cache.applyUpdate(snapshotV(1), update)).toEqual({ kind: 'gap', have: 1, base: 2 });
    expect(cache.applyUpdate(undefined, update)).toEqual({ kind: 'gap', have: 0, base: 2 });
    expect(cache.stats).toEqual({ hits: 0, misses: 0, size: 0 });
  });

  it('keys on the base content: same version, different base hash is computed afresh', () => {
    const cache = new SnapshotBuildCache();
    const update = makeConfigUpdate(snapshotV(1), snapshotV(2), at);
    const otherBase = buildSnapshot([service('other')], 1);
    expect(cache.applyUpdate(snapshotV(1), update).kind).toBe('applied');
    expect(cache.applyUpdate(otherBase, update).kind).toBe('hash-mismatch');
    expect(cache.stats).toEqual({ hits: 0, misses: 2, size: 2 });
  });

  it('answers the very same base and update objects again from memory', () => {
    const cache = new SnapshotBuildCache();
    const base = snapshotV(1);
    const update = makeConfigUpdate(base, snapshotV(2), at);
    const first = cache.applyUpdate(base, update);
    expect(cache.applyUpdate(base, update)).toBe(first);
    expect(cache.applyUpdate(base, update)).toBe(first);
    expect(cache.stats).toEqual({ hits: 2, misses: 1, size: 1 });
  });

  it("never hands one base's outcome to another base at the same version, alternating between them", () => {
    const cache = new SnapshotBuildCache();
    const base = snapshotV(1);
    const otherBase = buildSnapshot([service('other')], 1);
    const update = makeConfigUpdate(base, snapshotV(2), at);
    const kinds = [base, otherBase, base, otherBase].map((b) => cache.applyUpdate(b, update).kind);
    expect(kinds).toEqual(['applied', 'hash-mismatch', 'applied', 'hash-mismatch']);
    const applied = cache.applyUpdate(base, update);
    expect(applied.kind === 'applied' && applied.snapshot.hash).toBe(snapshotV(2).hash);
  });

  it('remembers invalid outcomes too', () => {
    const cache = new SnapshotBuildCache();
    const base = snapshotV(1);
    const update = { ...makeConfigUpdate(base, snapshotV(2), at), added: [danglingRoute()] };
    const first = cache.applyUpdate(base, update);
    expect(first.kind).toBe('invalid');
    expect(cache.applyUpdate(base, update)).toBe(first);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new SnapshotBuildCache(2);
    const one = cache.buildFull(snapshotV(1));
    cache.buildFull(snapshotV(2));
    cache.buildFull(snapshotV(1)); // 1 is now the most recent
    cache.buildFull(snapshotV(3)); // evicts 2
    expect(cache.buildFull(snapshotV(1))).toBe(one);
    expect(cache.stats).toEqual({ hits: 2, misses: 3, size: 2 });
    cache.buildFull(snapshotV(2));
    expect(cache.stats.misses).toBe(4);
  });
});

describe('SnapshotBuildCache.decodeUpdate', () => {
  const bytes = encodeMessage(makeConfigUpdate(snapshotV(1), snapshotV(2), at));

  it('decodes equal bytes (from different buffers) once and returns the same update object', () => {
    const cache = new SnapshotBuildCache();
    const first = cache.decodeUpdate(bytes, 1024);
    const copy = new Uint8Array(bytes.byteLength + 4).subarray(2, 2 + bytes.byteLength);
    copy.set(bytes);
    expect(cache.decodeUpdate(copy, 1024)).toBe(first);
    expect(first.version).toBe(2);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, size: 0 });
  });

  it('decodes different bytes afresh', () => {
    const cache = new SnapshotBuildCache();
    const first = cache.decodeUpdate(bytes, 1024);
    const other = cache.decodeUpdate(
      encodeMessage(makeConfigUpdate(snapshotV(2), snapshotV(3), at)),
      1024,
    );
    expect(other).not.toBe(first);
    expect(other.version).toBe(3);
  });

  it('does not remember bytes that fail to decode', () => {
    const cache = new SnapshotBuildCache();
    const bad = new TextEncoder().encode('{"version":');
    expect(() => cache.decodeUpdate(bad, 1024)).toThrow(
      expect.objectContaining({ code: 'TRL_PROTO_MALFORMED' }),
    );
    expect(() => cache.decodeUpdate(bad, 1024)).toThrow(
      expect.objectContaining({ code: 'TRL_PROTO_MALFORMED' }),
    );
    expect(cache.stats.hits).toBe(0);
  });

  it('refuses remembered bytes that exceed a smaller limit', () => {
    const cache = new SnapshotBuildCache();
    cache.decodeUpdate(bytes, 1024);
    expect(() => cache.decodeUpdate(bytes, 10)).toThrow(
      expect.objectContaining({ code: 'TRL_PROTO_TOO_LARGE' }),
    );
  });
});

describe('SnapshotBuildCache.buildFull', () => {
  it('validates and returns the snapshot when its content has the announced hash', () => {
    const wire = snapshotV(2);
    const built = new SnapshotBuildCache().buildFull({
      version: 2,
      hash: wire.hash,
      resources: wire.resources,
    });
    expect(built).toEqual({ kind: 'built', snapshot: wire });
  });

  it('refuses content that does not hash to the announced hash', () => {
    const wire = snapshotV(2);
    const built = new SnapshotBuildCache().buildFull({
      version: 2,
      hash: 'sha256:00',
      resources: wire.resources,
    });
    expect(built).toEqual({
      kind: 'invalid',
      issues: [
        {
          severity: 'error',
          code: 'TRL_DELIVERY_HASH_MISMATCH',
          message: `snapshot 2 hashes to ${wire.hash}, not the announced sha256:00`,
        },
      ],
    });
  });

  it('reports the validation issues of invalid resources', () => {
    const built = new SnapshotBuildCache().buildFull({
      version: 4,
      hash: 'sha256:00',
      resources: [danglingRoute()],
    });
    expect(built.kind).toBe('invalid');
    expect(built.kind === 'invalid' && built.issues.map((i) => i.code)).toEqual([
      'TRL_CFG_REFERENCE',
    ]);
  });

  it('refuses version 0 with the builder issue', () => {
    const built = new SnapshotBuildCache().buildFull({ version: 0, hash: '', resources: [] });
    expect(built).toEqual({
      kind: 'invalid',
      issues: [
        {
          severity: 'error',
          code: 'TRL_CFG_INVALID',
          message: 'snapshot version must be a positive safe integer (got 0)',
        },
      ],
    });
  });
});
