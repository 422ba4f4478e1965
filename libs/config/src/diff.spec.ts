import { describe, expect, it } from 'vitest';
import { doc, route, service, services, validate } from '../testing/fixtures.js';
import { diffSnapshots } from './diff.js';
import { buildSnapshot } from './snapshot.js';

const snapshot = (version: number, ...docs: unknown[]) =>
  buildSnapshot(validate(...docs).resources, version);

describe('diffSnapshots', () => {
  it('treats everything as added without a previous snapshot', () => {
    const next = snapshot(1, ...services());
    expect(diffSnapshots(undefined, next)).toEqual({
      added: [...next.resources],
      removed: [],
      changed: [],
      unchanged: 0,
    });
  });

  it('finds added, removed, changed and unchanged resources', () => {
    const previous = snapshot(
      1,
      ...services(),
      route({}),
      doc('RetryBudget', 'catalog', { service: 'catalog' }),
    );
    const next = snapshot(
      2,
      ...services().slice(0, 2),
      service('pricing', [81]),
      route({}),
      doc('Telemetry', 'mesh', {}),
    );
    const diff = diffSnapshots(previous, next);
    expect(diff.added.map((r) => r.kind)).toEqual(['Telemetry']);
    expect(diff.removed).toEqual([{ kind: 'RetryBudget', namespace: 'shop', name: 'catalog' }]);
    expect(diff.changed.map((r) => [r.kind, r.metadata.name])).toEqual([['Service', 'pricing']]);
    expect(diff.changed[0]).toBe(
      next.resources.find((r) => r.metadata.name === 'pricing' && r.kind === 'Service'),
    );
    expect(diff.unchanged).toBe(3);
  });

  it('reports nothing changed between snapshots of the same content', () => {
    expect(diffSnapshots(snapshot(1, ...services()), snapshot(2, ...services().reverse()))).toEqual(
      {
        added: [],
        removed: [],
        changed: [],
        unchanged: 3,
      },
    );
  });

  it('reports everything removed when the next snapshot is empty', () => {
    expect(diffSnapshots(snapshot(1, service('a')), snapshot(2)).removed).toEqual([
      { kind: 'Service', namespace: 'shop', name: 'a' },
    ]);
  });
});
