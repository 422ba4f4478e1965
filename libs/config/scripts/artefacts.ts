// The generated files of libs/config, computed in memory: the per-kind JSON Schemas, the
// precompiled validators and the config reference. generate.ts writes them; generate.spec.ts
// checks the committed copies.
import { KINDS, renderConfigReference, resourceJsonSchemas } from '../src/index.js';
import { renderValidatorsDeclarations, renderValidatorsModule } from './validators.js';

/** Repository-relative path → file content. */
export function renderArtefacts(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of KINDS) {
    files.set(
      `libs/config/generated/json-schema/${kind.toLowerCase()}.json`,
      `${JSON.stringify(resourceJsonSchemas[kind], null, 2)}\n`,
    );
  }
  files.set('libs/config/generated/validators.js', renderValidatorsModule());
  files.set('libs/config/generated/validators.d.ts', renderValidatorsDeclarations());
  files.set('docs/config-reference.md', renderConfigReference());
  return files;
}
