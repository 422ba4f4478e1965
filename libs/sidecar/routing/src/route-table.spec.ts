import { describe, expect, it } from 'vitest';
import { pickDestination, redirectLocation, rewriteTarget } from './actions.js';
import type { ForwardAction, RedirectAction } from './compiled-route.js';
import { RouteTable } from './route-table.js';
import { request, resourcesFromYaml } from './testing.js';

const mesh = `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  ports: [{port: 8080, targetPort: 18082}]
  aliases: [catalog.example.com]
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog-v2, namespace: shop}
spec:
  ports: [{port: 8080}]
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: multi, namespace: shop}
spec:
  ports: [{port: 80, name: web}, {port: 9090, name: grpc, protocol: grpc}]
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: legacy, namespace: edge}
spec:
  ports: [{port: 8080}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog-canary, namespace: shop}
spec:
  hosts: [catalog]
  destinations:
    - {service: catalog, weight: 90}
    - {service: catalog-v2, weight: 10}
  timeout: 2s
  retries: {attempts: 3, perTryTimeout: 500ms, retryOn: [5xx, reset]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog-beta-header, namespace: shop}
spec:
  hosts: [catalog]
  match:
    headers: [{name: X-Beta, exact: "yes"}]
  destinations: [{service: catalog-v2}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog-admin, namespace: shop}
spec:
  hosts: [catalog]
  match: {path: {prefix: /admin}}
  directResponse: {status: 403, body: forbidden}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: old-items, namespace: edge}
spec:
  hosts: ["*.example.com"]
  match: {path: {prefix: /old/items}}
  rewrite: {prefix: /items, host: catalog.shop}
  destinations: [{service: catalog, namespace: shop}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: www-redirect, namespace: edge}
spec:
  hosts: [example.com]
  redirect: {status: 301, host: www.example.com, scheme: https}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: shop-wildcard, namespace: edge}
spec:
  hosts: ["*.shop.example.com"]
  destinations: [{service: legacy}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: deep-wildcard, namespace: edge}
spec:
  hosts: ["*.example.com"]
  match: {path: {exact: /health}, methods: [GET]}
  directResponse: {status: 200, body: ok}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: query-route, namespace: edge}
spec:
  hosts: ["api.example.com:8443"]
  match:
    query: [{name: version, exact: "2"}]
  destinations: [{service: legacy}]
`;

const table = RouteTable.compile(resourcesFromYaml(mesh), { localNamespace: 'shop' });
const idOf = (
  authority: string,
  target = '/',
  method = 'GET',
  headers: Record<string, string> = {},
) => table.lookup(request(authority, target, method, headers))?.route.id;

describe('RouteTable host matching', () => {
  it('resolves every name of a service, short names only in the local namespace', () => {
    for (const host of [
      'catalog',
      'catalog.shop',
      'catalog.shop.svc',
      'catalog.shop.svc.cluster.local',
      'CATALOG.shop:8080',
    ]) {
      expect(idOf(host, '/items')).toBe('route/catalog-canary.shop');
    }
    expect(idOf('legacy')).toBeUndefined();
    expect(idOf('legacy.edge')).toBe('service/legacy.edge:8080');
  });

  it('applies a route written for a service name to its aliases too', () => {
    expect(idOf('catalog.example.com', '/admin/x')).toBe('route/catalog-admin.shop');
  });

  it('prefers exact hosts over wildcards and longer wildcard suffixes over shorter', () => {
    expect(idOf('example.com')).toBe('route/www-redirect.edge');
    expect(idOf('a.shop.example.com')).toBe('route/shop-wildcard.edge');
    expect(idOf('a.b.example.com', '/old/items/3')).toBe('route/old-items.edge');
    expect(idOf('www.example.com', '/health')).toBe('route/deep-wildcard.edge');
  });

  it('does not let a wildcard match the bare domain it is written for', () => {
    // *.shop.example.com does not take shop.example.com; *.example.com does.
    expect(idOf('shop.example.com', '/health')).toBe('route/deep-wildcard.edge');
  });

  it('honours a port in the route host', () => {
    expect(idOf('api.example.com:8443', '/?version=2')).toBe('route/query-route.edge');
    expect(idOf('api.example.com', '/?version=2')).toBeUndefined();
  });

  it('returns undefined for an unknown host', () => {
    expect(idOf('unknown.local')).toBeUndefined();
  });
});

