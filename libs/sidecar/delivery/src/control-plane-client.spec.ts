import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { encodeMessage, makeConfigUpdate, subjects } from '@trellis/mesh-protocol';
import type { ProxyStatus } from '@trellis/mesh-protocol';
import { startNatsServer, stopAllNatsServers, waitFor, withTempDir } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeControlPlane, protocolUsers, sidecarUser } from '../testing/fake-control-plane.js';
import { danglingRoute, identity, snapshotV } from '../testing/fixtures.js';
import { advanceSettled, eventually, makeSidecar } from '../testing/harness.js';
import type { TestSidecar } from '../testing/harness.js';
import { SnapshotBuildCache } from './build-cache.js';
import type { ControlPlaneClientOptions } from './control-plane-client.js';
import { PERSISTED_FORMAT, writeSnapshotFile } from './persistence.js';

afterAll(stopAllNatsServers);

/** Pods of the test that shares one build cache among several clients. */
const SHARING_PODS = ['a', 'b', 'c', 'd', 'e'];

let nats: NatsServerHandle;
beforeAll(async () => {
  nats = await startNatsServer({
    users: protocolUsers([identity.pod, ...SHARING_PODS]),
    jetstream: false,
  });
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function controlPlane(): Promise<FakeControlPlane> {
  const cp = await FakeControlPlane.start(nats);
  open.push(cp);
  return cp;
}

async function sidecar(overrides: Partial<ControlPlaneClientOptions> = {}): Promise<TestSidecar> {
  const s = makeSidecar(nats, overrides);
  open.push(s.client);
  await s.client.start();
  return s;
}

const statusLine = (s: ProxyStatus): string =>
  `${s.kind}:${s.version}${s.rejectedVersion === undefined ? '' : `/rejected ${s.rejectedVersion}`}`;

/** Waits until the control plane has seen `n` statuses of `kind`, and returns all of those. */
function statusesOf(cp: FakeControlPlane, kind: ProxyStatus['kind'], n: number): Promise<string[]> {
  return eventually(
    `${n} ${kind} status(es)`,
    () => cp.seen(kind).length >= n && cp.seen(kind).map(statusLine),
  );
}

/** A synced sidecar at version `n`, its ACK seen. */
async function syncedAt(
  cp: FakeControlPlane,
  n: number,
  overrides: Partial<ControlPlaneClientOptions> = {},
): Promise<TestSidecar> {
  cp.latest = snapshotV(n);
  const s = await sidecar(overrides);
  await statusesOf(cp, 'ack', 1);
  return s;
}

describe('ControlPlaneClient: sync and increments', () => {
  it('applies the initial full sync, ACKs it on its own status subject, and persists it', async () => {
    await withTempDir(async (dir) => {
      const cp = await controlPlane();
      const persistPath = join(dir, 'snapshot.json');
      const s = await syncedAt(cp, 1, { persistPath });
      expect(s.version()).toBe(1);
      expect(cp.syncRequests).toEqual([{ proxy: identity, version: 0, hash: '' }]);
      expect(cp.statuses).toEqual([
        {
          subject: 'trellis.v1.status.shop.checkout-7d9f-abcde',
          status: {
            proxy: identity,
            kind: 'ack',
            version: 1,
            hash: snapshotV(1).hash,
            at: '2025-06-01T12:00:00.000Z',
          },
        },
      ]);
      await eventually(
        'the snapshot to be persisted',
        () => s.client.state().counters.persistWrites === 1,
      );
      const file = JSON.parse(await readFile(persistPath, 'utf8'));
      expect(file).toEqual({
        format: PERSISTED_FORMAT,
        savedAt: '2025-06-01T12:00:00.000Z',
        snapshot: JSON.parse(JSON.stringify(snapshotV(1))),
      });
      expect(s.client.state()).toMatchObject({
        connected: true,
        sync: 'idle',
        version: 1,
        hash: snapshotV(1).hash,
        origin: 'sync',
        lastSyncAt: '2025-06-01T12:00:00.000Z',
        lastNack: undefined,
      });
    });
  });

  it('asks on its own sync subject and takes the reply under its own inbox prefix', async () => {
    const cp = await controlPlane();
    const asked: [string, string | undefined][] = [];
    cp.nc.subscribe(subjects.allSync, {
      callback: (_e, m) => void asked.push([m.subject, m.reply]),
    });
    await cp.nc.flush();
    const s = await syncedAt(cp, 1);
    expect(s.version()).toBe(1);
    expect(asked).toHaveLength(1);
    const [subject, reply] = asked[0]!;
    expect(subject).toBe('trellis.v1.sync.shop.checkout-7d9f-abcde');
    expect(reply?.startsWith('_INBOX.shop.checkout-7d9f-abcde.')).toBe(true);
  });

  it('reports connected and confirmedAt as state() does, without building it', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    expect(s.client.connected).toBe(true);
    expect(s.client.confirmedAt).toBe(Date.parse('2025-06-01T12:00:00.000Z'));
    expect(s.client.state()).toMatchObject({
      connected: true,
      confirmedAt: '2025-06-01T12:00:00.000Z',
    });
  });

  it('applies an increment and ACKs it', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    await cp.publish(snapshotV(2));
    expect(await statusesOf(cp, 'ack', 2)).toEqual(['ack:1', 'ack:2']);
    expect(s.holder.current?.snapshot.hash).toBe(snapshotV(2).hash);
    expect(s.client.state().counters).toMatchObject({
      updatesReceived: 1,
      updatesApplied: 1,
      syncRequests: 1,
    });
  });

  it('NACKs an invalid increment with its issues and keeps the last good config', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    await cp.publishUpdate({
      ...makeConfigUpdate(snapshotV(1), snapshotV(2), new Date()),
      added: [danglingRoute()],
    });
    expect(await statusesOf(cp, 'nack', 1)).toEqual(['nack:1/rejected 2']);
    expect(cp.seen('nack')[0]?.issues?.map((i) => `${i.code} ${i.path}`)).toEqual([
      'TRL_CFG_REFERENCE spec.destinations[0].service',
    ]);
    expect(s.version()).toBe(1);
    expect(s.client.state().lastNack).toMatchObject({
      version: 2,
      issues: cp.seen('nack')[0]?.issues,
    });
  });

  it('on a gap sends a sync request and applies the full snapshot', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    cp.latest = snapshotV(2); // version 2 is "published" while this sidecar does not hear it
    await cp.publish(snapshotV(3));
    expect(await statusesOf(cp, 'ack', 2)).toEqual(['ack:1', 'ack:3']);
    expect(cp.syncRequests.map((r) => r.version)).toEqual([0, 1]);
    expect(s.client.state().counters).toMatchObject({
      gaps: 1,
      resyncs: 1,
      fullSyncs: 2,
      updatesStale: 1,
    });
  });

  it('on a hash mismatch resyncs', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    cp.latest = snapshotV(2);
    await cp.publishUpdate({
      ...makeConfigUpdate(snapshotV(1), snapshotV(2), new Date()),
      hash: 'sha256:bogus',
    });
    expect(await statusesOf(cp, 'ack', 2)).toEqual(['ack:1', 'ack:2']);
    expect(s.holder.current?.snapshot.hash).toBe(snapshotV(2).hash);
    expect(s.client.state().counters).toMatchObject({ hashMismatches: 1, syncRequests: 2 });
  });

  it('ignores a duplicate and an older update', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    const update = await cp.publish(snapshotV(2));
    await cp.publishUpdate(update);
    await cp.publishUpdate(makeConfigUpdate(snapshotV(1), snapshotV(2), new Date(0)));
    await cp.publish(snapshotV(3));
    expect(await statusesOf(cp, 'ack', 3)).toEqual(['ack:1', 'ack:2', 'ack:3']);
    expect(s.client.state().counters).toMatchObject({
      updatesReceived: 4,
      updatesApplied: 2,
      updatesStale: 2,
    });
    expect(cp.syncRequests).toHaveLength(1);
  });

  it('ignores and counts malformed, mis-shaped and oversized updates, logging their codes', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1, { maxMessageBytes: 4096 });
    await cp.publishRaw(new TextEncoder().encode('{"version": 2, "base'));
    await cp.publishRaw(new TextEncoder().encode('{"version": "two"}'));
    const big = {
      ...makeConfigUpdate(snapshotV(1), snapshotV(2), new Date()),
      publishedAt: 'x'.repeat(5000),
    };
    await cp.publishRaw(encodeMessage(big));
    await eventually('3 bad messages', () => s.client.state().counters.badMessages === 3);
    expect(
      s.log.lines
        .filter((l) => l.message === 'ignored a bad config update')
        .map((l) => l.fields.code),
    ).toEqual(['TRL_PROTO_MALFORMED', 'TRL_PROTO_INVALID', 'TRL_PROTO_TOO_LARGE']);
    expect(s.version()).toBe(1);
    await cp.publish(snapshotV(2));
    expect(await statusesOf(cp, 'ack', 2)).toEqual(['ack:1', 'ack:2']);
    expect(s.client.state().counters.updatesReceived).toBe(1);
  });

  it('holds back updates published during an in-flight sync and applies them after it, in order', async () => {
    const cp = await controlPlane();
    cp.mode = 'hold';
    cp.latest = snapshotV(1);
    const s = await sidecar();
    await eventually('the sync request', () => cp.heldRequests === 1);
    await cp.publish(snapshotV(2));
    await cp.publish(snapshotV(3));
    await eventually('2 queued updates', () => s.client.state().counters.updatesQueued === 2);
    expect(s.version()).toBe(0);
    cp.latest = snapshotV(1); // the replica answering is one behind the updates
    cp.release();
    expect(await statusesOf(cp, 'ack', 3)).toEqual(['ack:1', 'ack:2', 'ack:3']);
    expect(s.client.state()).toMatchObject({ version: 3, sync: 'idle', queuedUpdates: 0 });
  });

  it('lets clients in one process share one build of each snapshot and update', async () => {
    const cp = await controlPlane();
    cp.latest = snapshotV(1);
    const cache = new SnapshotBuildCache();
    const sidecars = await Promise.all(
      SHARING_PODS.map((pod) => sidecar({ cache, identity: { ...identity, pod } })),
    );
    await statusesOf(cp, 'ack', 5);
    await cp.publish(snapshotV(2));
    await statusesOf(cp, 'ack', 10);
    expect(sidecars.map((s) => s.version())).toEqual([2, 2, 2, 2, 2]);
    expect(new Set(sidecars.map((s) => s.holder.current?.snapshot)).size).toBe(1);
    // One full build, one update decode and one update build, each reused by the 4 others.
    expect(cache.stats).toEqual({ hits: 12, misses: 3, size: 2 });
  });
});

