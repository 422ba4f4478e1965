import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { snapshotV } from '../testing/fixtures.js';
import { PERSISTED_FORMAT, readSnapshotFile, writeSnapshotFile } from './persistence.js';

const savedAt = new Date('2025-02-03T04:05:06.000Z');
const MiB = 1024 * 1024;

describe('writeSnapshotFile / readSnapshotFile', () => {
  it('round-trips a snapshot', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      const snapshot = snapshotV(3);
      await writeSnapshotFile(path, snapshot, savedAt);
      expect(await readSnapshotFile(path, MiB)).toEqual({
        kind: 'loaded',
        savedAt: '2025-02-03T04:05:06.000Z',
        snapshot: { version: 3, hash: snapshot.hash, resources: snapshot.resources },
      });
    });
  });

  it('replaces the previous file and leaves no temporary file behind', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      await writeSnapshotFile(path, snapshotV(1), savedAt);
      await writeSnapshotFile(path, snapshotV(2), savedAt);
      expect(await readdir(dir)).toEqual(['snapshot.json']);
      const read = await readSnapshotFile(path, MiB);
      expect(read.kind === 'loaded' && read.snapshot.version).toBe(2);
    });
  });

  it('creates missing folders', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'a', 'b', 'snapshot.json');
      await writeSnapshotFile(path, snapshotV(1), savedAt);
      expect(JSON.parse(await readFile(path, 'utf8')).format).toBe(PERSISTED_FORMAT);
    });
  });

  it('fails, removing its temporary file, when the target cannot be replaced', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      await mkdir(path);
      await expect(writeSnapshotFile(path, snapshotV(1), savedAt)).rejects.toThrow();
      expect(await readdir(dir)).toEqual(['snapshot.json']);
    });
  });

  it('says missing when there is no file', async () => {
    await withTempDir(async (dir) => {
      expect(await readSnapshotFile(join(dir, 'none.json'), MiB)).toEqual({ kind: 'missing' });
    });
  });

  it.each([
    [
      'truncated',
      (text: string) => text.slice(0, text.length / 2),
      /^not JSON \(truncated or corrupt\): /,
    ],
    ['empty', () => '', /^not JSON \(truncated or corrupt\): /],
    ['not an object', () => '[1,2]', /^not a JSON object$/],
    [
      'another format',
      (text: string) => text.replace(PERSISTED_FORMAT, 'other/v9'),
      /^format is "other\/v9", expected /,
    ],
    [
      'a bad version',
      (text: string) => text.replace('"version":2', '"version":-2'),
      /^snapshot\.version must be a whole number ≥ 1 \(got -2\)$/,
    ],
    [
      'no resources',
      (text: string) => text.replace('"resources":', '"nothing":'),
      /^snapshot\.resources must be an array$/,
    ],
  ])('calls a %s file invalid, with the reason', async (_name, mangle, reason) => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      await writeSnapshotFile(path, snapshotV(2), savedAt);
      await writeFile(path, mangle(await readFile(path, 'utf8')));
      const read = await readSnapshotFile(path, MiB);
      expect(read.kind).toBe('invalid');
      expect(read.kind === 'invalid' && read.reason).toMatch(reason);
    });
  });

  it('calls invalid UTF-8 invalid', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      await writeFile(path, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
      const read = await readSnapshotFile(path, MiB);
      expect(read.kind === 'invalid' && read.reason).toMatch(
        /^not JSON \(truncated or corrupt\): /,
      );
    });
  });

  it('calls a file over the size bound invalid without reading it', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      await writeFile(path, 'x'.repeat(2048));
      expect(await readSnapshotFile(path, 1024)).toEqual({
        kind: 'invalid',
        reason: '2048 bytes exceeds the 1024-byte limit',
      });
    });
  });

  it('calls a folder in its place invalid', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'snapshot.json');
      await mkdir(path);
      expect(await readSnapshotFile(path, MiB)).toEqual({
        kind: 'invalid',
        reason: 'not a regular file',
      });
    });
  });
});
