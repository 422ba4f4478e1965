// Watches a folder tree for any change, for config sources that re-read on change. One
// non-recursive watcher per directory: directory watchers see files created, removed and
// replaced by rename (editors, `git checkout`, `kubectl cp`), which per-file watchers — what
// Node 20's recursive fs.watch uses on Linux — lose once the file's inode changes.
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isConfigFileName } from './read-config-paths.js';

export interface TreeWatcher {
  close(): void;
}

export interface WatchTreeOptions {
  /**
   * Whether a change to the entry `name` matters (default: config files, and names without an
   * extension, which may be folders). Logs and other files beside the config must not cost a
   * reload on every write.
   */
  readonly relevant?: (name: string) => boolean;
  /** Watch sub-folders too (default true). */
  readonly recursive?: boolean;
}

const configOrFolder = (name: string): boolean => isConfigFileName(name) || extname(name) === '';

async function directories(root: string, recursive: boolean): Promise<string[]> {
  const found = [root];
  for (let i = 0; i < found.length && recursive; i++) {
    let entries;
    try {
      entries = await readdir(found[i] as string, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile: the parent's watcher reports it
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.'))
        found.push(join(found[i] as string, entry.name));
    }
  }
  return found;
}

/**
 * Calls `onChange` after any relevant change under `root` (at most once per event burst is the
 * caller's business: debounce there). Throws if `root` itself cannot be watched.
 */
export async function watchTree(
  root: string,
  onChange: () => void,
  onError: (error: Error) => void,
  options: WatchTreeOptions = {},
): Promise<TreeWatcher> {
  const relevant = options.relevant ?? configOrFolder;
  const recursive = options.recursive ?? true;
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  const sync = async () => {
    const wanted = new Set(await directories(root, recursive));
    if (closed) return;
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, (event, name) => {
          // Without a name (some platforms) the change may be anything.
          if (name === null || relevant(name)) onChange();
          // Only 'rename' (created, removed, renamed) can add or remove a subfolder.
          if (recursive && event === 'rename') void sync();
        });
        watcher.on('error', (error) => (dir === root ? onError(error) : watcher.close()));
        watchers.set(dir, watcher);
      } catch (error) {
        if (dir === root) throw error;
      }
    }
  };
  await sync();
  return {
    close() {
      closed = true;
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
