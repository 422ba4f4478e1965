import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '@trellis/config';
import { startControlPlaneApi } from '@trellis/control-plane-api';
import type { ControlPlaneApi, ProxyStatusMessage } from '@trellis/control-plane-api';
import { SyncTracker } from '@trellis/control-plane-delivery';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { ControlPlaneClient } from './control-plane-client.js';

const identity = (pod: string): ProxyIdentity => ({
  namespace: 'shop',
  pod,
  service: 'web',
  role: 'sidecar',
  labels: {},
  startedAt: '2026-01-01T00:00:00.000Z',
});
const snapshot: Snapshot = { version: 3, hash: 'sha256:h3', resources: [] };
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let api: ControlPlaneApi | undefined;
let client: ControlPlaneClient | undefined;
afterEach(async () => {
  client?.close();
  await api?.close();
  api = client = undefined;
});

async function setup(stored: Snapshot | null = snapshot) {
  const tracker = new SyncTracker({ clock: new FakeClock(0) });
  tracker.setLatest(3, 'sha256:h3');
  api = await startControlPlaneApi({
    address: '127.0.0.1:0',
    tracker,
    latest: () => stored ?? undefined,
    log: silent,
    wallClock: () => Date.parse('2026-01-01T00:00:00.000Z'),
  });
  client = new ControlPlaneClient(`127.0.0.1:${api.port}`);
  return { tracker, client };
}

describe('ControlPlaneClient', () => {
  it('lists proxies', async () => {
    const { tracker, client } = await setup();
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    const res = await client.listProxies();
    expect(res.latest_version).toBe(3);
    expect(res.proxies.map((p) => [p.pod, p.state, p.version])).toEqual([['web-1', 'SYNCED', 3]]);
  });

  it('gets the config of a proxy', async () => {
    const { tracker, client } = await setup();
    tracker.announce(identity('web-1'), 2, 'sha256:h2');
    expect(await client.getProxyConfig('shop', 'web-1')).toMatchObject({
      version: 3,
      resources_json: '[]',
      proxy_version: 2,
      proxy_has_it: false,
    });
  });

  it('turns NOT_FOUND into TRL_CLIENT_NOT_FOUND with the server message', async () => {
    const { client } = await setup();
    await expect(client.getProxyConfig('shop', 'nope')).rejects.toMatchObject({
      code: 'TRL_CLIENT_NOT_FOUND',
      message: 'proxy shop/nope is not known to this control plane',
    });
  });

  it("keeps the server's UNAVAILABLE (no config yet) apart from an unreachable server", async () => {
    const { tracker, client } = await setup(null);
    tracker.announce(identity('web-1'), 0, '');
    await expect(client.getProxyConfig('shop', 'web-1')).rejects.toMatchObject({
      code: 'TRL_CLIENT_UNAVAILABLE',
      message: 'no config is stored yet',
    });
  });

  it('validates documents', async () => {
    const { client } = await setup();
    const res = await client.validateDocuments([{ name: 'x.yaml', content: 'kind: [' }]);
    expect(res.ok).toBe(false);
    expect(res.issues[0]?.code).toBe('TRL_CFG_YAML');
  });

  it('watches proxies until the loop stops', async () => {
    const { tracker, client } = await setup();
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    const seen: ProxyStatusMessage[] = [];
    for await (const proxy of client.watchProxies()) {
      seen.push(proxy);
      if (seen.length === 1) tracker.announce(identity('web-2'), 3, 'sha256:h3');
      if (seen.length === 2) break;
    }
    expect(seen.map((p) => p.pod)).toEqual(['web-1', 'web-2']);
  });

  it('says it cannot reach a control plane that is not there', async () => {
    // Bound and released: nothing listens on it.
    const { client: probe } = await setup();
    probe.close();
    const port = api!.port;
    await api!.close();
    api = undefined;
    client = new ControlPlaneClient(`127.0.0.1:${port}`, { timeoutMs: 5_000 });
    const error = await client.listProxies().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRL_CLIENT_UNREACHABLE' });
    expect((error as Error).message).toBe(
      `cannot reach the control plane at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});
