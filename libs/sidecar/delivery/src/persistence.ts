// The last good snapshot on local disk, so a sidecar restarted while the control plane is away
// starts with the config it had. Writes are atomic (temp file in the same folder, fsync, rename,
// fsync the folder): a crash leaves either the old file or the new one, never half of one.
// Reads never throw: a missing file is "missing", anything else unusable is "invalid" + reason.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Snapshot } from '@trellis/config';
import type { WireSnapshot } from '@trellis/mesh-protocol';

/** Marks the file's layout; a future layout gets a new value and old files are ignored. */
export const PERSISTED_FORMAT = 'trellis.sidecar.snapshot/v1';

interface PersistedFile {
  readonly format: typeof PERSISTED_FORMAT;
  readonly savedAt: string;
  readonly snapshot: WireSnapshot;
}

export type PersistedRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'loaded'; readonly snapshot: WireSnapshot; readonly savedAt: string }
  | { readonly kind: 'invalid'; readonly reason: string };

export async function writeSnapshotFile(
  path: string,
  snapshot: Snapshot,
  savedAt: Date,
): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const body: PersistedFile = {
    format: PERSISTED_FORMAT,
    savedAt: savedAt.toISOString(),
    snapshot: { version: snapshot.version, hash: snapshot.hash, resources: snapshot.resources },
  };
  const temp = join(
    folder,
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(JSON.stringify(body));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(folder);
}

/** Makes the rename itself durable. Some file systems refuse fsync on a folder: the rename is still atomic there. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    return;
  } finally {
    await handle?.close();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readSnapshotFile(path: string, maxBytes: number): Promise<PersistedRead> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) return { kind: 'invalid', reason: 'not a regular file' };
    if (info.size > maxBytes)
      return { kind: 'invalid', reason: `${info.size} bytes exceeds the ${maxBytes}-byte limit` };
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: `unreadable: ${(error as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    return {
      kind: 'invalid',
      reason: `not JSON (truncated or corrupt): ${(error as Error).message}`,
    };
  }
  return shapeOf(value);
}

function shapeOf(value: unknown): PersistedRead {
  const file = value as Partial<Record<keyof PersistedFile, unknown>> | null;
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    return invalid('not a JSON object');
  if (file.format !== PERSISTED_FORMAT)
    return invalid(`format is ${JSON.stringify(file.format)}, expected ${PERSISTED_FORMAT}`);
  if (typeof file.savedAt !== 'string') return invalid('savedAt must be a string');
  const snapshot = file.snapshot as Partial<Record<keyof WireSnapshot, unknown>> | null;
  if (typeof snapshot !== 'object' || snapshot === null)
    return invalid('snapshot must be an object');
  const { version, hash, resources } = snapshot;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    return invalid(`snapshot.version must be a whole number ≥ 1 (got ${JSON.stringify(version)})`);
  }
  if (typeof hash !== 'string') return invalid('snapshot.hash must be a string');
  if (!Array.isArray(resources)) return invalid('snapshot.resources must be an array');
  return { kind: 'loaded', snapshot: { version, hash, resources }, savedAt: file.savedAt };
}

function invalid(reason: string): PersistedRead {
  return { kind: 'invalid', reason };
}
