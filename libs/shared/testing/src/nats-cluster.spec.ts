import { existsSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsCluster } from './nats-cluster.js';
import type { NatsClusterHandle } from './nats-cluster.js';
import { fetchNatsMonitor, monitorField } from './nats-monitor.js';
import { stopAllNatsServers } from './nats-registry.js';
import { waitFor } from './wait-for.js';

afterAll(stopAllNatsServers);

describe('startNatsCluster', () => {
  let cluster: NatsClusterHandle;
  const connections: NatsConnection[] = [];

  async function connectTo(servers: string | string[]): Promise<NatsConnection> {
    const admin = cluster.users['admin'];
    const nc = await connect({
      servers,
      user: admin?.user,
      pass: admin?.password,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    connections.push(nc);
    return nc;
  }

  beforeAll(async () => {
    cluster = await startNatsCluster({ size: 3, name: 'mesh' });
  });

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    await cluster.stop();
  });

  it('starts three named nodes that agree on a JetStream meta leader', async () => {
    expect(cluster.servers.map((s) => s.serverName)).toEqual(['mesh-1', 'mesh-2', 'mesh-3']);
    expect(cluster.urls).toEqual(cluster.servers.map((s) => `nats://127.0.0.1:${s.port}`));
    const leaders = await Promise.all(
      cluster.servers.map(async (s) =>
        monitorField(
          (await fetchNatsMonitor(s.monitorPort, '/jsz')).body,
          'meta_cluster',
          'leader',
        ),
      ),
    );
    expect(['mesh-1', 'mesh-2', 'mesh-3']).toContain(leaders[0]);
    expect(new Set(leaders).size).toBe(1);
    const varz = (await fetchNatsMonitor(cluster.servers[0]!.monitorPort, '/varz')).body;
    expect(monitorField(varz, 'cluster', 'name')).toBe('mesh');
  });

  it('delivers a message published on one node to a subscriber on another', async () => {
    const first = cluster.servers[0]!;
    const third = cluster.servers[2]!;
    const publisher = await connectTo(first.url);
    const subscriber = await connectTo(third.url);
    expect(publisher.info?.server_name).toBe('mesh-1');
    expect(subscriber.info?.server_name).toBe('mesh-3');

    const received: string[] = [];
    subscriber.subscribe('trellis.v1.routed', {
      callback: (_err, msg) => {
        received.push(msg.string());
      },
    });
    await subscriber.flush();
    // Interest reaches mesh-1 over the route asynchronously: publish until one message arrives.
    let sent = 0;
    await waitFor(
      async () => {
        publisher.publish('trellis.v1.routed', `m${++sent}`);
        await publisher.flush();
        return received.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'a message routed from mesh-1 to mesh-3' },
    );
    expect(received[0]).toMatch(/^m\d+$/);
    expect(Number(received[0]?.slice(1))).toBeLessThanOrEqual(sent);
  });

  it('keeps a replicas-3 KV readable and writable after its stream leader is killed', async () => {
    const nc = await connectTo(cluster.urls);
    const kv = await new Kvm(nc).create('mesh-config', { replicas: 3, history: 1 });
    await kv.put('route-table', 'v1');
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('KV_mesh-config');
    expect(info.config.num_replicas).toBe(3);
    const leaderName = info.cluster?.leader;
    const victim = cluster.servers.find((s) => s.serverName === leaderName);
    expect(victim).toBeDefined();

    await victim!.kill();
    expect(victim!.running).toBe(false);

    // A new stream leader has to be elected; reads and writes fail until then.
    const value = await waitFor(async () => (await kv.get('route-table'))?.string(), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'the KV to answer with one node down',
    });
    expect(value).toBe('v1');
    await waitFor(() => kv.put('route-table', 'v2'), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'a KV write with one node down',
    });
    expect((await kv.get('route-table'))?.string()).toBe('v2');
    const after = await jsm.streams.info('KV_mesh-config');
    expect(after.cluster?.leader).not.toBe(leaderName);
    expect(after.cluster?.leader).toBeDefined();

    await victim!.restart();
    await cluster.waitUntilReady();
    expect(victim!.running).toBe(true);
  });
});

describe('startNatsCluster options', () => {
  it('refuses a cluster of fewer than two nodes', async () => {
    await expect(startNatsCluster({ size: 1 })).rejects.toMatchObject({
      code: 'TRL_TESTING_INVALID_OPTION',
      message: 'a cluster needs an integer size of at least 2 (got 1)',
    });
  });

  it('stop() removes every node and its directory', async () => {
    const cluster = await startNatsCluster({ size: 2 });
    const dirs = cluster.servers.map((s) => s.dir);
    await cluster.stop();
    expect(cluster.servers.map((s) => s.running)).toEqual([false, false]);
    expect(dirs.map((d) => existsSync(d))).toEqual([false, false]);
  });
});
