import { afterEach, describe, expect, it } from 'vitest';
import { credentials, status as grpcStatus } from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { Snapshot } from '@trellis/config';
import { SyncTracker } from '@trellis/control-plane-delivery';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import type { ProxyStatusMessage } from './messages.js';
import { controlPlaneService } from './proto.js';
import { startControlPlaneApi } from './server.js';
import type { ControlPlaneApi } from './server.js';

const WALL = Date.parse('2026-01-01T00:00:10.000Z');
const identity = (pod: string, namespace = 'shop'): ProxyIdentity => ({
  namespace,
  pod,
  service: 'web',
  role: 'sidecar',
  labels: {},
  startedAt: '2026-01-01T00:00:00.000Z',
});
const snapshot: Snapshot = {
  version: 3,
  hash: 'sha256:h3',
  resources: [
    {
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { ports: [{ port: 80 }] },
    } as unknown as Snapshot['resources'][number],
  ],
};
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

type Unary = (
  request: object,
  callback: (error: ServiceError | null, value: unknown) => void,
) => void;
let api: ControlPlaneApi | undefined;
let client: Client | undefined;
afterEach(async () => {
  client?.close();
  await api?.close();
  api = client = undefined;
});

/** `null`: no config stored. */
async function setup(stored: Snapshot | null = snapshot) {
  const clock = new FakeClock(1_000);
  const tracker = new SyncTracker({ clock, staleAfterMs: 5_000, heartbeatMs: 10_000 });
  const latest = stored ?? undefined;
  api = await startControlPlaneApi({
    address: '127.0.0.1:0',
    tracker,
    latest: () => latest,
    log: silent,
    wallClock: () => WALL + clock.now() - 1_000,
  });
  const Ctor = controlPlaneService();
  client = new Ctor(`127.0.0.1:${api.port}`, credentials.createInsecure());
  const c = client as unknown as Record<string, Unary>;
  const call = (method: string, request: object) =>
    new Promise<unknown>((resolve, reject) =>
      c[method]!.call(client, request, (error, value) => (error ? reject(error) : resolve(value))),
    );
  const watch = () =>
    (
      client as unknown as { WatchProxies(r: object): ClientReadableStream<ProxyStatusMessage> }
    ).WatchProxies({});
  return { clock, tracker, call, watch };
}

function nextMessages(stream: ClientReadableStream<ProxyStatusMessage>, n: number) {
  return new Promise<ProxyStatusMessage[]>((resolve) => {
    const got: ProxyStatusMessage[] = [];
    const onData = (m: ProxyStatusMessage) => {
      got.push(m);
      if (got.length === n) {
        stream.off('data', onData);
        resolve(got);
      }
    };
    stream.on('data', onData);
  });
}

