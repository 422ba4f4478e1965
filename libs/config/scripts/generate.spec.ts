// Fails when the committed generated files differ from what the schemas produce now.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderArtefacts } from './artefacts.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('generated artefacts', () => {
  const artefacts = renderArtefacts();

  it('cover one JSON Schema per kind, the precompiled validators and the reference', () => {
    expect([...artefacts.keys()]).toEqual([
      'libs/config/generated/json-schema/service.json',
      'libs/config/generated/json-schema/endpoints.json',
      'libs/config/generated/json-schema/route.json',
      'libs/config/generated/json-schema/destinationpolicy.json',
      'libs/config/generated/json-schema/ratelimit.json',
      'libs/config/generated/json-schema/retrybudget.json',
      'libs/config/generated/json-schema/telemetry.json',
      'libs/config/generated/validators.js',
      'libs/config/generated/validators.d.ts',
      'docs/config-reference.md',
    ]);
  });

  it.each([...artefacts])('%s is up to date', (path, expected) => {
    const file = join(root, path);
    const actual = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    expect(actual === expected, `${path} is stale: run npm run docs:config`).toBe(true);
  });
});
