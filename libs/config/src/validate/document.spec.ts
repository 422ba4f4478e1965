import { describe, expect, it } from 'vitest';
import { doc, problems, route, service, services, validate } from '../../testing/fixtures.js';
import { formatIssue } from '../issues.js';

describe('document envelope', () => {
  it('rejects a document that is not a mapping', () => {
    expect(validate(['a']).issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_SCHEMA',
        message: 'must be a mapping with apiVersion, kind, metadata and spec (got array)',
      },
    ]);
  });

  it('names the unknown kind and lists the known ones', () => {
    expect(validate(doc('Gateway', 'edge', {})).issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_KIND',
        document: 'gateway/edge.shop',
        path: 'kind',
        message:
          'unknown kind "Gateway" (expected one of Service, Endpoints, Route, DestinationPolicy, RateLimit, RetryBudget, Telemetry)',
      },
    ]);
  });

  it('requires kind', () => {
    const { kind: _kind, ...rest } = service('a');
    expect(validate(rest).issues.map(formatIssue)).toEqual(['kind: is required']);
  });

  it('requires kind to be a string', () => {
    expect(validate({ ...service('a'), kind: 7 }).issues.map(formatIssue)).toEqual([
      'kind: must be a string (got number)',
    ]);
  });

  it('rejects another apiVersion with its own code', () => {
    const { issues } = validate({ ...service('a'), apiVersion: 'trellis.dev/v1' });
    expect(issues.map((i) => [i.code, formatIssue(i)])).toEqual([
      [
        'TRL_CFG_API_VERSION',
        'service/a.shop: apiVersion: unsupported apiVersion "trellis.dev/v1" (expected trellis.dev/v1alpha1)',
      ],
    ]);
  });

  it('requires apiVersion', () => {
    const { apiVersion: _apiVersion, ...rest } = service('a');
    expect(validate(rest).issues.map(formatIssue)).toEqual([
      'service/a.shop: apiVersion: is required',
    ]);
  });

  it('requires metadata and spec', () => {
    expect(
      validate({ apiVersion: 'trellis.dev/v1alpha1', kind: 'Service' }).issues.map(formatIssue),
    ).toEqual(['metadata: is required', 'spec: is required']);
  });

  it('uses the default namespace in the document id when none is given', () => {
    expect(
      validate({
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'Service',
        metadata: { name: 'a' },
        spec: {},
      }).issues.map(formatIssue),
    ).toEqual(['service/a: spec.ports: is required']);
  });
});

