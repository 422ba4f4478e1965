import { describe, expect, it } from 'vitest';
import { doc, problems, route, service, services, validate } from '../../testing/fixtures.js';
import { formatIssue } from '../issues.js';

const bucket = { maxTokens: 10, tokensPerFill: 5, fillInterval: '1s' };

describe('references', () => {
  it.each([
    ['Endpoints', { service: 'pricng', endpoints: [] }],
    ['DestinationPolicy', { service: 'pricng' }],
    ['RetryBudget', { service: 'pricng' }],
    ['Telemetry', { service: 'pricng' }],
    ['RateLimit', { service: 'pricng', tokenBucket: bucket }],
  ])('from %s to a service must resolve in its namespace', (kind, spec) => {
    const { issues } = validate(...services(), doc(kind, 'x', spec));
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_REFERENCE',
        document: `${kind.toLowerCase()}/x.shop`,
        path: 'spec.service',
        message: 'refers to unknown service "pricng" in namespace "shop"',
      },
    ]);
  });

  it('do not look into other namespaces', () => {
    expect(problems(doc('RetryBudget', 'x', { service: 'catalog' }, 'other'))).toEqual([
      'retrybudget/x.other: spec.service: refers to unknown service "catalog" in namespace "other"',
    ]);
  });

  it('from a RateLimit to a route must resolve', () => {
    expect(problems(doc('RateLimit', 'x', { route: 'checkout', tokenBucket: bucket }))).toEqual([
      'ratelimit/x.shop: spec.route: refers to unknown route "checkout" in namespace "shop"',
    ]);
  });

  it('from destinations resolve in the route namespace unless one is given', () => {
    expect(
      problems(
        service('billing', [80], 'finance'),
        route({
          destinations: [
            { service: 'pricng', weight: 50 },
            { service: 'billing', namespace: 'finance', weight: 25 },
            { service: 'catalog', namespace: 'finance', weight: 25 },
          ],
        }),
      ),
    ).toEqual([
      'route/catalog.shop: spec.destinations[0].service: refers to unknown service "pricng" in namespace "shop"',
      'route/catalog.shop: spec.destinations[2].service: refers to unknown service "catalog" in namespace "finance"',
    ]);
  });

  it('from a mirror must resolve', () => {
    expect(problems(route({ mirror: { service: 'shadow', percent: 5 } }))).toEqual([
      'route/catalog.shop: spec.mirror.service: refers to unknown service "shadow" in namespace "shop"',
    ]);
  });

  it('to a port must name one the service exposes', () => {
    expect(
      problems(
        route({
          destinations: [{ service: 'catalog', port: 8080 }],
          mirror: { service: 'pricing', port: 81 },
        }),
      ),
    ).toEqual([
      'route/catalog.shop: spec.destinations[0].port: service "catalog" in namespace "shop" has no port 8080 (ports: 80)',
      'route/catalog.shop: spec.mirror.port: service "pricing" in namespace "shop" has no port 81 (ports: 80)',
    ]);
  });

  it('must name the port of a service that has several', () => {
    const { issues } = validate(
      service('multi', [80, 9090]),
      route({ destinations: [{ service: 'multi' }] }),
    );
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_REFERENCE',
        document: 'route/catalog.shop',
        path: 'spec.destinations[0].port',
        message:
          'is required because service "multi" in namespace "shop" has several ports (80, 9090)',
      },
    ]);
    expect(
      validate(
        service('multi', [80, 9090]),
        route({ destinations: [{ service: 'multi', port: 9090 }] }),
      ).issues,
    ).toEqual([]);
  });

  it('to a broken service do not pile more issues onto the referrer', () => {
    expect(
      problems(
        service('broken', [0]),
        route({ destinations: [{ service: 'broken', port: 1234 }] }),
      ),
    ).toEqual(['service/broken.shop: spec.ports[0].port: must be ≥ 1 (got 0)']);
  });

  it('make only the referring document invalid', () => {
    const { resources } = validate(...services(), route({ destinations: [{ service: 'nope' }] }));
    expect(resources.map((r) => r.metadata.name)).toEqual(['catalog', 'catalog-v2', 'pricing']);
  });
});

