// A ConfigSource over a folder of YAML documents, the local and demo source of truth.
// File-system events only signal "something changed"; the whole folder is re-read then,
// which keeps the state exact (renames, editors' atomic saves) at a cost that is small for
// the hundreds of files a folder source holds.
import { resolve } from 'node:path';
import { Observable } from 'rxjs';
import { parseDocuments } from '@trellis/config';
import type { ConfigIssue, ParsedDocument } from '@trellis/config';
import { readConfigPaths, watchTree } from '@trellis/config-files';
import type { TreeWatcher } from '@trellis/config-files';
import type { ConfigSource, SourceState } from './config-source.js';

export interface FolderSourceOptions {
  /**
   * How long the folder must be quiet before it is re-read, in ms (default 5): enough to read
   * once for the burst of events one save makes. Waiting for a multi-file change to finish is
   * the compile pipeline's debounce, which follows; a longer settle here only adds latency.
   */
  readonly settleMs?: number;
}

export async function readFolderState(dir: string, source: string): Promise<SourceState> {
  const read = await readConfigPaths([dir], dir);
  const documents: ParsedDocument[] = [];
  const issues: ConfigIssue[] = [...read.issues];
  for (const { file, text } of read.files) {
    const parsed = parseDocuments(text, file);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  return { source, documents, issues };
}

export function folderSource(dir: string, options: FolderSourceOptions = {}): ConfigSource {
  const root = resolve(dir);
  const name = `folder:${root}`;
  const settleMs = options.settleMs ?? 5;
  return {
    name,
    states: () =>
      new Observable<SourceState>((subscriber) => {
        let timer: NodeJS.Timeout | undefined;
        let reading = false;
        let dirty = false;
        let closed = false;
        // One read at a time; a change during a read triggers exactly one more read after it.
        const read = async () => {
          if (reading) {
            dirty = true;
            return;
          }
          reading = true;
          try {
            do {
              dirty = false;
              const state = await readFolderState(root, name);
              if (!closed) subscriber.next(state);
            } while (dirty && !closed);
          } finally {
            reading = false;
          }
        };
        const schedule = () => {
          clearTimeout(timer);
          timer = setTimeout(() => void read(), settleMs);
        };
        let watcher: TreeWatcher | undefined;
        const fail = (error: unknown) =>
          subscriber.error(
            new Error(`cannot watch ${root}: ${(error as Error).message}`, { cause: error }),
          );
        watchTree(root, schedule, fail).then((w) => {
          if (closed) w.close();
          else {
            watcher = w;
            void read();
          }
        }, fail);
        return () => {
          closed = true;
          clearTimeout(timer);
          watcher?.close();
        };
      }),
  };
}
