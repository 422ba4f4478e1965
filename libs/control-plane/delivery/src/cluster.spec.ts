// The delivery on a 3-node JetStream cluster with KV replicas 3: losing a node (the one the
// control plane is connected to) does not stop delivery.
import { afterAll, describe, expect, it } from 'vitest';
import { startNatsCluster, stopAllNatsServers } from '@trellis/testing';
import { snapshotOf } from '../testing/fixtures.js';
import { connectSidecar, meshUsers, startReplica, until } from '../testing/harness.js';

afterAll(stopAllNatsServers);

describe('control plane on a 3-node NATS cluster', () => {
  it('keeps delivering changes after a node is killed', { timeout: 60_000 }, async () => {
    const cluster = await startNatsCluster({
      size: 3,
      users: meshUsers(),
      name: 'trellis-delivery',
    });
    try {
      const r = await startReplica(cluster.urls, { replicaId: 'cp-0', kvReplicas: 3 });
      const s = await connectSidecar(cluster.urls, 'web-1');
      try {
        await until('the replica to write', () => r.delivery.isWriter, 15_000);
        r.delivery.offer(snapshotOf(['catalog']));
        await until('web-1 on version 1', () => s.version === 1, 15_000);

        const port = Number(r.nc.getServer().split(':').at(-1));
        const node = cluster.servers.find((n) => n.port === port);
        expect(node).toBeDefined();
        await node?.kill();
        await cluster.waitUntilReady();

        const next = snapshotOf(['catalog', 'pricing']);
        r.delivery.offer(next);
        await until('web-1 on version 2', () => s.current?.hash === next.hash, 30_000);
        expect(s.version).toBe(2);
        await until(
          'web-1 SYNCED on 2',
          () => r.delivery.tracker.get('shop', 'web-1')?.version === 2,
          15_000,
        );
        expect(r.serverErrors).toEqual([]);
      } finally {
        await s.close();
        await r.close();
      }
    } finally {
      await cluster.stop();
    }
  });
});