describe('ControlPlaneClient: an unresponsive control plane', () => {
  it('retries with bounded, growing delays when nobody answers, and keeps serving', async () => {
    const s = await sidecar();
    await eventually('the first sync attempt to fail', () => s.client.state().sync === 'backoff');
    await advanceSettled(s, 60_000);
    // 1 + retries due at 187.5, 562.5, 1312.5, 2812.5, 5812.5, 11812.5, then every 7.5 s (jitter at mid).
    expect(s.client.state().counters).toMatchObject({ syncRequests: 13, syncFailures: 13 });
    expect(s.client.state().connected).toBe(true);
  });

  it('keeps asking while the control plane is unavailable, then applies its first config', async () => {
    const cp = await controlPlane();
    const s = await sidecar();
    await eventually('the first sync attempt to fail', () => s.client.state().sync === 'backoff');
    await advanceSettled(s, 30_000);
    expect(cp.syncRequests).toHaveLength(9);
    expect(s.version()).toBe(0);
    cp.latest = snapshotV(1);
    await advanceSettled(s, 7_500);
    expect(await statusesOf(cp, 'ack', 1)).toEqual(['ack:1']);
    expect(cp.syncRequests).toHaveLength(10);
  });
});

describe('ControlPlaneClient: NATS refusing it', () => {
  it('with a wrong password, starts anyway and keeps retrying with backoff', async () => {
    const s = await sidecar({ password: 'wrong' });
    await eventually('a refused connection', () =>
      s.log.lines.some((l) => l.fields.code === 'TRL_DELIVERY_CONNECT_FAILED'),
    );
    expect(s.client.state()).toMatchObject({ connected: false, sync: 'idle', version: 0 });
    expect(s.client.connected).toBe(false);
    expect(s.client.confirmedAt).toBeUndefined();
    s.clock.advance(187.5);
    await eventually(
      'a second refused connection',
      () => s.log.lines.filter((l) => l.fields.code === 'TRL_DELIVERY_CONNECT_FAILED').length === 2,
    );
    expect(
      s.log.lines.find((l) => l.fields.code === 'TRL_DELIVERY_CONNECT_FAILED')?.fields,
    ).toMatchObject({
      attempt: 1,
      retryInMs: 188,
    });
  });
});

