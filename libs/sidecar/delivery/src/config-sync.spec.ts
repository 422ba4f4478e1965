import type { Snapshot } from '@trellis/config';
import { ProtocolError, makeConfigUpdate } from '@trellis/mesh-protocol';
import type { ConfigUpdate, ProxyStatus, SyncReply, SyncRequest } from '@trellis/mesh-protocol';
import { ConfigHolder } from '@trellis/sidecar-runtime';
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import {
  danglingRoute,
  identity,
  midRandom,
  recordingLogger,
  snapshotV,
} from '../testing/fixtures.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { SnapshotBuildCache } from './build-cache.js';
import { ConfigSync } from './config-sync.js';
import type { ConfigOrigin } from './config-sync.js';
import { zeroCounters } from './counters.js';

const at = new Date('2025-01-01T00:00:00Z');
const WALL = Date.parse('2025-06-01T12:00:00.000Z');

interface PendingRequest {
  readonly request: SyncRequest;
  reply(reply: SyncReply): Promise<void>;
  fail(error: Error): Promise<void>;
}

/** Lets every promise continuation queued so far run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function harness(
  options: {
    initial?: Snapshot;
    maxQueuedUpdates?: number;
    apply?: (s: Snapshot) => never;
    afterPendingIo?: (fn: () => void) => void;
  } = {},
) {
  const clock = new FakeClock();
  const log = recordingLogger();
  const counters = zeroCounters();
  const holder = new ConfigHolder((s: Snapshot) => s.version);
  if (options.initial) holder.apply(options.initial);
  const requests: PendingRequest[] = [];
  const statuses: ProxyStatus[] = [];
  const accepted: [number, ConfigOrigin][] = [];
  const sync = new ConfigSync({
    identity,
    apply: options.apply ?? ((s) => holder.apply(s)),
    initial: options.initial,
    transport: {
      request: (request) =>
        new Promise<SyncReply>((resolve, reject) => {
          requests.push({
            request,
            reply: async (reply) => {
              resolve(reply);
              await settle();
            },
            fail: async (error) => {
              reject(error);
              await settle();
            },
          });
        }),
      publishStatus: (status) => statuses.push(status),
    },
    clock,
    wallClock: () => WALL,
    random: midRandom,
    backoff: DEFAULT_BACKOFF,
    log,
    cache: new SnapshotBuildCache(),
    counters,
    maxQueuedUpdates: options.maxQueuedUpdates ?? 64,
    afterPendingIo: options.afterPendingIo,
    onAccepted: (s, origin) => accepted.push([s.version, origin]),
  });
  const last = (): PendingRequest => {
    const request = requests.at(-1);
    if (!request) throw new Error('no sync request was sent');
    return request;
  };
  const summary = (): string[] =>
    statuses.map(
      (s) =>
        `${s.kind}:${s.version}${s.rejectedVersion === undefined ? '' : `/rejected ${s.rejectedVersion}`}`,
    );
  return { clock, log, counters, holder, requests, statuses, accepted, sync, last, summary };
}

const full = (s: Snapshot): SyncReply => ({
  kind: 'full',
  snapshot: { version: s.version, hash: s.hash, resources: s.resources },
});
const update = (from: number, to: number): ConfigUpdate =>
  makeConfigUpdate(snapshotV(from), snapshotV(to), at);

/** A harness already synced to version `n`. */
async function syncedTo(n: number) {
  const h = harness();
  h.sync.requestSync('connect');
  await h.last().reply(full(snapshotV(n)));
  h.statuses.length = 0;
  return h;
}

