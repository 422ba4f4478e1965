// The trellis-control-plane process end to end (run from source with tsx): local mode as before,
// and with NATS — options from the environment, a sync request answered, the sidecar's state on
// the HTTP API and in the metrics, and a clean shutdown that releases the writer lease.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { decodeSyncReply, encodeMessage, inboxPrefix, subjects } from '@trellis/mesh-protocol';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import {
  CONTROL_PLANE_NATS_USER,
  sidecarNatsUser,
  trellisNatsUsers,
} from '@trellis/control-plane-delivery';
import {
  getFreePort,
  startNatsServer,
  stopAllNatsServers,
  waitFor,
  withTempDir,
} from '@trellis/testing';

afterAll(stopAllNatsServers);

const passwords = {
  controlPlanePassword: 'cp-pass',
  sidecars: [{ namespace: 'shop', pod: 'web-1', password: 'sc-pass' }],
};
const main = join(import.meta.dirname, 'main.ts');
const service = `apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  ports: [{port: 80}]
`;

let child: ChildProcess | undefined;
/** What the process wrote to stdout: its JSON log lines. */
let stdout = '';
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  stdout = '';
  child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  return child;
}

function exitCode(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ready = (base: string) =>
  waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
    timeoutMs: 20_000,
    what: 'the control plane to be ready',
  });

describe('trellis-control-plane', () => {
  it('compiles and serves the API without NATS, as before', { timeout: 40_000 }, async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'catalog.yaml'), service);
      const port = await getFreePort();
      const base = `http://127.0.0.1:${port}`;
      start(['--source', dir, '--api', `127.0.0.1:${port}`]);
      await ready(base);
      expect((await getJson(`${base}/api/v1/snapshot`)).body['version']).toBe(1);
      expect((await fetch(`${base}/api/v1/proxies`)).status).toBe(404);
    });
  });

  it(
    'delivers over NATS, reports the sidecar, and releases the lease on SIGTERM',
    { timeout: 40_000 },
    async () => {
      const nats = await startNatsServer({ users: trellisNatsUsers(passwords) });
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'catalog.yaml'), service);
        const port = await getFreePort();
        const base = `http://127.0.0.1:${port}`;
        const proc = start(
          ['--source', dir, '--api', `127.0.0.1:${port}`, '--replica-id', 'cp-test'],
          {
            TRELLIS_NATS_URL: nats.url,
            TRELLIS_NATS_USER: CONTROL_PLANE_NATS_USER,
            TRELLIS_NATS_PASSWORD: passwords.controlPlanePassword,
          },
        );
        await ready(base);

        const sidecar = await connect({
          servers: nats.url,
          user: sidecarNatsUser('shop', 'web-1'),
          pass: 'sc-pass',
          inboxPrefix: inboxPrefix('shop', 'web-1'),
        });
        const proxy: ProxyIdentity = {
          namespace: 'shop',
          pod: 'web-1',
          service: 'web',
          role: 'sidecar',
          labels: {},
          startedAt: new Date().toISOString(),
        };
        const reply = decodeSyncReply(
          (
            await sidecar.request(
              subjects.sync('shop', 'web-1'),
              encodeMessage({ proxy, version: 0, hash: '' }),
              {
                timeout: 5_000,
              },
            )
          ).data,
        );
        if (reply.kind !== 'full') throw new Error(`expected a full reply, got ${reply.kind}`);
        const { version, hash } = reply.snapshot;
        sidecar.publish(
          subjects.status('shop', 'web-1'),
          encodeMessage({ proxy, kind: 'ack', version, hash, at: new Date().toISOString() }),
        );
        const view = await waitFor(
          async () => {
            const { body } = await getJson(`${base}/api/v1/proxies/shop/web-1`);
            return (body['proxy'] as { version?: number } | undefined)?.version === 1 && body;
          },
          { timeoutMs: 10_000, what: 'web-1 to have ACKed version 1' },
        );
        expect(view['configInForce']).toEqual({ version: 1, hash });
        expect(view['proxy']).toMatchObject({ state: 'SYNCED', lastEvent: 'ack' });
        expect(await (await fetch(`${base}/metrics`)).text()).toContain(
          'trellis_control_plane_writer 1\n',
        );
        await sidecar.close();

        const exited = exitCode(proc);
        proc.kill('SIGTERM');
        expect(await exited).toBe(0);
        // The replica is named once per line: the app binds it, the library does not repeat it.
        const writerLine = stdout.split('\n').find((line) => line.includes('is the writer'));
        expect(JSON.parse(writerLine ?? '{}')).toMatchObject({ replica: 'cp-test', writer: true });
        for (const line of stdout.split('\n').filter((l) => l.includes('"replica"')))
          expect(line.match(/"replica":/g)).toHaveLength(1);
        const cp = await connect({
          servers: nats.url,
          user: CONTROL_PLANE_NATS_USER,
          pass: passwords.controlPlanePassword,
        });
        const lease = await (await new Kvm(jetstream(cp)).open('trellis-leader')).get('writer');
        expect(lease?.operation).toBe('DEL');
        await cp.close();
      });
      await nats.stop();
    },
  );
});
