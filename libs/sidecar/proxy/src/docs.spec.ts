// docs/sidecar.md must explain every x-trellis-error value the proxy can produce.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trellisErrorValues } from './sidecar.js';

describe('docs/sidecar.md', () => {
  it('documents every x-trellis-error value', () => {
    const doc = readFileSync(new URL('../../../../docs/sidecar.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Errors the proxy itself produces'));
    // Rows of the table: a value in backticks, then its HTTP status (the header row has none).
    const documented = [...section.matchAll(/^\| `([a-z-]+)` +\| +(?:\d|the)/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...trellisErrorValues].sort());
  });
});