describe('ConfigSync: state of the world', () => {
  it('announces the version in force (none yet) and applies the full snapshot, then ACKs it', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    expect(h.requests.map((r) => r.request)).toEqual([{ proxy: identity, version: 0, hash: '' }]);
    expect(h.sync.phase).toBe('requesting');
    await h.last().reply(full(snapshotV(1)));
    expect(h.holder.current?.snapshot.version).toBe(1);
    expect(h.statuses).toEqual([
      {
        proxy: identity,
        kind: 'ack',
        version: 1,
        hash: snapshotV(1).hash,
        at: '2025-06-01T12:00:00.000Z',
      },
    ]);
    expect(h.accepted).toEqual([[1, 'sync']]);
    expect(h.sync.phase).toBe('idle');
    expect(h.sync.origin).toBe('sync');
    expect(h.sync.lastSyncAt).toBe(WALL);
  });

  it('asks with the version and hash in force when it has one', () => {
    const h = harness({ initial: snapshotV(4) });
    h.sync.requestSync('connect');
    expect(h.last().request).toEqual({ proxy: identity, version: 4, hash: snapshotV(4).hash });
    expect(h.sync.origin).toBe('initial');
  });

  it('on "current" applies nothing and ACKs the version in force', async () => {
    const h = harness({ initial: snapshotV(2) });
    h.sync.requestSync('connect');
    await h.last().reply({ kind: 'current', version: 2, hash: snapshotV(2).hash });
    expect(h.summary()).toEqual(['ack:2']);
    expect(h.accepted).toEqual([]);
    expect(h.sync.phase).toBe('idle');
  });

  it('ACKs a full snapshot of exactly the version in force without applying it again', async () => {
    const h = harness({ initial: snapshotV(2) });
    h.sync.requestSync('connect');
    await h.last().reply(full(snapshotV(2)));
    expect(h.summary()).toEqual(['ack:2']);
    expect(h.accepted).toEqual([]);
  });

  it('keeps the version in force when offered an older snapshot, and logs it', async () => {
    const h = harness({ initial: snapshotV(3) });
    h.sync.requestSync('connect');
    await h.last().reply(full(snapshotV(2)));
    expect(h.holder.current?.snapshot.version).toBe(3);
    expect(h.statuses).toEqual([]);
    expect(h.log.lines.map((l) => l.fields.code)).toEqual(['TRL_DELIVERY_OLDER_SNAPSHOT']);
  });

  it('NACKs an invalid full snapshot with its issues and keeps the last good one', async () => {
    const h = await syncedTo(1);
    h.sync.requestSync('reconnect');
    await h.last().reply({
      kind: 'full',
      snapshot: { version: 2, hash: 'sha256:00', resources: [danglingRoute()] },
    });
    expect(h.holder.current?.snapshot.version).toBe(1);
    expect(h.statuses).toHaveLength(1);
    expect(h.statuses[0]).toMatchObject({ kind: 'nack', version: 1, rejectedVersion: 2 });
    expect(h.statuses[0]?.issues?.map((i) => i.code)).toEqual(['TRL_CFG_REFERENCE']);
    expect(h.sync.lastNack).toEqual({
      version: 2,
      issues: h.statuses[0]?.issues,
      at: '2025-06-01T12:00:00.000Z',
    });
  });

  it('NACKs a full snapshot whose content does not match its hash', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    const v1 = snapshotV(1);
    await h.last().reply({
      kind: 'full',
      snapshot: { version: 1, hash: 'sha256:bad', resources: v1.resources },
    });
    expect(h.statuses[0]?.issues?.map((i) => i.code)).toEqual(['TRL_DELIVERY_HASH_MISMATCH']);
    expect(h.holder.current).toBeUndefined();
  });

  it('NACKs what the holder refuses, with the holder issues', async () => {
    const h = harness({
      apply: () => {
        throw new Error('runtime build exploded');
      },
    });
    h.sync.requestSync('connect');
    await h.last().reply(full(snapshotV(1)));
    expect(h.statuses).toEqual([
      {
        proxy: identity,
        kind: 'nack',
        version: 0,
        hash: '',
        rejectedVersion: 1,
        issues: [
          {
            severity: 'error',
            code: 'TRL_DELIVERY_APPLY_FAILED',
            message: 'runtime build exploded',
          },
        ],
        at: '2025-06-01T12:00:00.000Z',
      },
    ]);
    expect(h.sync.inForce).toBeUndefined();
  });
});

