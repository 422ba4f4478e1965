import { describe, expect, it } from 'vitest';
import { formatIssue } from '../issues.js';
import { loadConfig } from '../load.js';

const services = `apiVersion: trellis.dev/v1alpha1
kind: Service
metadata:
  name: catalog
  namespace: shop
spec:
  ports:
    - port: 80
`;

function lines(text: string): string[] {
  return loadConfig([
    { file: 'services.yaml', text: services },
    { file: 'routes.yaml', text },
  ]).issues.map(formatIssue);
}

describe('issue positions', () => {
  it('point at the offending value', () => {
    expect(
      lines(`apiVersion: trellis.dev/v1alpha1
kind: Route
metadata:
  name: checkout
  namespace: shop
spec:
  hosts: [catalog]
  destinations:
    - service: catalog
  retries:
    attempts: 50
`),
    ).toEqual([
      'routes.yaml:11:15: route/checkout.shop: spec.retries.attempts: must be ≤ 10 (got 50)',
    ]);
  });

  it('point at the key of an unknown field', () => {
    expect(
      lines(`apiVersion: trellis.dev/v1alpha1
kind: Route
metadata:
  name: checkout
  namespace: shop
spec:
  hosts: [catalog]
  destinations:
    - service: catalog
  retrys:
    attempts: 5
`),
    ).toEqual([
      'routes.yaml:10:3: route/checkout.shop: spec.retrys: unknown field "retrys" (did you mean "retries"?)',
    ]);
  });

  it('point at the parent key of a missing field', () => {
    expect(
      lines(`apiVersion: trellis.dev/v1alpha1
kind: Route
metadata:
  name: checkout
  namespace: shop
spec:
  hosts: [catalog]
  destinations:
    - weight: 100
`),
    ).toEqual(['routes.yaml:9:7: route/checkout.shop: spec.destinations[0].service: is required']);
  });

  it('point at items in flow sequences', () => {
    expect(
      lines(`apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: checkout, namespace: shop}
spec:
  hosts: [catalog, "Bad Host"]
  destinations: [{service: catalog}]
`),
    ).toEqual([
      'routes.yaml:5:20: route/checkout.shop: spec.hosts[1]: must be a host like catalog, catalog.shop, shop.example.com, *.example.com or catalog:8080 (got "Bad Host")',
    ]);
  });

  it('point semantic and reference issues at their field, in file order', () => {
    expect(
      lines(`apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: fine, namespace: shop}
spec: {hosts: [a], destinations: [{service: catalog}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata:
  name: checkout
  namespace: shop
spec:
  hosts: [catalog]
  destinations:
    - service: catalog
      weight: 90
    - service: pricng
      weight: 5
`),
    ).toEqual([
      'routes.yaml:14:5: route/checkout.shop: spec.destinations: weights must sum to 100 (got 95)',
      'routes.yaml:16:16: route/checkout.shop: spec.destinations[1].service: refers to unknown service "pricng" in namespace "shop"',
    ]);
  });

  it('point duplicates at the later name and cite the earlier file and line', () => {
    expect(
      lines(`# a second catalog
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata:
  namespace: shop
  name: catalog
spec:
  ports: [{port: 80}]
`),
    ).toEqual([
      'routes.yaml:6:9: service/catalog.shop: metadata.name: duplicate Service "catalog" in namespace "shop" (also at services.yaml:4)',
    ]);
  });

  it('point at the document for whole-document issues', () => {
    expect(lines('a: 1\n---\n\n- just\n- a list\n')).toEqual([
      'routes.yaml:1:1: apiVersion: is required',
      'routes.yaml:1:1: kind: is required',
      'routes.yaml:4:1: must be a mapping with apiVersion, kind, metadata and spec (got array)',
    ]);
  });
});
