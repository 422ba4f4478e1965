// A JetStream cluster of real nats-servers on loopback: every node routes to every other, shares
// the cluster name and the users, and has its own server_name and store. Ready means the
// JetStream meta group has a leader that all live nodes agree on and all of them are current.
import { systemClock } from '@trellis/time';
import { TestingError } from './errors.js';
import type { NatsCredentials } from './nats-config.js';
import { fetchNatsMonitor, monitorField } from './nats-monitor.js';
import { resolveNatsUsers, startNatsServer } from './nats-server.js';
import type { NatsServerHandle, StartNatsServerOptions } from './nats-server.js';
import { getFreePorts } from './ports.js';
import { waitFor } from './wait-for.js';

export interface StartNatsClusterOptions extends Omit<
  StartNatsServerOptions,
  'port' | 'monitorPort' | 'serverName' | 'cluster' | 'jetstream'
> {
  /** Number of nodes (default 3, at least 2). */
  readonly size?: number;
  /** Cluster name (default `trellis-test`); nodes are named `<name>-1` … `<name>-<size>`. */
  readonly name?: string;
  /** Bound on the meta-leader wait after all nodes are up (default 30 s). */
  readonly readyTimeoutMs?: number;
}

export interface NatsClusterHandle {
  readonly name: string;
  readonly servers: readonly NatsServerHandle[];
  /** Client URLs of all nodes, for `connect({ servers: urls })`. */
  readonly urls: string[];
  /** Credentials by user name (the same on every node). */
  readonly users: Readonly<Record<string, NatsCredentials>>;
  /**
   * Waits until the nodes that are running agree on a JetStream meta leader, are all current in
   * the meta group and are routed to each other; use it after kill()/restart() of a node.
   */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** Stops every node (see NatsServerHandle.stop). */
  stop(): Promise<void>;
}

export async function startNatsCluster(
  options: StartNatsClusterOptions = {},
): Promise<NatsClusterHandle> {
  const { size = 3, name = 'trellis-test', readyTimeoutMs = 30_000, ...serverOptions } = options;
  if (!Number.isInteger(size) || size < 2) {
    throw new TestingError(
      'TRL_TESTING_INVALID_OPTION',
      `a cluster needs an integer size of at least 2 (got ${size})`,
    );
  }
  const clock = options.clock ?? systemClock;
  const users = resolveNatsUsers(options.users);
  const ports = await getFreePorts(size * 3);
  const nodePorts = Array.from({ length: size }, (_, i) => ({
    client: ports[i * 3] as number,
    monitor: ports[i * 3 + 1] as number,
    route: ports[i * 3 + 2] as number,
  }));
  const routePorts = nodePorts.map((p) => p.route);

  const started = await Promise.allSettled(
    nodePorts.map((p, i) =>
      startNatsServer({
        ...serverOptions,
        users,
        port: p.client,
        monitorPort: p.monitor,
        serverName: `${name}-${i + 1}`,
        jetstream: true,
        cluster: { name, port: p.route, routePorts: routePorts.filter((r) => r !== p.route) },
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(servers.map((s) => s.stop()));
    throw failed.reason;
  }

  const cluster: NatsClusterHandle = {
    name,
    servers,
    urls: servers.map((s) => s.url),
    users: Object.fromEntries(users.map((u) => [u.user, { user: u.user, password: u.password }])),
    waitUntilReady: (timeoutMs = readyTimeoutMs) =>
      waitFor(() => isClusterReady(servers), {
        timeoutMs,
        intervalMs: 100,
        what: `cluster ${name} to elect a JetStream meta leader with all running nodes current`,
        clock,
      }).then(() => undefined),
    stop: async () => {
      const results = await Promise.allSettled(servers.map((s) => s.stop()));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    },
  };
  try {
    await cluster.waitUntilReady();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function isClusterReady(servers: readonly NatsServerHandle[]): Promise<boolean> {
  const live = servers.filter((s) => s.running);
  const views = await Promise.all(
    live.map(async (s) => ({
      server: s,
      jsz: (await fetchNatsMonitor(s.monitorPort, '/jsz', 1000)).body,
      routes: monitorField(
        (await fetchNatsMonitor(s.monitorPort, '/routez', 1000)).body,
        'num_routes',
      ),
    })),
  );
  const leader = monitorField(views[0]?.jsz, 'meta_cluster', 'leader');
  if (typeof leader !== 'string' || leader === '') return false;
  for (const view of views) {
    if (monitorField(view.jsz, 'meta_cluster', 'leader') !== leader) return false;
    if (typeof view.routes !== 'number' || view.routes < live.length - 1) return false;
  }
  // Only the leader lists the other peers and whether each has caught up with the meta log.
  const leaderView = views.find((v) => v.server.serverName === leader);
  if (!leaderView) return false;
  const replicas = monitorField(leaderView.jsz, 'meta_cluster', 'replicas');
  const current = new Set(
    (Array.isArray(replicas) ? replicas : []).flatMap((r: unknown) =>
      monitorField(r, 'current') === true ? [monitorField(r, 'name')] : [],
    ),
  );
  return live.every((s) => s.serverName === leader || current.has(s.serverName));
}