describe('ConfigSync: retries', () => {
  it('retries a failed request after jittered, growing, bounded delays', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    const sentAt: number[] = [h.clock.now()];
    for (let i = 0; i < 8; i++) {
      await h.last().fail(new Error('no responders'));
      expect(h.sync.phase).toBe('backoff');
      const before = h.requests.length;
      while (h.requests.length === before) h.clock.advance(0.5);
      sentAt.push(h.clock.now());
    }
    const gaps = sentAt.slice(1).map((t, i) => t - (sentAt[i] ?? 0));
    expect(gaps).toEqual([187.5, 375, 750, 1500, 3000, 6000, 7500, 7500]);
    expect(h.counters.syncFailures).toBe(8);
    expect(h.log.lines.filter((l) => l.fields.code === 'TRL_DELIVERY_SYNC_FAILED')).toHaveLength(8);
  });

  it.each([
    ['unavailable', { kind: 'unavailable', reason: 'compiling' } as SyncReply],
    ['error', { kind: 'error', code: 'TRL_X', message: 'no' } as SyncReply],
  ])('treats an "%s" reply as a failure: keeps what it has and retries', async (_kind, reply) => {
    const h = harness({ initial: snapshotV(1) });
    h.sync.requestSync('connect');
    await h.last().reply(reply);
    expect(h.sync.phase).toBe('backoff');
    expect(h.holder.current?.snapshot.version).toBe(1);
    h.clock.advance(187.5);
    expect(h.requests).toHaveLength(2);
  });

  it('counts a bad sync reply as a bad message and retries', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    await h.last().fail(new ProtocolError('TRL_PROTO_MALFORMED', 'sync reply: not JSON'));
    expect(h.counters.badMessages).toBe(1);
    expect(h.log.lines[0]?.fields.code).toBe('TRL_PROTO_MALFORMED');
    expect(h.sync.phase).toBe('backoff');
  });

  it('starts the backoff over after a sync succeeds', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    await h.last().fail(new Error('timeout'));
    h.clock.advance(187.5);
    await h.last().fail(new Error('timeout'));
    h.clock.advance(375);
    await h.last().reply(full(snapshotV(1)));
    h.sync.requestSync('reconnect');
    await h.last().fail(new Error('timeout'));
    h.clock.advance(187.4);
    expect(h.requests).toHaveLength(4);
    h.clock.advance(0.1);
    expect(h.requests).toHaveLength(5);
  });

  it('on a reconnect while waiting to retry, asks at once', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    await h.last().fail(new Error('disconnected'));
    h.sync.requestSync('reconnect');
    expect(h.requests).toHaveLength(2);
    h.clock.advance(10_000);
    expect(h.requests).toHaveLength(2);
  });

  it('on a reconnect while a request is in flight, asks once more after it', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    h.sync.requestSync('reconnect');
    h.sync.requestSync('reconnect');
    expect(h.requests).toHaveLength(1);
    await h.last().reply(full(snapshotV(1)));
    expect(h.sync.phase).toBe('backoff');
    h.clock.advance(187.5);
    expect(h.requests).toHaveLength(2);
    expect(h.last().request.version).toBe(1);
  });

  it('while waiting to retry, applies an update that follows the version in force', async () => {
    const h = await syncedTo(1);
    h.sync.requestSync('reconnect');
    await h.last().fail(new Error('timeout'));
    h.sync.onUpdate(update(1, 2));
    expect(h.summary()).toEqual(['ack:2']);
    expect(h.sync.phase).toBe('backoff');
    h.clock.advance(187.5);
    await h.last().reply({ kind: 'current', version: 2, hash: snapshotV(2).hash });
    expect(h.summary()).toEqual(['ack:2', 'ack:2']);
    expect(h.sync.phase).toBe('idle');
  });

  it('while waiting to retry, holds back an update that does not follow, for the retry', async () => {
    const h = await syncedTo(1);
    h.sync.requestSync('reconnect');
    await h.last().fail(new Error('timeout'));
    h.sync.onUpdate(update(2, 3));
    expect(h.requests).toHaveLength(2);
    expect(h.sync.queued).toBe(1);
    h.clock.advance(187.5);
    await h.last().reply(full(snapshotV(2)));
    expect(h.summary()).toEqual(['ack:2', 'ack:3']);
  });

  it('sends nothing more after stop()', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    await h.last().fail(new Error('timeout'));
    h.sync.stop();
    h.clock.advance(60_000);
    h.sync.requestSync('reconnect');
    expect(h.requests).toHaveLength(1);
  });
});