describe('ListProxies', () => {
  it('lists every proxy with its state, version, last seen and ACK latency', async () => {
    const { clock, tracker, call } = await setup();
    tracker.setLatest(3, 'sha256:h3');
    clock.advance(40);
    tracker.status({
      proxy: identity('web-1'),
      kind: 'ack',
      version: 3,
      hash: 'sha256:h3',
      at: '',
    });
    clock.advance(2_000);
    expect(await call('ListProxies', {})).toEqual({
      proxies: [
        {
          namespace: 'shop',
          pod: 'web-1',
          service: 'web',
          role: 'sidecar',
          state: 'SYNCED',
          version: 3,
          hash: 'sha256:h3',
          last_seen: '2026-01-01T00:00:10.040Z',
          nack_version: 0,
          nack_issues: [],
          push_to_ack_ms: 40,
          removed: false,
        },
      ],
      latest_version: 3,
      latest_hash: 'sha256:h3',
    });
  });

  it('reports a NACK with its version and issues', async () => {
    const { tracker, call } = await setup();
    tracker.setLatest(3, 'sha256:h3');
    tracker.status({
      proxy: identity('web-1'),
      kind: 'nack',
      version: 2,
      hash: 'sha256:h2',
      at: '',
      rejectedVersion: 3,
      issues: [{ severity: 'error', code: 'TRL_X', path: 'spec.a', message: 'bad' }],
    });
    const res = (await call('ListProxies', {})) as { proxies: ProxyStatusMessage[] };
    expect(res.proxies[0]).toMatchObject({
      state: 'NACKED',
      version: 2,
      nack_version: 3,
      nack_issues: [
        {
          severity: 'error',
          code: 'TRL_X',
          document: '',
          path: 'spec.a',
          message: 'bad',
          file: '',
          line: 0,
          column: 0,
          text: 'spec.a: bad',
        },
      ],
    });
    expect(res.proxies[0]).not.toHaveProperty('push_to_ack_ms');
  });

  it('filters by namespace', async () => {
    const { tracker, call } = await setup();
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    tracker.announce(identity('api-1', 'billing'), 3, 'sha256:h3');
    const res = (await call('ListProxies', { namespace: 'billing' })) as {
      proxies: ProxyStatusMessage[];
    };
    expect(res.proxies.map((p) => `${p.namespace}/${p.pod}`)).toEqual(['billing/api-1']);
  });

  it('answers with version 0 and no proxies before any config is stored', async () => {
    const { call } = await setup(null);
    expect(await call('ListProxies', {})).toEqual({
      proxies: [],
      latest_version: 0,
      latest_hash: '',
    });
  });
});

describe('GetProxyConfig', () => {
  it('returns the stored snapshot and that the proxy holds it', async () => {
    const { tracker, call } = await setup();
    tracker.setLatest(3, 'sha256:h3');
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    expect(await call('GetProxyConfig', { namespace: 'shop', pod: 'web-1' })).toEqual({
      version: 3,
      hash: 'sha256:h3',
      resources_json: JSON.stringify(snapshot.resources),
      proxy_version: 3,
      proxy_hash: 'sha256:h3',
      proxy_has_it: true,
      proxy_state: 'SYNCED',
    });
  });

  it('says which version a proxy behind holds', async () => {
    const { tracker, call } = await setup();
    tracker.setLatest(3, 'sha256:h3');
    tracker.announce(identity('web-1'), 2, 'sha256:h2');
    expect(await call('GetProxyConfig', { namespace: 'shop', pod: 'web-1' })).toMatchObject({
      version: 3,
      proxy_version: 2,
      proxy_hash: 'sha256:h2',
      proxy_has_it: false,
    });
  });

  it('is NOT_FOUND for an unknown proxy', async () => {
    const { call } = await setup();
    await expect(call('GetProxyConfig', { namespace: 'shop', pod: 'nope' })).rejects.toMatchObject({
      code: grpcStatus.NOT_FOUND,
      details: 'proxy shop/nope is not known to this control plane',
    });
  });

  it('is INVALID_ARGUMENT without a pod', async () => {
    const { call } = await setup();
    await expect(call('GetProxyConfig', { namespace: 'shop' })).rejects.toMatchObject({
      code: grpcStatus.INVALID_ARGUMENT,
      details: 'namespace and pod are both required',
    });
  });

  it('is UNAVAILABLE before any config is stored', async () => {
    const { tracker, call } = await setup(null);
    tracker.announce(identity('web-1'), 0, '');
    await expect(call('GetProxyConfig', { namespace: 'shop', pod: 'web-1' })).rejects.toMatchObject(
      { code: grpcStatus.UNAVAILABLE, details: 'no config is stored yet' },
    );
  });
});

