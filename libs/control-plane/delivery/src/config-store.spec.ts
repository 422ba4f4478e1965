import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { KV_CONFIG_BUCKET, KV_CONFIG_KEY } from '@trellis/mesh-protocol';
import { stopAllNatsServers } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { recordingLogger, snapshotOf } from '../testing/fixtures.js';
import { CONTROL_PLANE_PASSWORD, startMeshNats, until } from '../testing/harness.js';
import { ConfigStore, decodeStoredSnapshot, encodeStoredSnapshot } from './config-store.js';
import type { StoredChange } from './config-store.js';
import { checkBucketOptions, openBucket } from './kv-buckets.js';
import { CONTROL_PLANE_NATS_USER } from './nats-users.js';

afterAll(stopAllNatsServers);

let nats: NatsServerHandle;
const connections: NatsConnection[] = [];
const stores: ConfigStore[] = [];

beforeEach(async () => {
  nats = await startMeshNats();
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const nc of connections.splice(0)) await nc.close();
  await nats.stop();
});

interface OpenOptions {
  readonly log?: ReturnType<typeof recordingLogger>;
  readonly wrap?: (kv: KV) => KV;
  /** false: load once and do not follow (a replica whose watch has not delivered yet). */
  readonly follow?: boolean;
}

async function openStore(options: OpenOptions = {}): Promise<ConfigStore> {
  const { log = recordingLogger(), wrap = (kv: KV) => kv, follow = true } = options;
  const nc = await connect({
    servers: nats.url,
    user: CONTROL_PLANE_NATS_USER,
    pass: CONTROL_PLANE_PASSWORD,
  });
  connections.push(nc);
  const kv = await openBucket(jetstream(nc), KV_CONFIG_BUCKET, { history: 2, replicas: 1 });
  const store = new ConfigStore(wrap(kv), { log, pollMs: 60_000 });
  stores.push(store);
  if (follow) await store.start();
  else await store.refresh();
  return store;
}

describe('ConfigStore', () => {
  it('creates the bucket and loads nothing from it', async () => {
    const store = await openStore();
    expect(store.latest).toBeUndefined();
  });

  it('stores versions with compare-and-set and loads the newest in a new process', async () => {
    const store = await openStore();
    const first = await store.write(snapshotOf(['a'], 1));
    const second = await store.write(snapshotOf(['a', 'b'], 2));
    expect([first.kind, second.kind]).toEqual(['written', 'written']);
    expect(store.previous?.version).toBe(1);
    const again = await openStore();
    expect(again.latest?.snapshot).toEqual(snapshotOf(['a', 'b'], 2));
    expect(again.latest?.revision).toBe(2);
  });

  it('reports a conflict when another writer stored first, and re-reads what it stored', async () => {
    const one = await openStore();
    const two = await openStore({ follow: false });
    await one.write(snapshotOf(['a'], 1));
    const lost = await two.write(snapshotOf(['b'], 1));
    expect(lost.kind).toBe('conflict');
    expect(lost.kind === 'conflict' && lost.latest?.snapshot.hash).toBe(snapshotOf(['a']).hash);
    expect(two.latest?.snapshot.version).toBe(1);
  });

  it('refuses to store a version not greater than the stored one', async () => {
    const store = await openStore();
    await store.write(snapshotOf(['a'], 3));
    await expect(store.write(snapshotOf(['b'], 3))).rejects.toMatchObject({
      code: 'TRL_DELIVERY_STALE_WRITE',
    });
    await expect(store.write(snapshotOf(['b'], 2))).rejects.toMatchObject({
      code: 'TRL_DELIVERY_STALE_WRITE',
    });
  });

  it('follows the versions another replica stores, through its watch', async () => {
    const writer = await openStore();
    const follower = await openStore();
    const changes: StoredChange[] = [];
    follower.changes.subscribe((c) => changes.push(c));
    await writer.write(snapshotOf(['a'], 1));
    await writer.write(snapshotOf(['a', 'b'], 2));
    await until('the follower to see version 2', () => follower.latest?.snapshot.version === 2);
    expect(changes.map((c) => [c.latest.snapshot.version, c.previous?.version])).toEqual([
      [1, undefined],
      [2, 1],
    ]);
  });

  it('answers freshLatest from a read made after the call, shared by the calls waiting for it', async () => {
    let gets = 0;
    const counting = (kv: KV): KV =>
      new Proxy(kv, {
        get(target, prop) {
          if (prop === 'get') {
            return (...args: Parameters<KV['get']>) => {
              gets += 1;
              return target.get(...args);
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const writer = await openStore();
    const follower = await openStore({ wrap: counting });
    await writer.write(snapshotOf(['a'], 1));
    gets = 0;
    const answers = await Promise.all(Array.from({ length: 5 }, () => follower.freshLatest()));
    expect(answers.map((a) => a?.snapshot.version)).toEqual([1, 1, 1, 1, 1]);
    expect(gets).toBe(2);
  });

  it('writes the next version over an unreadable stored value', async () => {
    const log = recordingLogger();
    const store = await openStore({ log });
    await store.write(snapshotOf(['a'], 4));
    const nc = connections[0] as NatsConnection;
    const kv = await openBucket(jetstream(nc), KV_CONFIG_BUCKET, { history: 2, replicas: 1 });
    await kv.put(KV_CONFIG_KEY, 'garbage');
    await store.refresh();
    expect(store.latest?.snapshot.version).toBe(4);
    expect(log.lines.map((l) => [l.level, l.fields['revision']])).toEqual([['error', 2]]);
    const next = await store.write(snapshotOf(['b'], 5));
    expect(next.kind).toBe('written');
    expect(store.latest?.snapshot.version).toBe(5);
  });
});

describe('stored snapshot encoding', () => {
  it('round-trips a snapshot', () => {
    const snapshot = snapshotOf(['a', 'b'], 9);
    expect(decodeStoredSnapshot(encodeStoredSnapshot(snapshot))).toEqual(snapshot);
  });

  it('refuses a value that is not a snapshot', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    for (const value of [
      'nope',
      '{"version":0,"hash":"sha256:x","resources":[]}',
      '{"version":1,"hash":"x","resources":[]}',
      '{"version":1,"hash":"sha256:x","resources":[1]}',
    ]) {
      expect(() => decodeStoredSnapshot(bytes(value))).toThrow(
        expect.objectContaining({ code: 'TRL_DELIVERY_STORE_INVALID' }),
      );
    }
  });

  it('refuses KV history outside 1–5 and replicas other than 1, 3, 5', () => {
    expect(() => checkBucketOptions({ history: 6, replicas: 1 })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
    expect(() => checkBucketOptions({ history: 1, replicas: 2 })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
  });
});
