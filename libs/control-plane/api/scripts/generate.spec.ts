// Fails when the committed descriptor differs from what the .proto produces now.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_FILE, renderDescriptor } from './descriptor.js';

describe('generated descriptor', () => {
  it('matches proto/trellis/v1/control_plane.proto', async () => {
    const expected = await renderDescriptor();
    const actual = existsSync(DESCRIPTOR_FILE) ? readFileSync(DESCRIPTOR_FILE, 'utf8') : undefined;
    expect(
      actual === expected,
      'src/generated/control-plane-descriptor.ts is stale: run npx tsx libs/control-plane/api/scripts/generate.ts',
    ).toBe(true);
  });
});
