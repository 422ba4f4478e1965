import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from './temp-dir.js';

describe('withTempDir', () => {
  it('gives the callback a fresh directory under the OS temp dir and returns its result', async () => {
    let seen = '';
    const result = await withTempDir(async (dir) => {
      seen = dir;
      expect(statSync(dir).isDirectory()).toBe(true);
      await writeFile(join(dir, 'f.txt'), 'x');
      return 42;
    });
    expect(result).toBe(42);
    expect(seen.startsWith(join(tmpdir(), 'trellis-test-'))).toBe(true);
    expect(existsSync(seen)).toBe(false);
  });

  it('removes the directory when the callback throws, and rethrows', async () => {
    let seen = '';
    const boom = new Error('boom');
    await expect(
      withTempDir((dir) => {
        seen = dir;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(existsSync(seen)).toBe(false);
  });

  it('uses the given prefix', async () => {
    const dir = await withTempDir((d) => d, 'custom-prefix-');
    expect(dir.startsWith(join(tmpdir(), 'custom-prefix-'))).toBe(true);
  });
});