describe('ControlPlaneClient: persisted snapshot', () => {
  it.each([
    ['truncated', (text: string) => text.slice(0, 40), /^not JSON \(truncated or corrupt\)/],
    ['schema-invalid', () => null, /^invalid snapshot 1: refers to unknown service "ghost"/],
    [
      'tampered',
      (text: string) => text.replace('"s1"', '"s9"'),
      /^invalid snapshot 1: snapshot 1 hashes to /,
    ],
  ])('ignores a %s file with one log line, and syncs as usual', async (_name, mangle, reason) => {
    await withTempDir(async (dir) => {
      const persistPath = join(dir, 'snapshot.json');
      await writeSnapshotFile(persistPath, snapshotV(1), new Date());
      const text = await readFile(persistPath, 'utf8');
      const mangled = mangle(text);
      if (mangled === null) {
        const file = JSON.parse(text);
        file.snapshot.resources.push(danglingRoute());
        await writeFile(persistPath, JSON.stringify(file));
      } else {
        await writeFile(persistPath, mangled);
      }
      const cp = await controlPlane();
      cp.latest = snapshotV(2);
      const s = await sidecar({ persistPath });
      const ignored = s.log.lines.filter((l) => l.fields.code === 'TRL_DELIVERY_PERSISTED_INVALID');
      expect(ignored).toHaveLength(1);
      expect(ignored[0]?.fields.path).toBe(persistPath);
      expect(ignored[0]?.fields.reason).toMatch(reason);
      expect(s.version()).toBe(0);
      expect(await statusesOf(cp, 'ack', 1)).toEqual(['ack:2']);
      await eventually(
        'the snapshot to be persisted',
        () => s.client.state().counters.persistWrites === 1,
      );
      expect(JSON.parse(await readFile(persistPath, 'utf8')).snapshot.version).toBe(2);
    });
  });

  it('starts from a valid persisted file and asks with its version', async () => {
    await withTempDir(async (dir) => {
      const persistPath = join(dir, 'snapshot.json');
      await writeSnapshotFile(persistPath, snapshotV(2), new Date());
      const cp = await controlPlane();
      cp.latest = snapshotV(2);
      const s = await sidecar({ persistPath });
      expect(s.version()).toBe(2);
      expect(s.client.state().origin).toBe('persisted');
      expect(await statusesOf(cp, 'ack', 1)).toEqual(['ack:2']);
      expect(cp.syncRequests.map((r) => [r.version, r.hash])).toEqual([[2, snapshotV(2).hash]]);
    });
  });
});

