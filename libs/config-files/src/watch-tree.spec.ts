import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchTree } from './watch-tree.js';
import type { TreeWatcher } from './watch-tree.js';

describe('watchTree', () => {
  let dir: string;
  let watcher: TreeWatcher | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-watch-tree-'));
  });
  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function changes() {
    let count = 0;
    let waiting: (() => void) | undefined;
    return {
      onChange: () => {
        count++;
        waiting?.();
      },
      next: () => new Promise<void>((resolve) => (waiting = resolve)),
      get count() {
        return count;
      },
    };
  }

  it('sees a file replaced by rename, again and again', async () => {
    await writeFile(join(dir, 'a.yaml'), 'one');
    const seen = changes();
    watcher = await watchTree(dir, seen.onChange, () => undefined);
    for (const text of ['two', 'three']) {
      const next = seen.next();
      await writeFile(join(dir, '.a.tmp'), text);
      await rename(join(dir, '.a.tmp'), join(dir, 'a.yaml'));
      await next;
    }
    expect(seen.count).toBeGreaterThanOrEqual(2);
  });

  it('sees changes in a subfolder created after it started', async () => {
    const seen = changes();
    watcher = await watchTree(dir, seen.onChange, () => undefined);
    let next = seen.next();
    await mkdir(join(dir, 'sub'));
    await next;
    // Give the new folder's watcher a moment to be set up by the re-scan.
    await new Promise((r) => setTimeout(r, 50));
    next = seen.next();
    await writeFile(join(dir, 'sub', 'b.yaml'), 'x');
    await next;
  });

  // fs.watch delivers within milliseconds; a quiet 100 ms means no event came.
  const quiet = () => new Promise((r) => setTimeout(r, 100));

  it('ignores files that are not config, such as a log written beside it', async () => {
    const seen = changes();
    watcher = await watchTree(dir, seen.onChange, () => undefined);
    for (let i = 0; i < 5; i++)
      await writeFile(join(dir, 'sidecar.log'), `line ${i}\n`, { flag: 'a' });
    await quiet();
    expect(seen.count).toBe(0);
    const next = seen.next();
    await writeFile(join(dir, 'a.yaml'), 'x');
    await next;
  });

  it('counts only the names the caller calls relevant', async () => {
    await writeFile(join(dir, 'gateway.conf'), 'one');
    const seen = changes();
    watcher = await watchTree(dir, seen.onChange, () => undefined, {
      recursive: false,
      relevant: (name) => name === 'gateway.conf',
    });
    await writeFile(join(dir, 'other.yaml'), 'x');
    await quiet();
    expect(seen.count).toBe(0);
    const next = seen.next();
    await writeFile(join(dir, 'gateway.conf'), 'two');
    await next;
  });

  it('throws when the root cannot be watched', async () => {
    await expect(
      watchTree(
        join(dir, 'missing'),
        () => undefined,
        () => undefined,
      ),
    ).rejects.toThrow(/ENOENT/);
  });
});
