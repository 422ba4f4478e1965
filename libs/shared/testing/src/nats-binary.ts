// Locates the nats-server executable. Tests always run a real server; when it is missing the
// error says how to get it rather than failing later with a bare ENOENT.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TestingError } from './errors.js';

/** Where Debian's `nats-server` package installs the binary (not on a non-root PATH). */
export const DEBIAN_NATS_SERVER_PATH = '/usr/sbin/nats-server';

const INSTALL_HINT =
  'install the Debian package with `apt-get install nats-server` (the project scripts do this), ' +
  'or point NATS_SERVER_BIN at a nats-server binary';

/**
 * Resolves the binary: `NATS_SERVER_BIN` if set (it must exist), else `nats-server` on PATH, else
 * `fallback` (Debian's /usr/sbin path). Throws TRL_TESTING_NATS_NOT_INSTALLED otherwise.
 */
export function findNatsServerBinary(
  env: NodeJS.ProcessEnv = process.env,
  fallback: string = DEBIAN_NATS_SERVER_PATH,
): string {
  const explicit = env['NATS_SERVER_BIN'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutableFile(explicit)) return explicit;
    throw new TestingError(
      'TRL_TESTING_NATS_NOT_INSTALLED',
      `NATS_SERVER_BIN=${explicit} is not an executable file; ${INSTALL_HINT}`,
    );
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    if (isExecutableFile(candidate)) return candidate;
  }
  if (isExecutableFile(fallback)) return fallback;
  throw new TestingError(
    'TRL_TESTING_NATS_NOT_INSTALLED',
    `nats-server was not found on PATH nor at ${fallback}; ${INSTALL_HINT}`,
  );
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