describe('schema messages', () => {
  it('reports a number above its maximum', () => {
    expect(problems(route({ retries: { attempts: 50 } }))).toEqual([
      'route/catalog.shop: spec.retries.attempts: must be ≤ 10 (got 50)',
    ]);
  });

  it('reports a number below its minimum', () => {
    expect(
      problems(
        doc('Endpoints', 'catalog', {
          service: 'catalog',
          endpoints: [{ address: '10.0.0.1', port: 80, weight: 0 }],
        }),
      ),
    ).toEqual(['endpoints/catalog.shop: spec.endpoints[0].weight: must be ≥ 1 (got 0)']);
  });

  it('reports an unknown field with the closest known one', () => {
    expect(problems(route({ retrys: { attempts: 1 } }))).toEqual([
      'route/catalog.shop: spec.retrys: unknown field "retrys" (did you mean "retries"?)',
    ]);
  });

  it('reports an unknown field without a suggestion when nothing is close', () => {
    expect(problems(route({ banana: 1 }))).toEqual([
      'route/catalog.shop: spec.banana: unknown field "banana"',
    ]);
  });

  it('rejects unknown fields in nested objects and metadata', () => {
    expect(
      problems({
        ...route({ retries: { atempts: 1 } }),
        metadata: { name: 'catalog', namespace: 'shop', nmae: 'x' },
      }),
    ).toEqual([
      'route/catalog.shop: metadata.nmae: unknown field "nmae" (did you mean "name"?)',
      'route/catalog.shop: spec.retries.atempts: unknown field "atempts" (did you mean "attempts"?)',
    ]);
  });

  it('lists the allowed values of an enum', () => {
    expect(
      problems(
        doc('DestinationPolicy', 'catalog', {
          service: 'catalog',
          loadBalancer: { algorithm: 'random' },
        }),
      ),
    ).toEqual([
      'destinationpolicy/catalog.shop: spec.loadBalancer.algorithm: must be one of round-robin, least-request, ewma, consistent-hash (got "random")',
    ]);
  });

  it('lists integer enums', () => {
    expect(problems(route({ destinations: undefined, redirect: { status: 300 } }))).toEqual([
      'route/catalog.shop: spec.redirect.status: must be one of 301, 302, 303, 307, 308 (got 300)',
    ]);
  });

  it('explains malformed durations', () => {
    expect(problems(route({ timeout: 'fast' }))).toEqual([
      'route/catalog.shop: spec.timeout: must be a duration like 250ms, 1.5s or 2m (got "fast")',
    ]);
  });

  it('names the expected and the actual type', () => {
    expect(problems(route({ hosts: ['catalog', 5], timeout: 5, match: [] }))).toEqual([
      'route/catalog.shop: spec.hosts[1]: must be a string (got number)',
      'route/catalog.shop: spec.match: must be an object (got array)',
      'route/catalog.shop: spec.timeout: must be a string (got number)',
    ]);
  });

  it('shows the value of a non-integer number', () => {
    expect(problems(service('x', [80.5]))).toEqual([
      'service/x.shop: spec.ports[0].port: must be an integer (got 80.5)',
    ]);
  });

  it('reports a missing required field', () => {
    expect(problems(doc('Route', 'x', { destinations: [{ service: 'catalog' }] }))).toEqual([
      'route/x.shop: spec.hosts: is required',
    ]);
  });

  it('reports too few items', () => {
    expect(problems(doc('Service', 'x', { ports: [] }))).toEqual([
      'service/x.shop: spec.ports: must have at least 1 item (got 0)',
    ]);
  });

  it('reports too many items', () => {
    const ports = Array.from({ length: 65 }, (_, i) => ({ port: i + 1 }));
    expect(problems(doc('Service', 'x', { ports }))).toEqual([
      'service/x.shop: spec.ports: must have at most 64 items (got 65)',
    ]);
  });

  it('reports strings that are too long', () => {
    const name = 'a'.repeat(64);
    expect(problems(service(name))).toEqual([
      `service/${name}.shop: metadata.name: must be at most 63 characters long (got 64)`,
    ]);
  });

  it('reports empty strings where content is needed', () => {
    expect(problems(route({ match: { headers: [{ name: 'x', prefix: '' }] } }))).toEqual([
      'route/catalog.shop: spec.match.headers[0].prefix: must not be empty',
    ]);
  });

  it('explains DNS label names', () => {
    expect(problems(service('Bad_Name'))).toEqual([
      'service/Bad_Name.shop: metadata.name: must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit (got "Bad_Name")',
    ]);
  });

  it('explains host patterns', () => {
    expect(problems(route({ hosts: ['*.*.example.com'] }))).toEqual([
      'route/catalog.shop: spec.hosts[0]: must be a host like catalog, catalog.shop, shop.example.com, *.example.com or catalog:8080 (got "*.*.example.com")',
    ]);
  });

  it('reports every field of a document at once', () => {
    expect(
      problems(route({ timeout: 'soon', retries: { attempts: -1, retryOn: ['sometimes'] } })),
    ).toEqual([
      'route/catalog.shop: spec.timeout: must be a duration like 250ms, 1.5s or 2m (got "soon")',
      'route/catalog.shop: spec.retries.attempts: must be ≥ 0 (got -1)',
      'route/catalog.shop: spec.retries.retryOn[0]: must be one of 5xx, gateway-error, reset, connect-failure, refused-stream, retriable-status-codes, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable (got "sometimes")',
    ]);
  });

  it('reports one problem per field', () => {
    expect(problems(service('x'.repeat(70).toUpperCase()))).toHaveLength(1);
  });

  it('tags schema problems TRL_CFG_SCHEMA with severity error', () => {
    const { issues } = validate(service('x', [0]));
    expect(issues.map((i) => [i.severity, i.code])).toEqual([['error', 'TRL_CFG_SCHEMA']]);
  });
});

