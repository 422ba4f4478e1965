import { describe, expect, it } from 'vitest';
import { doc, problems, route, services, validate } from '../../testing/fixtures.js';
import type { RouteResource } from '../schema/route.js';

function routeOf(spec: Record<string, unknown>): RouteResource {
  const { resources, issues } = validate(...services(), route(spec));
  expect(issues).toEqual([]);
  return resources[3] as RouteResource;
}

describe('Route', () => {
  it('accepts a full route and fills in defaults', () => {
    const route = routeOf({
      hosts: ['catalog', 'catalog.shop', '*.example.com', 'shop.example.com:8443'],
      match: {
        path: { prefix: '/api' },
        methods: ['GET', 'HEAD'],
        headers: [
          { name: 'x-canary', exact: 'yes' },
          { name: 'x-debug', present: true, invert: true },
        ],
        query: [{ name: 'q', regex: '^[a-z]+$' }],
      },
      destinations: [
        { service: 'catalog', weight: 90 },
        { service: 'catalog-v2', namespace: 'shop', port: 80, weight: 10 },
      ],
      rewrite: { prefix: '/v1', host: 'catalog.internal' },
      timeout: '3s',
      retries: {
        perTryTimeout: '500ms',
        retryOn: ['retriable-status-codes'],
        retriableStatusCodes: [503],
      },
      fault: {
        delay: { percent: 1.5, duration: '100ms' },
        abort: { percent: 0.1, grpcStatus: 14 },
      },
      requestHeaders: {
        set: { 'x-route': 'catalog' },
        add: { via: 'trellis' },
        remove: ['x-internal'],
      },
      responseHeaders: { remove: ['server'] },
      mirror: { service: 'pricing' },
    });
    expect(route.spec.match?.headers?.[0]?.invert).toBe(false);
    expect(route.spec.retries).toEqual({
      attempts: 2,
      perTryTimeout: '500ms',
      retryOn: ['retriable-status-codes'],
      retriableStatusCodes: [503],
      backoff: { base: '25ms', max: '250ms' },
      retryNonIdempotent: false,
    });
    expect(route.spec.mirror).toEqual({ service: 'pricing', percent: 100 });
  });

  it('gives a single destination weight 100', () => {
    expect(routeOf({}).spec.destinations).toEqual([{ service: 'catalog', weight: 100 }]);
  });

  it('accepts a redirect and fills in its status', () => {
    expect(
      routeOf({ destinations: undefined, redirect: { scheme: 'https' } }).spec.redirect,
    ).toEqual({
      status: 302,
      scheme: 'https',
      stripQuery: false,
    });
  });

  it('accepts a direct response', () => {
    expect(
      routeOf({
        destinations: undefined,
        directResponse: { status: 503, body: 'down', contentType: 'text/plain' },
      }).spec.directResponse,
    ).toEqual({ status: 503, body: 'down', contentType: 'text/plain' });
  });

  it('accepts a route for hosts no service knows (edge gateways)', () => {
    expect(
      routeOf({
        hosts: ['www.example.org'],
        destinations: undefined,
        directResponse: { status: 404 },
      }).spec.hosts,
    ).toEqual(['www.example.org']);
  });

  describe('actions', () => {
    it('requires one', () => {
      expect(problems(route({ destinations: undefined }))).toEqual([
        'route/catalog.shop: spec: must set exactly one of destinations, redirect or directResponse (got none)',
      ]);
    });

    it('allows no more than one', () => {
      expect(problems(route({ redirect: {}, directResponse: { status: 200 } }))).toEqual([
        'route/catalog.shop: spec: must set exactly one of destinations, redirect or directResponse (got destinations, redirect and directResponse)',
      ]);
    });

    it('reports the code TRL_CFG_CONSTRAINT', () => {
      expect(validate(...services(), route({ redirect: {} })).issues.map((i) => i.code)).toEqual([
        'TRL_CFG_CONSTRAINT',
      ]);
    });
  });

  describe('weights', () => {
    it('must sum to 100 over several destinations', () => {
      const { issues } = validate(
        ...services(),
        route({
          destinations: [
            { service: 'catalog', weight: 90 },
            { service: 'catalog-v2', weight: 5 },
          ],
        }),
      );
      expect(issues).toEqual([
        {
          severity: 'error',
          code: 'TRL_CFG_WEIGHTS',
          document: 'route/catalog.shop',
          path: 'spec.destinations',
          message: 'weights must sum to 100 (got 95)',
        },
      ]);
    });

    it('are required on each of several destinations', () => {
      expect(
        problems(
          route({ destinations: [{ service: 'catalog', weight: 100 }, { service: 'catalog-v2' }] }),
        ),
      ).toEqual([
        'route/catalog.shop: spec.destinations[1].weight: is required when there are several destinations',
      ]);
    });

    it('may put all traffic on one of several destinations', () => {
      expect(
        routeOf({
          destinations: [
            { service: 'catalog', weight: 100 },
            { service: 'catalog-v2', weight: 0 },
          ],
        }).spec.destinations?.length,
      ).toBe(2);
    });

    it('are bounded to 0-100', () => {
      expect(problems(route({ destinations: [{ service: 'catalog', weight: 101 }] }))).toEqual([
        'route/catalog.shop: spec.destinations[0].weight: must be ≤ 100 (got 101)',
      ]);
    });
  });

  it('rejects the same destination twice', () => {
    expect(
      problems(
        route({
          destinations: [
            { service: 'catalog', weight: 50 },
            { service: 'catalog', namespace: 'shop', weight: 50 },
          ],
        }),
      ),
    ).toEqual([
      'route/catalog.shop: spec.destinations[1]: duplicate destination service "catalog" (also at spec.destinations[0])',
    ]);
  });

  it('rejects duplicate hosts', () => {
    expect(problems(route({ hosts: ['catalog', 'a', 'catalog'] }))).toEqual([
      'route/catalog.shop: spec.hosts[2]: duplicate host "catalog" (also at spec.hosts[0])',
    ]);
  });

  it.each(['*', 'a.*.com', '*.*.com', 'Catalog', 'catalog:', '-a', 'a_b', 'http://a'])(
    'rejects host %j',
    (host) => {
      expect(problems(route({ hosts: [host] }))).toEqual([
        `route/catalog.shop: spec.hosts[0]: must be a host like catalog, catalog.shop, shop.example.com, *.example.com or catalog:8080 (got ${JSON.stringify(host)})`,
      ]);
    },
  );

  it('rejects a host port outside 1-65535', () => {
    expect(problems(route({ hosts: ['catalog:70000', 'catalog:0'] }))).toEqual([
      'route/catalog.shop: spec.hosts[0]: port must be 1-65535 (got "catalog:70000")',
      'route/catalog.shop: spec.hosts[1]: port must be 1-65535 (got "catalog:0")',
    ]);
  });

  describe('match', () => {
    it('needs exactly one path matcher', () => {
      expect(problems(route({ match: { path: { exact: '/a', prefix: '/' } } }))).toEqual([
        'route/catalog.shop: spec.match.path: must set exactly one of exact, prefix or regex (got exact and prefix)',
      ]);
      expect(problems(route({ match: { path: {} } }))).toEqual([
        'route/catalog.shop: spec.match.path: must set exactly one of exact, prefix or regex (got none)',
      ]);
    });

    it('needs paths to start with a slash', () => {
      expect(problems(route({ match: { path: { prefix: 'api' } } }))).toEqual([
        'route/catalog.shop: spec.match.path.prefix: must be a path starting with "/" and without whitespace (got "api")',
      ]);
    });

    it('needs exactly one header matcher', () => {
      expect(
        problems(
          route({ match: { headers: [{ name: 'x', exact: 'a', regex: 'a' }, { name: 'y' }] } }),
        ),
      ).toEqual([
        'route/catalog.shop: spec.match.headers[0]: must set exactly one of exact, prefix, regex or present (got exact and regex)',
        'route/catalog.shop: spec.match.headers[1]: must set exactly one of exact, prefix, regex or present (got none)',
      ]);
    });

    it('needs exactly one query matcher', () => {
      expect(
        problems(route({ match: { query: [{ name: 'q', exact: 'a', present: true }] } })),
      ).toEqual([
        'route/catalog.shop: spec.match.query[0]: must set exactly one of exact, regex or present (got exact and present)',
      ]);
    });

    it('rejects header names that are not tokens', () => {
      expect(problems(route({ match: { headers: [{ name: 'x y', present: true }] } }))).toEqual([
        'route/catalog.shop: spec.match.headers[0].name: must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~) (got "x y")',
      ]);
    });

    it('rejects unknown and repeated methods', () => {
      expect(problems(route({ match: { methods: ['GET', 'FETCH'] } }))).toEqual([
        'route/catalog.shop: spec.match.methods[1]: must be one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (got "FETCH")',
      ]);
      expect(problems(route({ match: { methods: ['GET', 'GET'] } }))).toEqual([
        'route/catalog.shop: spec.match.methods[1]: duplicate method GET (also at spec.match.methods[0])',
      ]);
    });
  });

  describe('regular expressions', () => {
    it.each([
      ['path', { match: { path: { regex: '(' } } }, 'spec.match.path.regex', 'Unterminated group'],
      [
        'header',
        { match: { headers: [{ name: 'x', regex: '[' }] } },
        'spec.match.headers[0].regex',
        'Unterminated character class',
      ],
      [
        'query',
        { match: { query: [{ name: 'q', regex: 'a**' }] } },
        'spec.match.query[0].regex',
        'Nothing to repeat',
      ],
      [
        'rewrite',
        { rewrite: { regex: { pattern: '\\', substitution: '' } } },
        'spec.rewrite.regex.pattern',
        '\\ at end of pattern',
      ],
    ])('are compiled in the %s matcher', (_where, spec, path, reason) => {
      const { issues } = validate(...services(), route(spec));
      expect(issues.map((i) => [i.code, i.path, i.message])).toEqual([
        ['TRL_CFG_REGEX', path, `is not a valid regular expression (${reason})`],
      ]);
    });

    it('are compiled in unicode mode', () => {
      expect(problems(route({ match: { path: { regex: '\\-' } } }))).toEqual([
        'route/catalog.shop: spec.match.path.regex: is not a valid regular expression (Invalid escape)',
      ]);
    });
  });

  describe('rewrite', () => {
    it('is only allowed with destinations', () => {
      expect(
        problems(
          route({
            destinations: undefined,
            directResponse: { status: 200 },
            rewrite: { host: 'x' },
          }),
        ),
      ).toEqual(['route/catalog.shop: spec.rewrite: is only allowed with destinations']);
    });

    it('needs something to rewrite', () => {
      expect(problems(route({ rewrite: {} }))).toEqual([
        'route/catalog.shop: spec.rewrite: must set at least one of prefix, regex or host',
      ]);
    });

    it('takes a prefix or a regex, not both', () => {
      expect(
        problems(
          route({
            match: { path: { prefix: '/a' } },
            rewrite: { prefix: '/b', regex: { pattern: 'a', substitution: 'b' } },
          }),
        ),
      ).toEqual([
        'route/catalog.shop: spec.rewrite: must set at most one of prefix or regex (got prefix and regex)',
      ]);
    });

    it('replaces a prefix only when the route matches one', () => {
      expect(problems(route({ rewrite: { prefix: '/b' } }))).toEqual([
        'route/catalog.shop: spec.rewrite.prefix: needs spec.match.path.prefix (the prefix it replaces)',
      ]);
    });
  });

  describe('redirect', () => {
    it('takes a path or a prefix, not both', () => {
      expect(
        problems(
          route({
            destinations: undefined,
            match: { path: { prefix: '/a' } },
            redirect: { path: '/x', prefix: '/y' },
          }),
        ),
      ).toEqual([
        'route/catalog.shop: spec.redirect: must set at most one of path or prefix (got path and prefix)',
      ]);
    });

    it('replaces a prefix only when the route matches one', () => {
      expect(problems(route({ destinations: undefined, redirect: { prefix: '/y' } }))).toEqual([
        'route/catalog.shop: spec.redirect.prefix: needs spec.match.path.prefix (the prefix it replaces)',
      ]);
    });
  });

  describe('retries', () => {
    it('bound the attempts', () => {
      expect(problems(route({ retries: { attempts: 50 } }))).toEqual([
        'route/catalog.shop: spec.retries.attempts: must be ≤ 10 (got 50)',
      ]);
    });

    it('reject repeated conditions', () => {
      expect(problems(route({ retries: { retryOn: ['reset', '5xx', 'reset'] } }))).toEqual([
        'route/catalog.shop: spec.retries.retryOn[2]: duplicate condition "reset" (also at spec.retries.retryOn[0])',
      ]);
    });

    it('need status codes for retriable-status-codes', () => {
      expect(problems(route({ retries: { retryOn: ['retriable-status-codes'] } }))).toEqual([
        'route/catalog.shop: spec.retries.retriableStatusCodes: is required when retryOn has retriable-status-codes',
      ]);
    });

    it('take status codes only with retriable-status-codes', () => {
      expect(problems(route({ retries: { retriableStatusCodes: [503] } }))).toEqual([
        'route/catalog.shop: spec.retries.retriableStatusCodes: is only allowed when retryOn has retriable-status-codes',
      ]);
    });

    it('need a backoff max of at least its base', () => {
      expect(problems(route({ retries: { backoff: { base: '1s' } } }))).toEqual([
        'route/catalog.shop: spec.retries.backoff.max: must be ≥ base (1s) (got 250ms)',
      ]);
    });

    it('bound durations', () => {
      expect(
        problems(
          route({ timeout: '2h', retries: { perTryTimeout: '0s', backoff: { max: '11m' } } }),
        ),
      ).toEqual([
        'route/catalog.shop: spec.timeout: must be ≤ 1h (got 2h)',
        'route/catalog.shop: spec.retries.perTryTimeout: must be ≥ 1ms (got 0s)',
        'route/catalog.shop: spec.retries.backoff.max: must be ≤ 10m (got 11m)',
      ]);
    });
  });

  describe('fault', () => {
    it('needs a delay or an abort', () => {
      expect(problems(route({ fault: {} }))).toEqual([
        'route/catalog.shop: spec.fault: must set at least one of delay or abort',
      ]);
    });

    it('aborts with exactly one status', () => {
      expect(
        problems(route({ fault: { abort: { percent: 5, httpStatus: 503, grpcStatus: 14 } } })),
      ).toEqual([
        'route/catalog.shop: spec.fault.abort: must set exactly one of httpStatus or grpcStatus (got httpStatus and grpcStatus)',
      ]);
    });

    it('bounds percentages', () => {
      expect(problems(route({ fault: { delay: { percent: 101, duration: '1s' } } }))).toEqual([
        'route/catalog.shop: spec.fault.delay.percent: must be ≤ 100 (got 101)',
      ]);
    });
  });

  describe('header changes', () => {
    it('reject header names that are not tokens', () => {
      expect(problems(route({ requestHeaders: { set: { 'bad header': 'x' } } }))).toEqual([
        'route/catalog.shop: spec.requestHeaders.set["bad header"]: is not a valid HTTP header name',
      ]);
    });

    it('reject values with line breaks', () => {
      expect(problems(route({ responseHeaders: { add: { 'x-a': 'one\r\ntwo' } } }))).toEqual([
        'route/catalog.shop: spec.responseHeaders.add.x-a: must not contain CR, LF or NUL characters (got "one\\r\\ntwo")',
      ]);
    });

    it('reject non-string values', () => {
      expect(problems(route({ requestHeaders: { set: { 'x-a': 1 } } }))).toEqual([
        'route/catalog.shop: spec.requestHeaders.set.x-a: must be a string (got number)',
      ]);
    });
  });

  it('can be written without a namespace', () => {
    const { issues } = validate(
      doc('Service', 'web', { ports: [{ port: 80 }] }, 'default'),
      doc('Route', 'web', { hosts: ['web'], destinations: [{ service: 'web' }] }, 'default'),
    );
    expect(issues).toEqual([]);
  });
});
