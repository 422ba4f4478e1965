// Writes src/generated/control-plane-descriptor.ts from the .proto (`npx tsx libs/control-plane/api/scripts/generate.ts`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DESCRIPTOR_FILE, renderDescriptor } from './descriptor.js';

mkdirSync(dirname(DESCRIPTOR_FILE), { recursive: true });
writeFileSync(DESCRIPTOR_FILE, await renderDescriptor());
console.log(`wrote ${DESCRIPTOR_FILE}`);
