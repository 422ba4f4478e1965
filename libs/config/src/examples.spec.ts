// The shipped examples must load cleanly: they are what the demo and the docs point people at.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatIssue } from './issues.js';
import { loadConfig } from './load.js';
import type { RouteResource } from './schema/route.js';
import { buildSnapshot, resourceKey } from './snapshot.js';

const shopDir = fileURLToPath(new URL('../../../examples/shop/', import.meta.url));
const files = readdirSync(shopDir)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({
    file: `examples/shop/${name}`,
    text: readFileSync(join(shopDir, name), 'utf8'),
  }));

describe('examples/shop', () => {
  const { resources, issues } = loadConfig(files);

  it('is split into services, endpoints, routes and policies', () => {
    expect(files.map((f) => f.file)).toEqual([
      'examples/shop/endpoints.yaml',
      'examples/shop/policies.yaml',
      'examples/shop/routes.yaml',
      'examples/shop/services.yaml',
    ]);
  });

  it('loads without errors or warnings', () => {
    expect(issues.map(formatIssue)).toEqual([]);
  });

  it('has every kind', () => {
    expect(buildSnapshot(resources, 1).resources.map(resourceKey)).toEqual([
      'Service/shop/catalog',
      'Service/shop/catalog-v2',
      'Service/shop/frontend',
      'Service/shop/pricing',
      'Endpoints/shop/catalog',
      'Endpoints/shop/catalog-v2',
      'Endpoints/shop/frontend',
      'Endpoints/shop/pricing',
      'Route/shop/catalog',
      'DestinationPolicy/shop/catalog',
      'RateLimit/shop/pricing',
      'RetryBudget/shop/catalog',
      'Telemetry/shop/mesh',
    ]);
  });

  it('runs every endpoint on 127.0.0.1 at the agreed ports', () => {
    const ports = Object.fromEntries(
      resources.flatMap((r) =>
        r.kind === 'Endpoints'
          ? [[r.spec.service, r.spec.endpoints.map((e) => `${e.address}:${e.port}`)]]
          : [],
      ),
    );
    expect(ports).toEqual({
      frontend: ['127.0.0.1:18081'],
      catalog: ['127.0.0.1:18082'],
      'catalog-v2': ['127.0.0.1:18083'],
      pricing: ['127.0.0.1:18084'],
    });
  });

  it('splits catalog traffic 90/10 with a canary and retries', () => {
    const route = resources.find((r): r is RouteResource => r.kind === 'Route');
    expect(route?.spec.destinations?.map((d) => [d.service, d.weight])).toEqual([
      ['catalog', 90],
      ['catalog-v2', 10],
    ]);
    expect(route?.spec.retries?.attempts).toBe(2);
  });
});
