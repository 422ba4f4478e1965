// Test helpers: resources from YAML through the real validator (so defaults are applied),
// and request views from plain objects.
import { loadConfig } from '@trellis/config';
import type { Resource } from '@trellis/config';
import type { RequestView } from './request-view.js';

export function resourcesFromYaml(text: string): Resource[] {
  const { resources, issues } = loadConfig([{ file: 'test.yaml', text }]);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length)
    throw new Error(
      `test config is invalid:\n${errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`,
    );
  return resources;
}

export function request(
  authority: string,
  target = '/',
  method = 'GET',
  headers: Record<string, string> = {},
  protocol: 'http1' | 'h2c' = 'http1',
): RequestView {
  return { authority, target, method, protocol, header: (name) => headers[name] };
}