describe('ConfigSync: increments', () => {
  it('applies an increment on top of the version in force and ACKs it', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate(update(1, 2));
    expect(h.holder.current?.snapshot.hash).toBe(snapshotV(2).hash);
    expect(h.summary()).toEqual(['ack:2']);
    expect(h.accepted).toEqual([
      [1, 'sync'],
      [2, 'update'],
    ]);
    expect(h.counters).toMatchObject({ updatesReceived: 1, updatesApplied: 1, acks: 2 });
  });

  it('ignores duplicates and older versions', async () => {
    const h = await syncedTo(3);
    h.sync.onUpdate(update(2, 3));
    h.sync.onUpdate(update(1, 2));
    expect(h.statuses).toEqual([]);
    expect(h.requests).toHaveLength(1);
    expect(h.counters.updatesStale).toBe(2);
  });

  it('NACKs an invalid increment with its issues, keeps the last good, and ignores its replay', async () => {
    const h = await syncedTo(1);
    const bad = { ...update(1, 2), added: [danglingRoute()] };
    h.sync.onUpdate(bad);
    h.sync.onUpdate(bad);
    expect(h.holder.current?.snapshot.version).toBe(1);
    expect(h.summary()).toEqual(['nack:1/rejected 2']);
    expect(h.statuses[0]?.issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_REFERENCE',
        document: 'route/to-ghost.shop',
        path: 'spec.destinations[0].service',
        message: 'refers to unknown service "ghost" in namespace "shop"',
      },
    ]);
    expect(h.counters).toMatchObject({ nacks: 1, updatesStale: 1 });
    expect(h.sync.phase).toBe('idle');
  });

  it('on a gap asks for the state of the world and applies it', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate(update(2, 3));
    expect(h.counters.gaps).toBe(1);
    expect(h.last().request.version).toBe(1);
    await h.last().reply(full(snapshotV(3)));
    expect(h.holder.current?.snapshot.version).toBe(3);
    expect(h.summary()).toEqual(['ack:3']);
    expect(h.counters.updatesStale).toBe(1);
    expect(h.sync.phase).toBe('idle');
  });

  it('on a gap answered by an older snapshot, applies the held-back update after it', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate(update(2, 3));
    await h.last().reply(full(snapshotV(2)));
    expect(h.summary()).toEqual(['ack:2', 'ack:3']);
    expect(h.sync.phase).toBe('idle');
  });

  it('on a hash mismatch resyncs', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate({ ...update(1, 2), hash: 'sha256:wrong' });
    expect(h.counters.hashMismatches).toBe(1);
    expect(h.requests).toHaveLength(2);
    await h.last().reply(full(snapshotV(2)));
    expect(h.summary()).toEqual(['ack:2']);
  });

  it('holds back updates that arrive during a sync and applies them after it, in order', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    h.sync.onUpdate(update(1, 2));
    h.sync.onUpdate(update(2, 3));
    expect(h.sync.queued).toBe(2);
    expect(h.holder.current).toBeUndefined();
    await h.last().reply(full(snapshotV(1)));
    expect(h.summary()).toEqual(['ack:1', 'ack:2', 'ack:3']);
    expect(h.sync.queued).toBe(0);
    expect(h.sync.phase).toBe('idle');
  });

  it('syncs again, after a backoff step, when a held-back update shows it is still behind', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate(update(3, 4)); // gap: sync in flight
    h.sync.onUpdate(update(4, 5)); // held back
    await h.last().reply(full(snapshotV(2))); // a lagging replica
    expect(h.summary()).toEqual(['ack:2']);
    expect(h.sync.phase).toBe('backoff');
    h.clock.advance(187.5);
    await h.last().reply(full(snapshotV(3)));
    expect(h.summary()).toEqual(['ack:2', 'ack:3', 'ack:4', 'ack:5']);
    expect(h.sync.phase).toBe('idle');
  });

  it('bounds the held-back queue, counting what it drops, and resyncs when that leaves it behind', async () => {
    const h = harness({ maxQueuedUpdates: 2 });
    h.sync.requestSync('connect');
    for (const [from, to] of [
      [1, 2],
      [2, 3],
      [3, 4],
    ] as const)
      h.sync.onUpdate(update(from, to));
    expect(h.counters.queueOverflows).toBe(1);
    await h.last().reply(full(snapshotV(1)));
    // 1→2 was dropped, so 2→3 is a gap: it is kept and one more sync follows.
    expect(h.summary()).toEqual(['ack:1']);
    expect(h.sync.phase).toBe('backoff');
    h.clock.advance(187.5);
    await h.last().reply(full(snapshotV(4)));
    expect(h.summary()).toEqual(['ack:1', 'ack:4']);
    expect(h.sync.phase).toBe('idle');
  });

  it('does not loop on a version it refused', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate({ ...update(1, 2), added: [danglingRoute()] });
    h.sync.onUpdate({ ...update(5, 6) }); // gap after the refusal
    await h.last().reply({
      kind: 'full',
      snapshot: { version: 6, hash: 'sha256:x', resources: [danglingRoute()] },
    });
    expect(h.summary()).toEqual(['nack:1/rejected 2', 'nack:1/rejected 6']);
    expect(h.sync.phase).toBe('idle');
  });

  it('applies the increment after a refused version on top of the refused content, without a sync', async () => {
    const h = await syncedTo(1);
    const refused = snapshotV(2);
    // Version 2 as announced: services s1, s2 and a dangling route (refused).
    const bad = { ...update(1, 2), added: [...update(1, 2).added, danglingRoute()] };
    h.sync.onUpdate({ ...bad, hash: 'sha256:refused' });
    // Version 3 fixes it: removes the route and adds s3, based on the refused version 2.
    const fix = makeConfigUpdate({ ...refused, hash: 'sha256:refused' }, snapshotV(3), at);
    h.sync.onUpdate({
      ...fix,
      removed: [{ kind: 'Route', namespace: 'shop', name: 'to-ghost' }],
    });
    expect(h.requests).toHaveLength(1);
    expect(h.summary()).toEqual(['nack:1/rejected 2', 'ack:3']);
    expect(h.holder.current?.snapshot.hash).toBe(snapshotV(3).hash);
  });

  it('refuses again, without a sync, an increment that leaves the refused content invalid', async () => {
    const h = await syncedTo(1);
    h.sync.onUpdate({ ...update(1, 2), added: [danglingRoute()], hash: 'sha256:refused' });
    h.sync.onUpdate({ ...update(2, 3), hash: 'sha256:still-refused' });
    expect(h.requests).toHaveLength(1);
    expect(h.summary()).toEqual(['nack:1/rejected 2', 'nack:1/rejected 3']);
    expect(h.holder.current?.snapshot.version).toBe(1);
  });
});