describe('ControlPlaneClient: heartbeats and goodbye', () => {
  it('publishes a heartbeat every interval with the version in force', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    s.clock.advance(9_999);
    s.clock.advance(1);
    expect(await statusesOf(cp, 'heartbeat', 1)).toEqual(['heartbeat:1']);
    s.clock.advance(20_000);
    expect(await statusesOf(cp, 'heartbeat', 3)).toEqual([
      'heartbeat:1',
      'heartbeat:1',
      'heartbeat:1',
    ]);
    expect(cp.seen('heartbeat').map((h) => h.at)).toEqual([
      '2025-06-01T12:00:10.000Z',
      '2025-06-01T12:00:20.000Z',
      '2025-06-01T12:00:30.000Z',
    ]);
  });

  it('says goodbye on close, drains, and stops its timers', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    await s.client.close();
    expect(await statusesOf(cp, 'goodbye', 1)).toEqual(['goodbye:1']);
    expect(s.client.state().connected).toBe(false);
    expect(s.clock.pendingTimers).toBe(0);
    await s.client.close();
    expect(cp.seen('goodbye')).toHaveLength(1);
  });

  it('cannot publish config updates: the sidecar user lacks the permission', async () => {
    const cp = await controlPlane();
    const s = await syncedAt(cp, 1);
    const { user, password } = nats.users[sidecarUser(identity.pod)]!;
    const nc = await connect({ servers: nats.url, user, pass: password });
    try {
      nc.publish(
        subjects.configUpdates,
        encodeMessage(makeConfigUpdate(snapshotV(1), snapshotV(2), new Date())),
      );
      await nc.flush();
      await cp.publish(snapshotV(3)); // a marker after the forged update
      await waitFor(() => s.client.state().counters.updatesReceived === 1, {
        what: 'the marker',
        timeoutMs: 5_000,
      });
      expect(s.client.state().counters.updatesReceived).toBe(1);
    } finally {
      await nc.close();
    }
  });
});

describe('ControlPlaneClient: telemetry', () => {
  it('publishes a summary on its own telemetry subject while connected', async () => {
    const cp = await controlPlane();
    const seen: string[] = [];
    cp.nc.subscribe(subjects.allTelemetry, {
      callback: (_e, m) => void seen.push(`${m.subject} ${m.string()}`),
    });
    await cp.nc.flush();
    const s = await syncedAt(cp, 1);
    expect(s.client.publishTelemetry(new TextEncoder().encode('{"v":1}'))).toBe(true);
    await eventually('the summary', () => seen.length === 1);
    expect(seen).toEqual([`${subjects.telemetry(identity.namespace, identity.pod)} {"v":1}`]);
  });

  it('skips a summary before it is connected', () => {
    const s = makeSidecar(nats);
    expect(s.client.publishTelemetry(new Uint8Array([123, 125]))).toBe(false);
  });
});
