// Scoped temporary directories: created fresh, removed whatever the callback does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `fn` with a new directory under the OS temp dir and removes it (recursively) afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => T | Promise<T>,
  prefix = 'trellis-test-',
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