describe('RouteTable precedence', () => {
  it('orders by specificity: path prefix, then headers, then the catch-all, then the implicit route', () => {
    expect(idOf('catalog', '/admin')).toBe('route/catalog-admin.shop');
    expect(idOf('catalog', '/administrator')).toBe('route/catalog-canary.shop');
    expect(idOf('catalog', '/x', 'GET', { 'x-beta': 'yes' })).toBe(
      'route/catalog-beta-header.shop',
    );
    expect(idOf('catalog-v2')).toBe('service/catalog-v2.shop:8080');
  });

  it('matches on the normalised path, so dot segments cannot dodge a prefix route', () => {
    const found = table.lookup(request('catalog', '/public/../admin/users?x=1'));
    expect(found?.route.id).toBe('route/catalog-admin.shop');
    expect(found?.path).toBe('/admin/users');
    expect(found?.query).toBe('x=1');
  });

  it('matches on the protocol the client spoke', () => {
    const h2 = RouteTable.compile(
      resourcesFromYaml(
        mesh +
          `---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: h2-clients, namespace: shop}
spec:
  hosts: [catalog]
  match: {protocol: h2c}
  destinations: [{service: catalog-v2}]
`,
      ),
      { localNamespace: 'shop' },
    );
    expect(h2.lookup(request('catalog', '/', 'GET', {}, 'h2c'))?.route.id).toBe(
      'route/h2-clients.shop',
    );
    expect(h2.lookup(request('catalog', '/', 'GET', {}, 'http1'))?.route.id).toBe(
      'route/catalog-canary.shop',
    );
  });

  it('matches method and query constraints', () => {
    expect(idOf('www.example.com', '/health', 'POST')).toBeUndefined();
    expect(idOf('api.example.com:8443', '/?version=3')).toBeUndefined();
    expect(idOf('api.example.com:8443', '/?a=1&version=2')).toBe('route/query-route.edge');
  });

  it('routes a multi-port service by the authority port', () => {
    expect(idOf('multi.shop:9090')).toBe('service/multi.shop:9090');
    expect(idOf('multi.shop')).toBe('service/multi.shop:80');
    expect(idOf('multi.shop:7000')).toBeUndefined();
    const grpc = table.lookup(request('multi:9090'))?.route.action as ForwardAction;
    expect(grpc.destinations[0]?.target).toEqual({
      key: 'multi.shop:9090',
      name: 'multi',
      namespace: 'shop',
      port: 9090,
      targetPort: 9090,
      protocol: 'grpc',
    });
  });
});

describe('compiled route settings', () => {
  const canary = table.lookup(request('catalog'))?.route;

  it('carries timeouts and retries in milliseconds', () => {
    expect(canary?.timeoutMs).toBe(2000);
    expect(canary?.retries?.attempts).toBe(3);
    expect(canary?.retries?.perTryTimeoutMs).toBe(500);
    expect([...(canary?.retries?.retryOn ?? [])]).toEqual(['5xx', 'reset']);
    expect(canary?.retries?.backoffBaseMs).toBe(25);
  });

  it('resolves target ports of destinations', () => {
    const action = canary?.action as ForwardAction;
    expect(action.destinations.map((d) => [d.target.key, d.target.targetPort, d.weight])).toEqual([
      ['catalog.shop:8080', 18082, 90],
      ['catalog-v2.shop:8080', 8080, 10],
    ]);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(canary)).toBe(true);
    expect(Object.isFrozen((canary?.action as ForwardAction).destinations)).toBe(true);
  });
});

describe('actions', () => {
  it('splits traffic by weight', () => {
    const action = table.lookup(request('catalog'))?.route.action as ForwardAction;
    expect(pickDestination(action, () => 0)?.target.name).toBe('catalog');
    expect(pickDestination(action, () => 0.8999)?.target.name).toBe('catalog');
    expect(pickDestination(action, () => 0.9)?.target.name).toBe('catalog-v2');
    expect(pickDestination(action, () => 0.99999)?.target.name).toBe('catalog-v2');
    let v2 = 0;
    for (let i = 0; i < 1000; i++)
      if (pickDestination(action, () => i / 1000)?.target.name === 'catalog-v2') v2++;
    expect(v2).toBe(100);
  });

  it('rewrites a legacy prefix and keeps the query', () => {
    const found = table.lookup(request('www.example.com', '/old/items/42?color=red'));
    const action = found?.route.action as ForwardAction;
    expect(rewriteTarget(action, found?.path ?? '', found?.query ?? '')).toBe(
      '/items/42?color=red',
    );
    expect(rewriteTarget(action, '/old/items', '')).toBe('/items');
    expect(action.hostRewrite).toBe('catalog.shop');
  });

  it('builds redirect locations', () => {
    const action = table.lookup(request('example.com', '/a'))?.route.action as RedirectAction;
    expect(action.status).toBe(301);
    expect(
      redirectLocation(action, {
        scheme: 'http',
        host: 'example.com',
        port: 8080,
        path: '/a',
        query: 'q=1',
      }),
    ).toBe('https://www.example.com/a?q=1');
    expect(
      redirectLocation(
        { ...action, scheme: undefined, stripQuery: true, prefix: { from: '/a', to: '/b' } },
        { scheme: 'http', host: 'example.com', port: 8080, path: '/a/c', query: 'q=1' },
      ),
    ).toBe('http://www.example.com:8080/b/c');
  });
});
