// Reads Trellis YAML documents from files and folders (the local config source and
// `meshctl validate`). Unreadable paths become config issues, never exceptions, so one bad
// file is reported beside the others instead of hiding them.
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { ConfigIssue } from '@trellis/config';

export interface ConfigFile {
  /** Path as shown to the user: relative to `baseDir` when below it. */
  readonly file: string;
  readonly text: string;
}

export interface ReadConfigResult {
  readonly files: ConfigFile[];
  readonly issues: ConfigIssue[];
}

const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);

/** True for names a folder source reads: YAML files that are not hidden or editor backups. */
export function isConfigFileName(name: string): boolean {
  return !name.startsWith('.') && YAML_EXTENSIONS.has(extname(name));
}

/**
 * Reads every path: a file is read whatever its extension; a folder is walked recursively for
 * `*.yaml`/`*.yml` files, in sorted order so results are reproducible.
 */
export async function readConfigPaths(
  paths: readonly string[],
  baseDir: string = process.cwd(),
): Promise<ReadConfigResult> {
  const files: ConfigFile[] = [];
  const issues: ConfigIssue[] = [];
  const display = (path: string) => {
    const rel = relative(baseDir, path);
    return rel && !rel.startsWith('..') ? rel : path;
  };
  const fail = (path: string, error: unknown) =>
    issues.push({
      severity: 'error',
      code: 'TRL_CFG_READ',
      message: `cannot read ${display(path)}: ${describeFsError(error)}`,
    });

  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      fail(path, error);
      return;
    }
    if (info.isDirectory()) {
      let entries;
      try {
        entries = await readdir(path, { withFileTypes: true });
      } catch (error) {
        fail(path, error);
        return;
      }
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) {
          await visit(join(path, entry.name), false);
        } else if (!entry.isDirectory() && isConfigFileName(entry.name)) {
          await visit(join(path, entry.name), false);
        }
      }
      return;
    }
    if (!explicit && !isConfigFileName(path)) return;
    try {
      files.push({ file: display(path), text: await readFile(path, 'utf8') });
    } catch (error) {
      fail(path, error);
    }
  };

  for (const path of paths) await visit(path, true);
  if (paths.length > 0 && files.length === 0 && issues.length === 0) {
    issues.push({
      severity: 'error',
      code: 'TRL_CFG_READ',
      message: `no .yaml or .yml files found in ${paths.map(display).join(', ')}`,
    });
  }
  return { files, issues };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
