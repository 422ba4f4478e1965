import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthorizationError, PermissionViolationError, connect } from '@nats-io/transport-node';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLiveNatsServers, stopAllNatsServers } from './nats-registry.js';
import { startNatsServer } from './nats-server.js';
import type { NatsServerHandle, StartNatsServerOptions } from './nats-server.js';
import { TestingError } from './errors.js';
import { fetchNatsMonitor, monitorField } from './nats-monitor.js';
import { withTempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

afterAll(stopAllNatsServers);

const connections: NatsConnection[] = [];

async function connectAs(
  server: NatsServerHandle,
  name: string,
  password?: string,
): Promise<NatsConnection> {
  const creds = server.users[name];
  if (!creds) throw new Error(`no user ${name}`);
  const nc = await connect({
    servers: server.url,
    user: creds.user,
    pass: password ?? creds.password,
  });
  connections.push(nc);
  return nc;
}

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The error a start that must fail rejects with. */
async function startError(options: StartNatsServerOptions): Promise<TestingError> {
  try {
    await (await startNatsServer(options)).stop();
  } catch (err) {
    if (err instanceof TestingError) return err;
    throw err;
  }
  throw new Error('startNatsServer was expected to fail');
}

/** The next status of `type` the connection reports, within `timeoutMs`. */
function nextStatus<T extends Status['type']>(
  nc: NatsConnection,
  type: T,
  timeoutMs = 10_000,
): Promise<Extract<Status, { type: T }>> {
  const statuses = nc.status(); // registers now, before the caller triggers the event
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${type} status within ${timeoutMs} ms`)),
      timeoutMs,
    );
    void (async () => {
      for await (const status of statuses) {
        if (status.type === type) {
          clearTimeout(timer);
          resolve(status as Extract<Status, { type: T }>);
          return;
        }
      }
    })();
  });
}

describe('startNatsServer lifecycle', () => {
  it('stop() ends the process and removes the temp dir, and is idempotent', async () => {
    const before = countLiveNatsServers();
    const server = await startNatsServer();
    const pid = server.pid;
    expect(pid).toBeTypeOf('number');
    expect(isAlive(pid as number)).toBe(true);
    expect(server.running).toBe(true);
    expect(existsSync(server.configFile)).toBe(true);
    expect(countLiveNatsServers()).toBe(before + 1);

    await server.stop();
    expect(isAlive(pid as number)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    expect(server.running).toBe(false);
    expect(server.pid).toBeUndefined();
    expect(countLiveNatsServers()).toBe(before);
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it('listens on loopback with the default user, 8 MiB max payload and JetStream on', async () => {
    const server = await startNatsServer();
    const nc = await connectAs(server, 'admin');
    expect(Object.keys(server.users)).toEqual(['admin']);
    expect(server.users['admin']?.password).toMatch(/^[0-9a-f]{32}$/);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(nc.info?.max_payload).toBe(8 * 1024 * 1024);
    expect(nc.info?.port).toBe(server.port);
    expect(nc.info?.jetstream).toBe(true);
    expect(nc.info?.auth_required).toBe(true);
    await server.stop();
  });

  it('runs with the connection limits given (monitor /varz shows them)', async () => {
    const server = await startNatsServer({
      jetstream: false,
      limits: { maxConnections: 12345, authTimeoutSeconds: 7, writeDeadlineSeconds: 20 },
    });
    const varz = await fetchNatsMonitor(server.monitorPort, '/varz');
    expect(monitorField(varz.body, 'max_connections')).toBe(12345);
    expect(monitorField(varz.body, 'auth_timeout')).toBe(7);
    expect(monitorField(varz.body, 'write_deadline')).toBe(20_000_000_000);
    await server.stop();
  });

  it('stopAllNatsServers() stops every running server', async () => {
    const a = await startNatsServer({ jetstream: false });
    const b = await startNatsServer({ jetstream: false });
    const pids = [a.pid as number, b.pid as number];
    await stopAllNatsServers();
    expect(pids.map(isAlive)).toEqual([false, false]);
    expect([existsSync(a.dir), existsSync(b.dir)]).toEqual([false, false]);
    expect(countLiveNatsServers()).toBe(0);
  });

  it('kill() SIGKILLs the process but keeps the store; stop() afterwards still removes the dir', async () => {
    const server = await startNatsServer();
    const pid = server.pid as number;
    await server.kill();
    expect(isAlive(pid)).toBe(false);
    expect(server.running).toBe(false);
    expect(existsSync(server.storeDir)).toBe(true);
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
  });

  it('runs the server in our process group unless ownProcessGroup asks for its own', async () => {
    const processGroupOf = (pid: number) =>
      Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    const shared = await startNatsServer({ jetstream: false });
    const own = await startNatsServer({ jetstream: false, ownProcessGroup: true });
    expect(processGroupOf(shared.pid!)).toBe(processGroupOf(process.pid));
    expect(processGroupOf(own.pid!)).toBe(own.pid);
    await Promise.all([shared.stop(), own.stop()]);
  });

  it('restart() after stop() fails with TRL_TESTING_NATS_STOPPED', async () => {
    const server = await startNatsServer({ jetstream: false });
    await server.stop();
    await expect(server.restart()).rejects.toMatchObject({ code: 'TRL_TESTING_NATS_STOPPED' });
  });

  it('reports a server that exits at start with its exit code and stderr, and leaves no temp dir', async () => {
    await withTempDir(async (dir) => {
      const bin = join(dir, 'broken-nats');
      await writeFile(bin, '#!/bin/sh\necho "nats-server: config error: bad things" >&2\nexit 3\n');
      await chmod(bin, 0o755);
      const err = await startError({ binary: bin });
      expect(err).toMatchObject({ code: 'TRL_TESTING_NATS_START_FAILED' });
      expect(err.message).toContain('nats-server exited (code 3) before it was ready');
      expect(err.message).toContain('log tail:\nnats-server: config error: bad things');
      const configFile = /-c (\S+)\)/.exec(err.message)?.[1] ?? '';
      expect(configFile).toMatch(/trellis-nats-.*nats-server\.conf$/);
      expect(existsSync(configFile)).toBe(false);
    });
  });

  it('kills a server that never becomes ready within startTimeoutMs', async () => {
    await withTempDir(async (dir) => {
      const bin = join(dir, 'silent-nats');
      const pidFile = join(dir, 'pid');
      await writeFile(bin, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 60\n`);
      await chmod(bin, 0o755);
      // Long enough for the script to write its pid on a loaded machine before it is killed.
      const err = await startError({ binary: bin, startTimeoutMs: 2000 });
      expect(err).toMatchObject({ code: 'TRL_TESTING_NATS_START_FAILED' });
      expect(err.message).toContain('nats-server did not become ready within 2000 ms');
      expect(err.cause).toMatchObject({ code: 'TRL_TESTING_WAIT_TIMEOUT' });
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      expect(isAlive(pid)).toBe(false);
    });
  });
});