describe('validated resources', () => {
  it('come out with defaults applied and keys in schema order', () => {
    const { resources, issues } = validate({
      spec: { ports: [{ protocol: 'h2c', port: 8080 }] },
      metadata: { name: 'catalog' },
      kind: 'Service',
      apiVersion: 'trellis.dev/v1alpha1',
    });
    expect(issues).toEqual([]);
    expect(JSON.stringify(resources)).toBe(
      JSON.stringify([
        {
          apiVersion: 'trellis.dev/v1alpha1',
          kind: 'Service',
          metadata: { name: 'catalog', namespace: 'default' },
          spec: { ports: [{ port: 8080, protocol: 'h2c' }] },
        },
      ]),
    );
  });

  it('sort map keys', () => {
    const { resources } = validate(
      ...services(),
      route({ requestHeaders: { set: { 'x-b': '2', 'x-a': '1' } } }),
    );
    const { set } = (resources[3] as { spec: { requestHeaders: { set: object } } }).spec
      .requestHeaders;
    expect(Object.keys(set)).toEqual(['x-a', 'x-b']);
  });

  it('are only returned for documents without errors, in input order', () => {
    const { resources } = validate(service('b'), service('bad', [0]), service('a'));
    expect(resources.map((r) => r.metadata.name)).toEqual(['b', 'a']);
  });

  it('leave the input untouched', () => {
    const input = service('a');
    const before = JSON.stringify(input);
    validate(input);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('do not share default objects between resources', () => {
    const { resources } = validate(
      ...services(),
      route({ retries: {} }, 'a'),
      route({ hosts: ['b'], retries: {} }, 'b'),
    );
    const [a, b] = resources.slice(3) as { spec: { retries: { retryOn: string[] } } }[];
    expect(a?.spec.retries.retryOn).toEqual(['gateway-error', 'connect-failure', 'refused-stream']);
    expect(a?.spec.retries.retryOn).not.toBe(b?.spec.retries.retryOn);
  });
});

describe('hostile values', () => {
  it('survive cycles', () => {
    const spec: Record<string, unknown> = { ports: [{ port: 80 }] };
    spec['self'] = spec;
    expect(problems(doc('Service', 'x', spec))).toEqual([
      'service/x.shop: spec.self: unknown field "self"',
    ]);
  });

  it('survive functions, symbols and bigints', () => {
    expect(
      problems(
        doc('Service', 'x', { ports: [{ port: 10n }, { port: () => 1 }, { port: Symbol('p') }] }),
      ),
    ).toEqual([
      'service/x.shop: spec.ports[0].port: must be an integer (got bigint)',
      'service/x.shop: spec.ports[1].port: must be an integer (got function)',
      'service/x.shop: spec.ports[2].port: must be an integer (got symbol)',
    ]);
  });

  it('reject NaN and infinities', () => {
    expect(
      problems(
        route({
          fault: { delay: { percent: Number.NaN, duration: '1s' } },
          mirror: { service: 'pricing', percent: Number.POSITIVE_INFINITY },
        }),
        service('x', [Number.NEGATIVE_INFINITY]),
      ),
    ).toEqual([
      'route/catalog.shop: spec.fault.delay.percent: must be a finite number (got NaN)',
      'route/catalog.shop: spec.mirror.percent: must be a finite number (got Infinity)',
      'service/x.shop: spec.ports[0].port: must be an integer (got -Infinity)',
    ]);
  });

  it('treat __proto__ as an ordinary, unknown key', () => {
    const spec = JSON.parse('{"ports":[{"port":80}],"__proto__":{"polluted":true}}') as object;
    expect(problems(doc('Service', 'x', spec))).toEqual([
      'service/x.shop: spec.__proto__: unknown field "__proto__"',
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('treat non-plain objects as their own fields', () => {
    expect(problems(doc('Service', 'x', new Date(0)))).toEqual([
      'service/x.shop: spec.ports: is required',
    ]);
  });
});
