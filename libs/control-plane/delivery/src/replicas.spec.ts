// Several control-plane replicas on one real nats-server: one writer at a time, a handover when
// the writer dies in the middle of a stream of changes, and versions that only go up.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { Snapshot } from '@trellis/config';
import {
  KV_LEADER_BUCKET,
  KV_LEADER_KEY,
  decodeConfigUpdate,
  subjects,
} from '@trellis/mesh-protocol';
import { stopAllNatsServers } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { snapshotOf } from '../testing/fixtures.js';
import {
  CONTROL_PLANE_PASSWORD,
  connectSidecar,
  sidecarCredentials,
  startMeshNats,
  startReplica,
  until,
} from '../testing/harness.js';
import type { Replica } from '../testing/harness.js';
import { CONTROL_PLANE_NATS_USER } from './nats-users.js';

afterAll(stopAllNatsServers);

const LEASE_MS = 1_000;
let nats: NatsServerHandle;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  nats = await startMeshNats();
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await nats.stop();
});

async function replica(replicaId: string): Promise<Replica> {
  const r = await startReplica(nats.url, { replicaId, leaseMs: LEASE_MS });
  cleanup.push(() => r.close());
  return r;
}

async function pushes(r: Replica): Promise<number> {
  const text = await r.delivery.metrics.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('trellis_control_plane_config_pushes_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
}

/** Every update published, as [version, hash], from a sidecar-user subscription. */
async function observeUpdates(): Promise<[number, string][]> {
  const { user, password } = sidecarCredentials('web-2');
  const nc = await connect({ servers: nats.url, user, pass: password });
  cleanup.push(() => nc.close());
  const seen: [number, string][] = [];
  nc.subscribe(subjects.configUpdates, {
    callback: (_err, msg) => {
      const update = decodeConfigUpdate(msg.data);
      seen.push([update.version, update.hash]);
    },
  });
  await nc.flush();
  return seen;
}

describe('control-plane replicas', () => {
  it('lets only the writer store and publish; followers serve the stored version', async () => {
    const a = await replica('cp-a');
    await until('cp-a to write', () => a.delivery.isWriter);
    const b = await replica('cp-b');
    const content = snapshotOf(['catalog', 'pricing']);
    a.delivery.offer(content);
    b.delivery.offer(content);
    await until('cp-b to follow version 1', () => b.delivery.latest?.version === 1);
    const s = await connectSidecar(nats.url, 'web-1');
    cleanup.push(() => s.close());
    // Queue group: either replica may answer, and both answer from the stored version.
    for (let i = 0; i < 4; i++) expect((await s.sync()).kind).toBe(i === 0 ? 'full' : 'current');
    expect(b.delivery.isWriter).toBe(false);
    expect(await pushes(a)).toBe(1);
    expect(await pushes(b)).toBe(0);
    await until(
      'cp-b to see web-1 SYNCED',
      () => b.delivery.tracker.get('shop', 'web-1')?.state === 'SYNCED',
    );
  });

  it('stops storing and publishing at once when its lease is taken, until it holds the lease again', async () => {
    const a = await replica('cp-a');
    await until('cp-a to write', () => a.delivery.isWriter);
    a.delivery.offer(snapshotOf(['catalog']));
    await until('version 1 stored', () => a.delivery.latest?.version === 1);
    const thief = await connect({
      servers: nats.url,
      user: CONTROL_PLANE_NATS_USER,
      pass: CONTROL_PLANE_PASSWORD,
    });
    cleanup.push(() => thief.close());
    const lease = await new Kvm(jetstream(thief)).open(KV_LEADER_BUCKET);
    await lease.put(
      KV_LEADER_KEY,
      JSON.stringify({ holder: 'thief', expiresAt: '2100-01-01T00:00:00.000Z' }),
    );
    await until('cp-a to step down', () => !a.delivery.isWriter);
    a.delivery.offer(snapshotOf(['catalog', 'pricing']));
    // The thief never renews: cp-a takes the lease back a full lease time later, and only then
    // stores and publishes what it was offered meanwhile.
    await until('version 2 stored', () => a.delivery.latest?.version === 2, 3 * LEASE_MS);
    const messages = a.log.lines.map(
      (l) =>
        `${l.message}${l.fields['version'] === undefined ? '' : ` ${String(l.fields['version'])}`}`,
    );
    expect(messages.filter((m) => /writer|follows|stored|published/.test(m)).slice(-6)).toEqual([
      'config version stored 1',
      'config update published 1',
      'this replica follows',
      'this replica is the writer',
      'config version stored 2',
      'config update published 2',
    ]);
  });

  it('hands over within about two lease periods when the writer dies mid-stream; versions only go up', async () => {
    const a = await replica('cp-a');
    await until('cp-a to write', () => a.delivery.isWriter);
    const b = await replica('cp-b');
    const seen = await observeUpdates();
    const s = await connectSidecar(nats.url, 'web-1');
    cleanup.push(() => s.close());

    let n = 0;
    let last: Snapshot | undefined;
    const change = (): void => {
      n += 1;
      last = snapshotOf(Array.from({ length: 1 + (n % 7) }, (_, i) => `svc-${n}-${i}`));
      a.delivery.offer(last);
      b.delivery.offer(last);
    };
    const stream = setInterval(change, 50);
    try {
      await until('cp-a to store 5 versions', () => (a.delivery.latest?.version ?? 0) >= 5);
      expect(await pushes(b)).toBe(0);
      const versionAtKill = a.delivery.latest?.version ?? 0;
      await a.nc.close(); // the writer dies: no renewal, no release
      await until(
        'cp-b to take over within ~2 lease periods',
        () => b.delivery.isWriter,
        2.5 * LEASE_MS,
      );
      expect(a.delivery.isWriter).toBe(false);
      await until(
        'cp-b to store 5 more versions',
        () => (b.delivery.latest?.version ?? 0) >= versionAtKill + 5,
      );
    } finally {
      clearInterval(stream);
    }
    const final = last;
    await until('cp-b to store the last change', () => b.delivery.latest?.hash === final?.hash);
    const finalVersion = b.delivery.latest?.version;
    await until('the sidecar to converge', () => s.current?.hash === final?.hash);
    await until('the last version to be published', () => seen.some(([v]) => v === finalVersion));

    // Each version number stands for one content, and first appearances only go up (a new
    // writer announces the stored version once more, a duplicate sidecars ignore).
    const hashes = new Map<number, Set<string>>();
    for (const [v, h] of seen) hashes.set(v, (hashes.get(v) ?? new Set()).add(h));
    expect([...hashes.values()].filter((set) => set.size > 1)).toEqual([]);
    const firsts = [...hashes.keys()];
    expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
    expect(s.version).toBe(finalVersion);
    await until('cp-b to see web-1 SYNCED on the last version', () => {
      const view = b.delivery.tracker.get('shop', 'web-1');
      return view?.state === 'SYNCED' && view.version === finalVersion;
    });
    expect(b.serverErrors).toEqual([]);
  });
});