describe('ConfigSync: after a reconnect', () => {
  const head = (n: number): ConfigUpdate => ({
    version: n,
    baseVersion: 0,
    hash: snapshotV(n).hash,
    added: [],
    changed: [],
    removed: [],
    publishedAt: at.toISOString(),
  });

  it('is confirmed by a head announcement of the version in force, without a sync request', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.clock.advance(400);
    h.sync.onUpdate(head(2));
    h.clock.advance(5_000);
    expect(h.requests).toHaveLength(1);
    expect(h.sync.confirmedAt).toBe(WALL);
    expect(h.counters).toMatchObject({ headConfirmations: 1, resyncs: 1, syncRequests: 1 });
    expect(h.statuses).toEqual([]);
  });

  it('syncs when the head announces a newer version it cannot apply', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.sync.onUpdate(head(3));
    expect(h.requests).toHaveLength(2);
    await h.last().reply(full(snapshotV(3)));
    expect(h.summary()).toEqual(['ack:3']);
    expect(h.counters.headConfirmations).toBe(0);
  });

  it('applies an increment on the version in force that arrives while it waits', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.sync.onUpdate(update(2, 3));
    h.clock.advance(5_000);
    expect(h.requests).toHaveLength(1);
    expect(h.summary()).toEqual(['ack:3']);
  });

  it('syncs when the head names the version in force with another hash', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.sync.onUpdate({ ...head(2), hash: 'sha256:other' });
    expect(h.requests).toHaveLength(2);
  });

  it('syncs once the wait ends without any announcement', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.clock.advance(1_499);
    expect(h.requests).toHaveLength(1);
    h.clock.advance(1);
    expect(h.requests).toHaveLength(2);
    expect(h.last().request.version).toBe(2);
  });

  it('asks at once when a sync is already waiting to retry', async () => {
    const h = harness();
    h.sync.requestSync('connect');
    await h.last().fail(new Error('no responders'));
    expect(h.sync.phase).toBe('backoff');
    h.sync.awaitHead(1_500);
    expect(h.requests).toHaveLength(2);
  });

  it('when the wait ends, reads a head that already arrived before it sends a request', async () => {
    const deferred: (() => void)[] = [];
    const h = harness({ afterPendingIo: (fn) => deferred.push(fn) });
    h.sync.requestSync('connect');
    await h.last().reply(full(snapshotV(2)));
    h.sync.awaitHead(1_500);
    h.clock.advance(1_500);
    h.sync.onUpdate(head(2)); // read in the same event-loop turn, after the timer
    for (const fn of deferred.splice(0)) fn();
    expect(h.requests).toHaveLength(1);
    expect(h.counters.headConfirmations).toBe(1);
  });

  it('is confirmed by a head that arrives after the wait ended, while its sync is in flight', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.clock.advance(1_500);
    expect(h.requests).toHaveLength(2);
    h.sync.onUpdate(head(2));
    expect(h.sync.confirmedAt).toBe(WALL);
    expect(h.counters.headConfirmations).toBe(1);
    await h.last().reply({ kind: 'current', version: 2, hash: snapshotV(2).hash });
    expect(h.requests).toHaveLength(2);
    expect(h.sync.phase).toBe('idle');
    expect(h.counters.updatesStale).toBe(1);
  });

  it('is not confirmed by a late head of another version; its sync decides', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.clock.advance(1_500);
    h.sync.onUpdate(head(3));
    expect(h.counters.headConfirmations).toBe(0);
    await h.last().reply(full(snapshotV(3)));
    expect(h.summary()).toEqual(['ack:3']);
  });

  it('counts a late head only once per reconnect: the sync answer already confirmed it', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.clock.advance(1_500);
    await h.last().reply({ kind: 'current', version: 2, hash: snapshotV(2).hash });
    h.sync.onUpdate(head(2));
    expect(h.counters.headConfirmations).toBe(0);
  });

  it('cancels the wait on stop()', async () => {
    const h = await syncedTo(2);
    h.sync.awaitHead(1_500);
    h.sync.stop();
    h.clock.advance(5_000);
    expect(h.requests).toHaveLength(1);
  });
});

