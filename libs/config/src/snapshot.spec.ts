import { describe, expect, it } from 'vitest';
import { doc, route, service, services, validate } from '../testing/fixtures.js';
import { ConfigError } from './errors.js';
import type { Resource } from './schema/resources.js';
import { buildSnapshot, compareResources, resourceKey } from './snapshot.js';

function resources(...docs: unknown[]): Resource[] {
  const result = validate(...docs);
  expect(result.issues).toEqual([]);
  return result.resources;
}

const shop = () =>
  resources(
    ...services(),
    route({}),
    doc('RetryBudget', 'catalog', { service: 'catalog' }),
    service('a', [80], 'default'),
  );

describe('buildSnapshot', () => {
  it('sorts resources by kind, namespace and name', () => {
    const snapshot = buildSnapshot(shop().reverse(), 1);
    expect(snapshot.resources.map(resourceKey)).toEqual([
      'Service/default/a',
      'Service/shop/catalog',
      'Service/shop/catalog-v2',
      'Service/shop/pricing',
      'Route/shop/catalog',
      'RetryBudget/shop/catalog',
    ]);
  });

  it('hashes content, not resource order', () => {
    expect(buildSnapshot(shop(), 1).hash).toBe(buildSnapshot(shop().reverse(), 2).hash);
  });

  it('hashes content, not key order', () => {
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverseKeys)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reverseKeys(v)]),
            )
          : value;
    const reordered = shop().map((r) => reverseKeys(r) as Resource);
    expect(Object.keys(reordered[0] as object)[0]).toBe('spec');
    expect(buildSnapshot(reordered, 1).hash).toBe(buildSnapshot(shop(), 1).hash);
  });

  it('hashes resources with and without explicit defaults alike', () => {
    const explicit = resources(doc('Service', 'a', { ports: [{ port: 80, protocol: 'http1' }] }));
    const implicit = [{ ...explicit[0], spec: { ports: [{ port: 80 }] } } as Resource];
    expect(buildSnapshot(implicit, 1).hash).toBe(buildSnapshot(explicit, 1).hash);
  });

  it('gives different content a different hash', () => {
    const changed = resources(
      ...services().slice(0, 2),
      service('pricing', [81]),
      route({}),
      doc('RetryBudget', 'catalog', { service: 'catalog' }),
      service('a', [80], 'default'),
    );
    expect(buildSnapshot(changed, 1).hash).not.toBe(buildSnapshot(shop(), 1).hash);
  });

  it('writes the hash as sha256:<64 hex digits>', () => {
    expect(buildSnapshot([], 1).hash).toBe(
      'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945',
    );
  });

  it('freezes the snapshot deeply', () => {
    const snapshot = buildSnapshot(shop(), 3);
    const route = snapshot.resources.find((r) => r.kind === 'Route') as {
      spec: { hosts: string[] };
    };
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.resources)).toBe(true);
    expect(Object.isFrozen(route.spec.hosts)).toBe(true);
    expect(() => route.spec.hosts.push('x')).toThrow(TypeError);
  });

  it('does not freeze or change the caller’s resources', () => {
    const input = shop();
    const before = JSON.stringify(input);
    buildSnapshot(input, 1);
    expect(Object.isFrozen(input[0])).toBe(false);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('keeps the version', () => {
    expect(buildSnapshot([], 42).version).toBe(42);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
    'rejects version %d',
    (version) => {
      expect(() => buildSnapshot([], version)).toThrow(
        expect.objectContaining({
          code: 'TRL_CFG_INVALID',
          message: `snapshot version must be a positive safe integer (got ${String(version)})`,
        }),
      );
    },
  );

  it('rejects resources with errors and carries the issues', () => {
    const broken = { ...resources(service('a'))[0], spec: { ports: [{ port: 0 }] } } as Resource;
    let error: unknown;
    try {
      buildSnapshot([broken, broken], 1);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('TRL_CFG_INVALID');
    expect((error as ConfigError).message).toBe(
      'resources do not validate (3 errors; first: service/a.shop: spec.ports[0].port: must be ≥ 1 (got 0))',
    );
    expect((error as ConfigError).issues.map((i) => i.code)).toEqual([
      'TRL_CFG_SCHEMA',
      'TRL_CFG_SCHEMA',
      'TRL_CFG_DUPLICATE',
    ]);
  });

  it('accepts resources with warnings only', () => {
    const { resources: overlapping, issues } = validate(
      ...services(),
      route({}, 'one'),
      route({}, 'two'),
    );
    expect(issues.map((i) => i.severity)).toEqual(['warning']);
    expect(buildSnapshot(overlapping, 1).resources).toHaveLength(5);
  });
});

describe('resourceKey', () => {
  it('joins kind, namespace and name', () => {
    expect(resourceKey(resources(service('a'))[0] as Resource)).toBe('Service/shop/a');
  });

  it('accepts a key object', () => {
    expect(resourceKey({ kind: 'Route', namespace: 'shop', name: 'checkout' })).toBe(
      'Route/shop/checkout',
    );
  });
});

describe('compareResources', () => {
  it('orders by kind before namespace', () => {
    const [svc] = resources(service('z', [80], 'z'));
    const [budget] = resources(
      service('a', [80], 'a'),
      doc('RetryBudget', 'a', { service: 'a' }, 'a'),
    ).slice(1);
    expect(compareResources(svc as Resource, budget as Resource)).toBeLessThan(0);
  });
});