describe('ValidateDocuments', () => {
  const service =
    'apiVersion: trellis.dev/v1alpha1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80}]\n';

  it('accepts valid documents', async () => {
    const { call } = await setup();
    expect(
      await call('ValidateDocuments', { files: [{ name: 'a.yaml', content: service }] }),
    ).toEqual({ ok: true, documents: 1, issues: [] });
  });

  it('reports YAML errors with file, line and column', async () => {
    const { call } = await setup();
    const res = (await call('ValidateDocuments', {
      files: [{ name: 'bad.yaml', content: 'kind: [' }],
    })) as { ok: boolean; issues: { code: string; file: string; line: number }[] };
    expect(res.ok).toBe(false);
    expect(res.issues[0]).toMatchObject({ code: 'TRL_CFG_YAML', file: 'bad.yaml', line: 1 });
  });

  it('is INVALID_ARGUMENT without files or with a file given twice', async () => {
    const { call } = await setup();
    await expect(call('ValidateDocuments', { files: [] })).rejects.toMatchObject({
      code: grpcStatus.INVALID_ARGUMENT,
      details: 'give at least one file',
    });
    const twice = [
      { name: 'a.yaml', content: service },
      { name: 'a.yaml', content: service },
    ];
    await expect(call('ValidateDocuments', { files: twice })).rejects.toMatchObject({
      code: grpcStatus.INVALID_ARGUMENT,
      details: 'file name "a.yaml" is given twice',
    });
  });
});

describe('WatchProxies', () => {
  it('streams the current proxies, then each change, then removals', async () => {
    const { clock, tracker, watch } = await setup();
    tracker.setLatest(3, 'sha256:h3');
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    const stream = watch();
    const first = await nextMessages(stream, 1);
    expect(first.map((m) => [m.pod, m.state, m.removed])).toEqual([['web-1', 'SYNCED', false]]);
    const changes = nextMessages(stream, 5);
    tracker.status({
      proxy: identity('web-1'),
      kind: 'goodbye',
      version: 3,
      hash: 'sha256:h3',
      at: '',
    });
    tracker.announce(identity('web-2'), 2, 'sha256:h2');
    clock.advance(15 * 60_000);
    expect((await changes).map((m) => [m.pod, m.state, m.removed])).toEqual([
      ['web-1', 'DISCONNECTED', false],
      ['web-2', 'SYNCED', false],
      ['web-2', 'STALE', false],
      ['web-2', 'DISCONNECTED', false],
      ['web-1', 'DISCONNECTED', true],
    ]);
    stream.on('error', () => {}); // the cancellation itself
    stream.cancel();
  });

  it('ends the stream when the tracker closes', async () => {
    const { tracker, watch } = await setup();
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    const stream = watch();
    // The first message shows the server has subscribed to the tracker.
    await nextMessages(stream, 1);
    stream.on('data', () => {});
    const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
    tracker.close();
    await ended;
  });
});

describe('startControlPlaneApi', () => {
  it('answers INTERNAL and logs when a call fails unexpectedly', async () => {
    const logged: object[] = [];
    const tracker = new SyncTracker({ clock: new FakeClock(0) });
    api = await startControlPlaneApi({
      address: '127.0.0.1:0',
      tracker,
      latest: () => {
        throw new Error('store gone');
      },
      log: { ...silent, error: (fields) => logged.push(fields) },
    });
    const Ctor = controlPlaneService();
    client = new Ctor(`127.0.0.1:${api.port}`, credentials.createInsecure());
    const list = (client as unknown as Record<string, Unary>)['ListProxies']!;
    const error = await new Promise((resolve) => list.call(client, {}, (e) => resolve(e)));
    expect(error).toMatchObject({
      code: grpcStatus.INTERNAL,
      details: 'ListProxies failed: store gone',
    });
    expect(logged).toMatchObject([{ method: 'ListProxies' }]);
  });

  it('ends open watches on close', async () => {
    const { tracker, watch } = await setup();
    tracker.announce(identity('web-1'), 3, 'sha256:h3');
    const stream = watch();
    await nextMessages(stream, 1);
    stream.on('data', () => {});
    const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
    await api!.close();
    await ended;
  });

  it('rejects with TRL_API_LISTEN on a bad address', async () => {
    const tracker = new SyncTracker({ clock: new FakeClock(0) });
    await expect(
      startControlPlaneApi({
        address: 'nonsense:99999',
        tracker,
        latest: () => undefined,
        log: silent,
      }),
    ).rejects.toMatchObject({ code: 'TRL_API_LISTEN' });
  });
});