describe('duplicates', () => {
  it('of kind, namespace and name are rejected on the later document', () => {
    const { issues, resources } = validate(service('a'), service('a', [81]));
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_DUPLICATE',
        document: 'service/a.shop',
        path: 'metadata.name',
        message: 'duplicate Service "a" in namespace "shop" (also at test[0])',
      },
    ]);
    expect(resources.map((r) => (r.spec as { ports: { port: number }[] }).ports[0]?.port)).toEqual([
      80,
    ]);
  });

  it('are found even in documents that are otherwise broken', () => {
    expect(validate(service('a'), service('a', [0])).issues.map(formatIssue)).toEqual([
      'service/a.shop: spec.ports[0].port: must be ≥ 1 (got 0)',
      'service/a.shop: metadata.name: duplicate Service "a" in namespace "shop" (also at test[0])',
    ]);
  });

  it('need the same namespace and kind', () => {
    expect(
      validate(service('a'), service('a', [80], 'other'), doc('RetryBudget', 'a', { service: 'a' }))
        .issues,
    ).toEqual([]);
  });

  it.each([
    ['Endpoints', { service: 'catalog', endpoints: [] }, 'an Endpoints'],
    ['DestinationPolicy', { service: 'catalog' }, 'a DestinationPolicy'],
    ['RetryBudget', { service: 'catalog' }, 'a RetryBudget'],
    ['Telemetry', { service: 'catalog' }, 'a Telemetry'],
    ['RateLimit', { service: 'catalog', tokenBucket: bucket }, 'a RateLimit'],
  ])('%s: one per service', (kind, spec, what) => {
    expect(problems(doc(kind, 'first', spec), doc(kind, 'second', spec))).toEqual([
      `${kind.toLowerCase()}/second.shop: spec.service: service "catalog" in namespace "shop" already has ${what} (${kind.toLowerCase()}/first.shop (at test[3]))`,
    ]);
  });

  it('RateLimit: one per route', () => {
    expect(
      problems(
        route({}),
        doc('RateLimit', 'first', { route: 'catalog', tokenBucket: bucket }),
        doc('RateLimit', 'second', { route: 'catalog', tokenBucket: bucket }),
      ),
    ).toEqual([
      'ratelimit/second.shop: spec.route: route "catalog" in namespace "shop" already has a RateLimit (ratelimit/first.shop (at test[4]))',
    ]);
  });

  it('Telemetry: one mesh-wide default', () => {
    expect(problems(doc('Telemetry', 'mesh', {}), doc('Telemetry', 'mesh', {}, 'other'))).toEqual([
      'telemetry/mesh.other: spec: the mesh already has a Telemetry (telemetry/mesh.shop (at test[3]))',
    ]);
  });

  it('of a whole document are not reported again as one-per-service clashes', () => {
    const policy = doc('DestinationPolicy', 'catalog', { service: 'catalog' });
    expect(problems(policy, policy)).toEqual([
      'destinationpolicy/catalog.shop: metadata.name: duplicate DestinationPolicy "catalog" in namespace "shop" (also at test[3])',
    ]);
  });
});

describe('aliases', () => {
  const aliased = (name: string, aliases: string[], namespace = 'shop') =>
    doc('Service', name, { ports: [{ port: 80 }], aliases }, namespace);

  it('may not be the name of another service', () => {
    expect(problems(aliased('store', ['catalog']))).toEqual([
      'service/store.shop: spec.aliases[0]: alias "catalog" is already a name of service/catalog.shop (at test[0])',
    ]);
  });

  it('may not be claimed twice', () => {
    expect(problems(aliased('a', ['www']), aliased('b', ['www']))).toEqual([
      'service/b.shop: spec.aliases[0]: alias "www" is already a name of service/a.shop (at test[3])',
    ]);
  });

  it('are per namespace', () => {
    expect(validate(aliased('a', ['www']), aliased('b', ['www'], 'other')).issues).toEqual([]);
  });
});

describe('overlapping routes', () => {
  it('warn on the later route and name the earlier one', () => {
    const { issues, resources } = validate(...services(), route({}, 'one'), route({}, 'two'));
    expect(issues).toEqual([
      {
        severity: 'warning',
        code: 'TRL_CFG_OVERLAP',
        document: 'route/two.shop',
        path: 'spec.hosts[0]',
        message:
          'same host "catalog" and match as route/one.shop (at test[3]); only one of them can apply',
      },
    ]);
    expect(resources).toHaveLength(5);
  });

  it('compare matches regardless of the order of methods, headers and query terms', () => {
    const match = (methods: string[], headers: object[]) => ({
      path: { prefix: '/a' },
      methods,
      headers,
    });
    const x = { name: 'x', exact: '1' };
    const y = { name: 'y', present: true };
    expect(
      problems(
        route({ hosts: ['a', 'b'], match: match(['GET', 'POST'], [x, y]) }, 'one'),
        route({ hosts: ['c', 'b'], match: match(['POST', 'GET'], [y, x]) }, 'two'),
      ),
    ).toEqual([
      'warning: route/two.shop: spec.hosts[1]: same host "b" and match as route/one.shop (at test[3]); only one of them can apply',
    ]);
  });

  it('are fine when the matches differ', () => {
    expect(
      problems(
        route({ match: { path: { prefix: '/a' } } }, 'one'),
        route({ match: { path: { prefix: '/b' } } }, 'two'),
      ),
    ).toEqual([]);
  });

  it('are fine across namespaces', () => {
    expect(
      validate(service('catalog'), service('catalog', [80], 'other'), route({}, 'one'), {
        ...route({}, 'one'),
        metadata: { name: 'one', namespace: 'other' },
      }).issues,
    ).toEqual([]);
  });
});
