import { describe, expect, it } from 'vitest';
import { route, service, yaml } from '../testing/fixtures.js';
import { formatIssue } from './issues.js';
import { loadConfig } from './load.js';

describe('loadConfig', () => {
  it('resolves references across files', () => {
    const result = loadConfig([
      { file: 'routes.yaml', text: yaml(route({})) },
      { file: 'services.yaml', text: yaml(service('catalog')) },
    ]);
    expect(result.issues).toEqual([]);
    expect(result.resources.map((r) => r.kind)).toEqual(['Route', 'Service']);
  });

  it('reports YAML and validation issues together', () => {
    const result = loadConfig([
      { file: 'broken.yaml', text: 'a: [\n' },
      { file: 'routes.yaml', text: yaml(route({})) },
    ]);
    expect(result.issues.map((i) => i.code)).toEqual(['TRL_CFG_YAML', 'TRL_CFG_REFERENCE']);
    expect(formatIssue(result.issues[1]!)).toBe(
      'routes.yaml:10:16: route/catalog.shop: spec.destinations[0].service: refers to unknown service "catalog" in namespace "shop"',
    );
  });

  it('loads nothing from no files', () => {
    expect(loadConfig([])).toEqual({ resources: [], issues: [] });
  });
});
