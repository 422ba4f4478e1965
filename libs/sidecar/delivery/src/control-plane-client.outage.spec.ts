import { join } from 'node:path';
import { startNatsServer, stopAllNatsServers, withTempDir } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeControlPlane, protocolUsers } from '../testing/fake-control-plane.js';
import { snapshotV } from '../testing/fixtures.js';
import { eventually, makeSidecar } from '../testing/harness.js';

afterAll(stopAllNatsServers);

// Each test stops or restarts its server, so each gets its own.
let nats: NatsServerHandle;
beforeEach(async () => {
  nats = await startNatsServer({ users: protocolUsers(), jetstream: false });
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  await nats.stop();
});

describe('ControlPlaneClient through NATS outages', () => {
  it('keeps its config while nats-server restarts, then reconnects and resyncs', async () => {
    const cp = await FakeControlPlane.start(nats);
    open.push(cp);
    cp.latest = snapshotV(1);
    const s = makeSidecar(nats);
    open.push(s.client);
    await s.client.start();
    await eventually('the first ACK', () => cp.seen('ack').length === 1);

    await nats.restart();
    expect(s.version()).toBe(1);
    cp.latest = snapshotV(2); // published while this sidecar was away: only a resync brings it

    await eventually('version 2 after the reconnect', () => s.version() === 2, s.clock);
    expect(s.log.lines.some((l) => l.message.startsWith('disconnected from NATS'))).toBe(true);
    const counters = s.client.state().counters;
    expect(counters.reconnects).toBe(1);
    expect(counters.resyncs).toBeGreaterThanOrEqual(1);
    expect(cp.syncRequests.at(-1)?.version).toBe(1);
    await eventually('the ACK of version 2', () => cp.seen('ack').some((a) => a.version === 2));
    expect(s.client.state()).toMatchObject({ connected: true, version: 2, sync: 'idle' });
  });

  it('restarted while NATS is down, starts from its persisted snapshot and syncs once NATS is back', async () => {
    await withTempDir(async (dir) => {
      const persistPath = join(dir, 'snapshot.json');
      const cp = await FakeControlPlane.start(nats);
      open.push(cp);
      cp.latest = snapshotV(3);
      const first = makeSidecar(nats, { persistPath });
      await first.client.start();
      await eventually(
        'the snapshot to be persisted',
        () => first.client.state().counters.persistWrites === 1,
      );
      await first.client.close();

      await nats.kill();
      const second = makeSidecar(nats, { persistPath });
      open.push(second.client);
      await second.client.start();
      expect(second.version()).toBe(3);
      expect(second.client.state()).toMatchObject({
        connected: false,
        origin: 'persisted',
        version: 3,
      });
      await eventually('a failed connection attempt', () =>
        second.log.lines.some((l) => l.fields.code === 'TRL_DELIVERY_CONNECT_FAILED'),
      );

      await nats.restart();
      await eventually(
        'the restarted sidecar to ACK version 3',
        () => cp.seen('ack').filter((a) => a.version === 3).length === 2,
        second.clock,
      );
      expect(cp.syncRequests.at(-1)?.version).toBe(3);
      expect(second.client.state()).toMatchObject({
        connected: true,
        version: 3,
        origin: 'persisted',
      });
    });
  });
});
