// The bundled trellis-control-plane (dist/apps/control-plane/main.js, built here with
// scripts/build-app.mjs) serves this API when started with --nats: the descriptor is embedded,
// so nothing has to be copied next to the bundle.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, status as grpcStatus } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { connect } from '@nats-io/transport-node';
import {
  CONTROL_PLANE_NATS_USER,
  sidecarNatsUser,
  trellisNatsUsers,
} from '@trellis/control-plane-delivery';
import { decodeSyncReply, encodeMessage, inboxPrefix, subjects } from '@trellis/mesh-protocol';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import {
  getFreePort,
  startNatsServer,
  stopAllNatsServers,
  waitFor,
  withTempDir,
} from '@trellis/testing';
import type { ListProxiesResponse } from './messages.js';
import { controlPlaneService } from './proto.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const bundle = join(root, 'dist/apps/control-plane/main.js');
const passwords = {
  controlPlanePassword: 'cp-pass',
  sidecars: [{ namespace: 'shop', pod: 'web-1', password: 'sc-pass' }],
};
const service = `apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80}]
`;

type Unary = (
  request: object,
  callback: (error: ServiceError | null, value: unknown) => void,
) => void;
let child: ChildProcess | undefined;
let client: Client | undefined;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-app.mjs', 'apps/control-plane'], {
    cwd: root,
    stdio: 'ignore',
  });
}, 60_000);
afterEach(() => {
  client?.close();
  child?.kill('SIGKILL');
  client = child = undefined;
});
afterAll(stopAllNatsServers);

describe('the bundled control plane', () => {
  it('serves the gRPC API with --nats and reports a sidecar', { timeout: 40_000 }, async () => {
    const nats = await startNatsServer({ users: trellisNatsUsers(passwords) });
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'web.yaml'), service);
      const grpcPort = await getFreePort();
      const apiPort = await getFreePort();
      child = spawn(
        process.execPath,
        [
          bundle,
          ...['--source', dir, '--api', `127.0.0.1:${apiPort}`, '--grpc', `127.0.0.1:${grpcPort}`],
          ...['--nats', nats.url, '--nats-user', CONTROL_PLANE_NATS_USER],
        ],
        {
          env: { ...process.env, TRELLIS_NATS_PASSWORD: passwords.controlPlanePassword },
          stdio: 'ignore',
        },
      );
      const Ctor = controlPlaneService();
      client = new Ctor(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
      const c = client as unknown as Record<string, Unary>;
      const call = (method: string, request: object) =>
        new Promise<unknown>((resolve, reject) =>
          c[method]!.call(client, request, (error, value) =>
            error ? reject(error) : resolve(value),
          ),
        );
      const stored = await waitFor(
        async () => {
          const res = (await call('ListProxies', {}).catch(() => undefined)) as
            ListProxiesResponse | undefined;
          return res !== undefined && res.latest_version === 1 && res;
        },
        { timeoutMs: 20_000, what: 'version 1 on the gRPC API' },
      );

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
      expect(reply.snapshot.hash).toBe(stored.latest_hash);
      sidecar.publish(
        subjects.status('shop', 'web-1'),
        encodeMessage({ proxy, kind: 'ack', version: 1, hash: stored.latest_hash, at: '' }),
      );
      await sidecar.flush();
      const config = await waitFor(
        async () => {
          const res = (await call('GetProxyConfig', { namespace: 'shop', pod: 'web-1' }).catch(
            () => undefined,
          )) as { proxy_has_it: boolean } | undefined;
          return res?.proxy_has_it === true && res;
        },
        { timeoutMs: 10_000, what: 'web-1 to hold version 1' },
      );
      expect(config).toMatchObject({ version: 1, proxy_version: 1, proxy_state: 'SYNCED' });
      await expect(
        call('GetProxyConfig', { namespace: 'shop', pod: 'web-9' }),
      ).rejects.toMatchObject({ code: grpcStatus.NOT_FOUND });
      await sidecar.close();

      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child?.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  });
});
