import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePort, getFreePorts, isPortOpen, waitForPort } from './ports.js';

const servers: Server[] = [];

function listen(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('getFreePort', () => {
  it('returns a port in the TCP range that can be bound right away', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    await expect(listen(port)).resolves.toBeDefined();
  });

  it('getFreePorts returns the requested number of distinct ports', async () => {
    const ports = await getFreePorts(6);
    expect(ports).toHaveLength(6);
    expect(new Set(ports).size).toBe(6);
  });

  it('getFreePorts(0) returns no port', async () => {
    await expect(getFreePorts(0)).resolves.toEqual([]);
  });
});

describe('isPortOpen / waitForPort', () => {
  it('isPortOpen is false for a port nobody listens on and true once a server does', async () => {
    const port = await getFreePort();
    expect(await isPortOpen('127.0.0.1', port)).toBe(false);
    await listen(port);
    expect(await isPortOpen('127.0.0.1', port)).toBe(true);
  });

  it('waitForPort resolves once a server starts listening after the call', async () => {
    const port = await getFreePort();
    const waiting = waitForPort('127.0.0.1', port, 5000, { intervalMs: 10 });
    await listen(port);
    await expect(waiting).resolves.toBeUndefined();
  });

  it('waitForPort fails with TRL_TESTING_WAIT_TIMEOUT naming host and port', async () => {
    const port = await getFreePort();
    await expect(waitForPort('127.0.0.1', port, 200)).rejects.toMatchObject({
      code: 'TRL_TESTING_WAIT_TIMEOUT',
      message: `timed out after 200 ms waiting for 127.0.0.1:${port} to accept connections`,
    });
  });
});