describe('ConfigSync: local snapshots and announcements', () => {
  it('adopts a persisted snapshot without publishing or calling onAccepted', () => {
    const h = harness();
    expect(h.sync.adopt(snapshotV(2))).toEqual({ accepted: true, version: 2 });
    expect(h.sync.origin).toBe('persisted');
    expect(h.statuses).toEqual([]);
    expect(h.accepted).toEqual([]);
  });

  it('announces heartbeats and goodbye with the version in force', async () => {
    const h = await syncedTo(2);
    h.sync.announce('heartbeat');
    h.sync.announce('goodbye');
    expect(h.summary()).toEqual(['heartbeat:2', 'goodbye:2']);
    expect(h.counters.heartbeats).toBe(1);
  });

  it('logs a bad message with its protocol code and counts it', () => {
    const h = harness();
    h.sync.badMessage(
      new ProtocolError('TRL_PROTO_TOO_LARGE', 'too big'),
      'config update',
      'trellis.v1.config.updates',
    );
    expect(h.counters.badMessages).toBe(1);
    expect(h.log.lines).toEqual([
      {
        level: 'warn',
        fields: {
          code: 'TRL_PROTO_TOO_LARGE',
          subject: 'trellis.v1.config.updates',
          reason: 'too big',
        },
        message: 'ignored a bad config update',
      },
    ]);
  });
});
