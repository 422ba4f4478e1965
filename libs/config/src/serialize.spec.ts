import { describe, expect, it } from 'vitest';
import { route, services, validate } from '../testing/fixtures.js';
import { parseDocuments } from './parse.js';
import type { Resource } from './schema/resources.js';
import { serializeResources } from './serialize.js';
import { validateDocuments } from './validate/validate-documents.js';

function roundTrip(resources: readonly Resource[]) {
  const parsed = parseDocuments(serializeResources(resources), 'round-trip.yaml');
  expect(parsed.issues).toEqual([]);
  return validateDocuments(parsed.documents);
}

describe('serializeResources', () => {
  it('writes one document per resource with keys in schema order', () => {
    const { resources } = validate(...services().slice(0, 1));
    expect(serializeResources(resources)).toBe(`apiVersion: trellis.dev/v1alpha1
kind: Service
metadata:
  name: catalog
  namespace: shop
spec:
  ports:
    - port: 80
      protocol: http1
`);
  });

  it('separates documents with ---', () => {
    const { resources } = validate(...services().slice(0, 2));
    expect(
      serializeResources(resources)
        .split('\n')
        .filter((line) => line === '---'),
    ).toHaveLength(1);
  });

  it('writes nothing for no resources', () => {
    expect(serializeResources([])).toBe('');
  });

  it('round-trips through parse and validate', () => {
    const { resources } = validate(
      ...services(),
      route({
        hosts: ['catalog', '*.example.com'],
        match: {
          headers: [
            { name: 'x-yes', exact: 'yes' },
            { name: 'x-num', exact: '0123' },
          ],
        },
        requestHeaders: {
          set: { 'x-null': 'null', 'x-bool': 'true', 'x-tricky': ': - # {} [] "q" \'s' },
        },
        fault: { delay: { percent: 0.5, duration: '1.5s' } },
      }),
    );
    expect(resources).toHaveLength(4);
    expect(roundTrip(resources)).toEqual({ resources, issues: [] });
  });

  it('writes hand-built resources in canonical key order', () => {
    const reordered = {
      spec: { ports: [{ protocol: 'h2c', port: 80 }] },
      metadata: { namespace: 'default', name: 'x' },
      kind: 'Service',
      apiVersion: 'trellis.dev/v1alpha1',
    } as Resource;
    expect(serializeResources([reordered]).split('\n').slice(0, 4)).toEqual([
      'apiVersion: trellis.dev/v1alpha1',
      'kind: Service',
      'metadata:',
      '  name: x',
    ]);
  });

  it('writes shared objects out in full rather than as YAML aliases', () => {
    const ports = [{ port: 80, protocol: 'http1' as const }];
    const make = (name: string): Resource => ({
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { ports },
    });
    const text = serializeResources([make('a'), make('b')]);
    expect(text).not.toMatch(/[&*]/);
  });
});
