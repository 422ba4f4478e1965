// Writes the generated JSON Schemas, the precompiled validators and docs/config-reference.md
// (`npm run docs:config`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderArtefacts } from './artefacts.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
for (const [path, content] of renderArtefacts()) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${path}`);
}
