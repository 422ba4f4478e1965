import { describe, expect, it } from 'vitest';
import { applyConfigUpdate, decodeConfigUpdate } from '@trellis/mesh-protocol';
import { snapshotOf } from '../testing/fixtures.js';
import { encodeConfigUpdate } from './config-update.js';

const at = new Date('2025-03-01T12:00:00.000Z');
const v1 = snapshotOf(['catalog', 'pricing'], 1);
const v2 = snapshotOf(['catalog', 'orders'], 2);

describe('encodeConfigUpdate', () => {
  it('sends the increment over the previous version', () => {
    const { kind, update, bytes } = encodeConfigUpdate(v1, v2, at, 1_000_000);
    expect(kind).toBe('increment');
    expect(update).toMatchObject({
      version: 2,
      baseVersion: 1,
      hash: v2.hash,
      changed: [],
      publishedAt: '2025-03-01T12:00:00.000Z',
    });
    expect(update.added.map((r) => r.metadata.name)).toEqual(['orders']);
    expect(update.removed).toEqual([{ kind: 'Service', namespace: 'shop', name: 'pricing' }]);
    expect(decodeConfigUpdate(bytes)).toEqual(update);
    const applied = applyConfigUpdate(v1, update);
    expect(applied.kind === 'applied' && applied.snapshot.hash).toBe(v2.hash);
  });

  it('sends a resync marker when the increment is larger than the limit', () => {
    const increment = encodeConfigUpdate(v1, v2, at, 1_000_000).bytes.byteLength;
    const { kind, update } = encodeConfigUpdate(v1, v2, at, increment - 1);
    expect(kind).toBe('resync');
    expect(update).toEqual({
      version: 2,
      baseVersion: 0,
      hash: v2.hash,
      added: [],
      changed: [],
      removed: [],
      publishedAt: '2025-03-01T12:00:00.000Z',
    });
  });

  it('sends a resync marker when the previous version is unknown', () => {
    expect(encodeConfigUpdate(undefined, v2, at, 1_000_000).kind).toBe('resync');
  });

  it('makes a sidecar behind see a gap, and one on the version see a duplicate', () => {
    const { update } = encodeConfigUpdate(undefined, v2, at, 1_000_000);
    expect(applyConfigUpdate(v1, update)).toEqual({ kind: 'gap', have: 1, base: 0 });
    expect(applyConfigUpdate(undefined, update)).toEqual({ kind: 'gap', have: 0, base: 0 });
    expect(applyConfigUpdate(v2, update)).toEqual({ kind: 'stale' });
  });
});
