import { buildSnapshot, loadConfig } from '@trellis/config';
import type { Resource } from '@trellis/config';
import { describe, expect, it } from 'vitest';
import { applyConfigUpdate, makeConfigUpdate } from './increments.js';

const service = (name: string, port = 80) =>
  `apiVersion: trellis.dev/v1alpha1\nkind: Service\nmetadata: {name: ${name}}\nspec: {ports: [{port: ${port}}]}\n`;
const resources = (...docs: string[]): Resource[] =>
  loadConfig([{ file: 't.yaml', text: docs.join('---\n') }]).resources;

const v1 = buildSnapshot(resources(service('a'), service('b')), 1);
const v2 = buildSnapshot(resources(service('a', 8080), service('c')), 2);

describe('config increments', () => {
  it('carry only the changes and rebuild the exact next snapshot', () => {
    const update = makeConfigUpdate(v1, v2, new Date('2026-11-25T00:00:00Z'));
    expect(update.added.map((r) => r.metadata.name)).toEqual(['c']);
    expect(update.changed.map((r) => r.metadata.name)).toEqual(['a']);
    expect(update.removed).toEqual([{ kind: 'Service', namespace: 'default', name: 'b' }]);
    const outcome = applyConfigUpdate(v1, update);
    expect(outcome.kind).toBe('applied');
    if (outcome.kind === 'applied') expect(outcome.snapshot.hash).toBe(v2.hash);
  });

  it('ignore a version already in force', () => {
    expect(applyConfigUpdate(v2, makeConfigUpdate(v1, v2, new Date()))).toEqual({ kind: 'stale' });
  });

  it('report a gap when the base is not the version in force', () => {
    const v3 = buildSnapshot(resources(service('d')), 3);
    expect(applyConfigUpdate(v1, makeConfigUpdate(v2, v3, new Date()))).toEqual({
      kind: 'gap',
      have: 1,
      base: 2,
    });
    expect(applyConfigUpdate(undefined, makeConfigUpdate(v1, v2, new Date()))).toEqual({
      kind: 'gap',
      have: 0,
      base: 1,
    });
  });

  it('report a hash mismatch when the increment does not produce the announced content', () => {
    const update = { ...makeConfigUpdate(v1, v2, new Date()), hash: 'sha256:other' };
    expect(applyConfigUpdate(v1, update)).toEqual({
      kind: 'hash-mismatch',
      expected: 'sha256:other',
      got: v2.hash,
    });
  });

  it('report invalid resources instead of throwing', () => {
    const broken = {
      ...v2.resources[0],
      metadata: { name: 'z', namespace: 'default' },
      spec: { ports: [] },
    };
    const bad = { ...makeConfigUpdate(v1, v2, new Date()), added: [broken as unknown as Resource] };
    const outcome = applyConfigUpdate(v1, bad);
    expect(outcome.kind).toBe('invalid');
  });

  it('report, with an invalid outcome, the content the update describes (the next base)', () => {
    const broken = {
      ...v2.resources[0],
      metadata: { name: 'z', namespace: 'default' },
      spec: { ports: [] },
    };
    const bad = { ...makeConfigUpdate(v1, v2, new Date()), added: [broken as unknown as Resource] };
    const outcome = applyConfigUpdate(v1, { ...bad, changed: [], removed: [] });
    expect(outcome.kind === 'invalid' && outcome.resources.map((r) => r.metadata.name)).toEqual([
      'a',
      'b',
      'z',
    ]);
  });
});