describe('authentication and permissions', () => {
  let server: NatsServerHandle;

  beforeAll(async () => {
    server = await startNatsServer({
      jetstream: false,
      users: [
        {
          user: 'control-plane',
          permissions: {
            publish: { allow: ['trellis.v1.config.>'] },
            subscribe: { allow: ['trellis.>', '_INBOX.>'] },
          },
        },
        {
          user: 'sidecar',
          password: 'sidecar-secret',
          permissions: {
            publish: { allow: ['trellis.>'], deny: ['trellis.v1.config.>'] },
            subscribe: { allow: ['trellis.v1.config.>', '_INBOX.>'] },
          },
        },
      ],
    });
  });

  afterAll(() => server.stop());

  it('keeps a given password and generates the others', () => {
    expect(server.users['sidecar']).toEqual({ user: 'sidecar', password: 'sidecar-secret' });
    expect(server.users['control-plane']?.password).toMatch(/^[0-9a-f]{32}$/);
  });

  it('delivers a message a permitted user publishes to a permitted subscriber', async () => {
    const cp = await connectAs(server, 'control-plane');
    const sidecar = await connectAs(server, 'sidecar');
    const sub = sidecar.subscribe('trellis.v1.config.>', { max: 1 });
    await sidecar.flush();
    cp.publish('trellis.v1.config.mesh', 'version-7');
    for await (const msg of sub) {
      expect(msg.subject).toBe('trellis.v1.config.mesh');
      expect(msg.string()).toBe('version-7');
    }
    expect(sub.getReceived()).toBe(1);
  });

  it('reports a denied publish as an async PermissionViolationError status and drops the message', async () => {
    const cp = await connectAs(server, 'control-plane');
    const sidecar = await connectAs(server, 'sidecar');
    const sub = cp.subscribe('trellis.>', { max: 1 });
    await cp.flush();
    const error = nextStatus(sidecar, 'error');

    sidecar.publish('trellis.v1.config.mesh', 'forged');
    // publish() itself does not throw and flush() succeeds: the violation only arrives as a status.
    await sidecar.flush();
    const status = await error;
    expect(status.error).toBeInstanceOf(PermissionViolationError);
    expect(status.error).toMatchObject({
      operation: 'publish',
      subject: 'trellis.v1.config.mesh',
      message: 'Permissions Violation for Publish to "trellis.v1.config.mesh"',
    });
    expect(sidecar.isClosed()).toBe(false);

    // Same publisher, same subscriber: order is kept, so the first message seen is the allowed one.
    sidecar.publish('trellis.v1.status.ack', 'ok');
    for await (const msg of sub) {
      expect(msg.subject).toBe('trellis.v1.status.ack');
      expect(msg.string()).toBe('ok');
    }
  });

  it('closes a denied subscription with a PermissionViolationError', async () => {
    const sidecar = await connectAs(server, 'sidecar');
    const sub = sidecar.subscribe('trellis.v1.status.>');
    const closed = await sub.closed;
    expect(closed).toBeInstanceOf(PermissionViolationError);
    expect(closed).toMatchObject({ operation: 'subscription', subject: 'trellis.v1.status.>' });
    expect(sub.isClosed()).toBe(true);
    expect(sidecar.isClosed()).toBe(false);
  });

  it('rejects a wrong password with an AuthorizationError', async () => {
    const err = await connectAs(server, 'sidecar', 'wrong').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect(err).toMatchObject({ message: 'Authorization Violation' });
  });

  it('rejects an unknown user with an AuthorizationError', async () => {
    const err = await connect({ servers: server.url, user: 'nobody', pass: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthorizationError);
  });
});

describe('JetStream KV', () => {
  it('puts and gets a key, and the value survives restart() on the same port and store', async () => {
    const server = await startNatsServer();
    const { port, storeDir } = server;
    const nc = await connectAs(server, 'admin');
    const kv = await new Kvm(nc).create('config', { history: 1 });
    await kv.put('mesh', 'v1');
    expect((await kv.get('mesh'))?.string()).toBe('v1');
    await nc.close();

    const pidBefore = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(pidBefore);
    expect(server.port).toBe(port);
    expect(server.storeDir).toBe(storeDir);

    const again = await connectAs(server, 'admin');
    const reopened = await new Kvm(again).open('config');
    expect((await reopened.get('mesh'))?.string()).toBe('v1');
    await again.close();
    await server.stop();
  });

  it('a value survives kill() (a crash) and restart()', async () => {
    const server = await startNatsServer();
    const nc = await connectAs(server, 'admin');
    const kv = await new Kvm(nc).create('crash', { history: 1 });
    const revision = await kv.put('k', 'durable');
    await nc.close();

    await server.kill();
    await server.restart();
    const again = await connectAs(server, 'admin');
    const entry = await (await new Kvm(again).open('crash')).get('k');
    expect(entry?.string()).toBe('durable');
    expect(entry?.revision).toBe(revision);
    await again.close();
    await server.stop();
  });

  it('a connected client reconnects after restart() and sees the state', async () => {
    const server = await startNatsServer();
    const nc = await connect({
      servers: server.url,
      user: 'admin',
      pass: server.users['admin']?.password,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    connections.push(nc);
    const kv = await new Kvm(nc).create('outage', { history: 1 });
    await kv.put('k', 'before');
    const reconnected = nextStatus(nc, 'reconnect');
    await server.restart();
    expect(await reconnected).toEqual({ type: 'reconnect', server: `127.0.0.1:${server.port}` });
    // A request written just before the client saw the drop is lost, so poll instead of one get.
    const value = await waitFor(async () => (await kv.get('k'))?.string(), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the KV to answer after the restart',
    });
    expect(value).toBe('before');
    const jsz = await fetchNatsMonitor(server.monitorPort, '/jsz');
    expect(monitorField(jsz.body, 'streams')).toBe(1);
    await nc.close();
    await server.stop();
  });
});
