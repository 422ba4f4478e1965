// telemetryFor: a service's own Telemetry wins over the mesh-wide default.
import { loadConfig } from '@trellis/config';
import type { Resource } from '@trellis/config';
import { describe, expect, it } from 'vitest';
import { telemetryFor } from './telemetry-select.js';

const SERVICES = `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {ports: [{port: 8080}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {ports: [{port: 8080}]}
`;
const MESH_DEFAULT = `
---
apiVersion: trellis.dev/v1alpha1
kind: Telemetry
metadata: {name: mesh, namespace: trellis-system}
spec: {accessLog: {samplingPercent: 10}}
`;
const CATALOG = `
---
apiVersion: trellis.dev/v1alpha1
kind: Telemetry
metadata: {name: catalog, namespace: shop}
spec: {service: catalog, metrics: {enabled: false}, accessLog: {enabled: false, format: '%STATUS%'}}
`;

function resources(text: string): readonly Resource[] {
  const loaded = loadConfig([{ file: 'test.yaml', text }]);
  const errors = loaded.issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(JSON.stringify(errors));
  return loaded.resources;
}

describe('telemetryFor', () => {
  it("returns the service's own settings over the mesh-wide default", () => {
    expect(
      telemetryFor(resources(SERVICES + MESH_DEFAULT + CATALOG), {
        name: 'catalog',
        namespace: 'shop',
      }),
    ).toEqual({
      service: 'catalog',
      tracing: { samplingPercent: 1, propagation: ['w3c'] },
      metrics: { enabled: false },
      accessLog: { enabled: false, samplingPercent: 100, format: '%STATUS%' },
    });
  });

  it('returns the mesh-wide default, with schema defaults, for other services', () => {
    expect(
      telemetryFor(resources(SERVICES + MESH_DEFAULT + CATALOG), {
        name: 'cart',
        namespace: 'shop',
      }),
    ).toEqual({
      tracing: { samplingPercent: 1, propagation: ['w3c'] },
      metrics: { enabled: true },
      accessLog: { enabled: true, samplingPercent: 10 },
    });
  });

  it('applies only the mesh-wide default when the service is unknown', () => {
    expect(
      telemetryFor(resources(SERVICES + MESH_DEFAULT + CATALOG), undefined)?.accessLog,
    ).toEqual({ enabled: true, samplingPercent: 10 });
  });

  it('returns undefined without any Telemetry that applies', () => {
    expect(
      telemetryFor(resources(SERVICES + CATALOG), { name: 'cart', namespace: 'shop' }),
    ).toBeUndefined();
  });
});
