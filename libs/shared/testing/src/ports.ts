// Free loopback ports and "is something listening yet": integration tests bind real servers on
// ports the OS hands out, never on fixed ones, so parallel suites cannot collide.
import { createServer, connect } from 'node:net';
import type { Clock } from '@trellis/time';
import { TestingError } from './errors.js';
import { waitFor } from './wait-for.js';

/** Asks the OS for a free TCP port on `host` (binds port 0, reads it, closes). */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = address !== null && typeof address === 'object' ? address.port : undefined;
      server.close((err) => {
        if (err) reject(err);
        else if (port === undefined) reject(new Error(`no TCP port bound on ${host}`));
        else resolve(port);
      });
    });
  });
}

/**
 * `count` distinct free ports. Ports are released before they are used, so the OS could hand the
 * same one out twice in a row; asking again until they differ keeps a cluster's ports apart.
 */
export async function getFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0) {
    throw new TestingError(
      'TRL_TESTING_INVALID_OPTION',
      `port count must be a non-negative integer (got ${count})`,
    );
  }
  const ports = new Set<number>();
  // Bounded: the ephemeral range is large, so more than a few repeats means something is wrong.
  for (let tries = 0; ports.size < count; tries++) {
    if (tries >= count * 10) {
      throw new Error(`could not find ${count} distinct free ports on ${host}`);
    }
    ports.add(await getFreePort(host));
  }
  return [...ports];
}

/** Resolves true when a TCP connection to host:port succeeds within `timeoutMs`, else false. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface WaitForPortOptions {
  readonly intervalMs?: number;
  readonly clock?: Clock;
}

/** Polls until host:port accepts TCP connections; TRL_TESTING_WAIT_TIMEOUT after `timeoutMs`. */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  options: WaitForPortOptions = {},
): Promise<void> {
  await waitFor(() => isPortOpen(host, port, Math.min(1000, Math.max(1, timeoutMs))), {
    timeoutMs,
    what: `${host}:${port} to accept connections`,
    ...options,
  });
}
