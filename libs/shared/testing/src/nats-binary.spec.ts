import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findNatsServerBinary } from './nats-binary.js';
import { withTempDir } from './temp-dir.js';

async function fakeBinary(dir: string, name = 'nats-server', mode = 0o755): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, mode);
  return path;
}

describe('findNatsServerBinary', () => {
  it('prefers NATS_SERVER_BIN when it is an executable file', async () => {
    await withTempDir(async (dir) => {
      const bin = await fakeBinary(dir, 'my-nats');
      const pathDir = join(dir, 'bin');
      await mkdir(pathDir);
      const onPath = await fakeBinary(pathDir);
      expect(findNatsServerBinary({ NATS_SERVER_BIN: bin, PATH: pathDir }, onPath)).toBe(bin);
    });
  });

  it('rejects a NATS_SERVER_BIN that does not exist, naming the variable and the Debian package', () => {
    expect(() =>
      findNatsServerBinary(
        { NATS_SERVER_BIN: '/nonexistent/nats-server', PATH: '' },
        '/nonexistent/x',
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'TRL_TESTING_NATS_NOT_INSTALLED',
        message: expect.stringContaining(
          'NATS_SERVER_BIN=/nonexistent/nats-server is not an executable file; install the Debian package with `apt-get install nats-server`',
        ),
      }),
    );
  });

  it('finds nats-server on PATH, skipping directories where it is not executable', async () => {
    await withTempDir(async (dir) => {
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      await mkdir(a);
      await mkdir(b);
      await fakeBinary(a, 'nats-server', 0o644);
      const good = await fakeBinary(b);
      expect(findNatsServerBinary({ PATH: `${a}:${b}` }, '/nonexistent/x')).toBe(good);
    });
  });

  it('falls back to the Debian path when PATH has no nats-server', async () => {
    await withTempDir(async (dir) => {
      const fallback = await fakeBinary(dir);
      expect(findNatsServerBinary({ PATH: '/nonexistent' }, fallback)).toBe(fallback);
    });
  });

  it('throws TRL_TESTING_NATS_NOT_INSTALLED with the apt-get hint when nothing is found', () => {
    expect(() =>
      findNatsServerBinary({ PATH: '/nonexistent' }, '/nonexistent/nats-server'),
    ).toThrow(
      expect.objectContaining({
        code: 'TRL_TESTING_NATS_NOT_INSTALLED',
        message:
          'nats-server was not found on PATH nor at /nonexistent/nats-server; install the Debian package with ' +
          '`apt-get install nats-server` (the project scripts do this), or point NATS_SERVER_BIN at a nats-server binary',
      }),
    );
  });
});
