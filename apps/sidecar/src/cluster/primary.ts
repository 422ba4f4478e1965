// The primary process with --concurrency N > 1. It owns the config source and validates and
// compiles each version once, runs N workers (node:cluster) that own the listeners and get
// every accepted snapshot over IPC, serves the admin endpoint with views gathered from the
// workers, publishes (with --nats) one telemetry summary merged over the workers' windows, and
// on SIGTERM drains every worker and exits when all have exited.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { formatHostPort } from '@trellis/address';
import { createAdminServer } from '@trellis/sidecar-admin';
import { ProxyRuntime } from '@trellis/sidecar-proxy';
import { ConfigHolder } from '@trellis/sidecar-runtime';
import { SummaryPublisher } from '@trellis/sidecar-telemetry';
import {
  FleetWindows,
  WorkerFleet,
  aggregateWorkerMetrics,
  configView,
  fleetRegistry,
  gatherClusters,
  gatherStats,
  readiness,
  workerMetricList,
} from '@trellis/sidecar-workers';
import { systemClock } from '@trellis/time';
import type { Logger } from 'pino';
import type { SidecarFlags } from '../flags.js';
import { configSource } from '../config-source.js';
import { WORKER_ENV } from './worker.js';

/** Runs the primary until it has shut down; resolves with the process exit code. */
export async function runPrimary(flags: SidecarFlags, log: Logger): Promise<number> {
  // Round-robin: the primary accepts and hands each connection to the next worker. A sidecar's
  // traffic is mostly long-lived keep-alive connections from a few pools, so an even spread of
  // connections matters more than the hand-off each one costs. Measured with wrk on 2 cores
  // (--concurrency 2): with the shared socket (none) one worker took every connection in some
  // runs (all 4 of -c4, all 32 of -c32), leaving the other idle; round-robin split each run
  // evenly, and its hand-off cost on connection-per-request load was within the noise.
  // NODE_CLUSTER_SCHED_POLICY=none still chooses the shared socket.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined)
    cluster.schedulingPolicy = cluster.SCHED_RR;

  let exited: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (exited = resolve));

  // Builds the runtime as every worker will: a version that does not compile is refused here
  // (NACKed once, or the file edit rejected) and never reaches the workers.
  const holder = new ConfigHolder((snapshot, previous: ProxyRuntime | undefined) =>
    ProxyRuntime.build(snapshot, previous, {
      localNamespace: flags.namespace,
      localZone: flags.zone,
      clock: systemClock,
      random: Math.random,
    }),
  );
  const counters = { config_applied: 0, config_rejected: 0 };
  const fleet = new WorkerFleet({
    size: flags.concurrency,
    clock: systemClock,
    log,
    spawn(worker, events) {
      const child: Worker = cluster.fork({ [WORKER_ENV]: String(worker) });
      child.on('message', events.message);
      child.on('exit', events.exit);
      // A send racing the worker's exit fails; the exit event tells the fleet what happened.
      child.on('error', (error) => log.warn({ worker, err: error }, 'worker channel error'));
      return {
        send(message) {
          if (child.isConnected()) child.send(message, undefined, () => undefined);
        },
        kill: () => child.process.kill('SIGKILL'),
      };
    },
    onStartFailed(error) {
      log.fatal({ err: error, code: error.code }, 'cannot start');
      fleet.kill();
      exited(1);
    },
  });
  holder.onApplied((applied) => {
    counters.config_applied += 1;
    log.info({ version: applied.snapshot.version, hash: applied.snapshot.hash }, 'config applied');
    fleet.publish(applied.snapshot);
  });
  // With --nats the pod publishes one telemetry summary: each round merges the windows every
  // worker kept (a worker that does not answer within the collect timeout is left out).
  const telemetryIdentity = { namespace: flags.namespace, pod: flags.pod, service: flags.service };
  const source = configSource(flags, holder, log, {
    onRejected: () => (counters.config_rejected += 1),
    summaries: (client) =>
      new SummaryPublisher({
        windows: new FleetWindows({
          collect: () => fleet.collect('telemetry'),
          identity: telemetryIdentity,
          log,
        }),
        identity: telemetryIdentity,
        clock: systemClock,
        publish: (payload) => client.publishTelemetry(payload),
        log,
      }),
  });
  const workerRegistry = fleetRegistry(() => fleet.status());

  const admin = createAdminServer({
    views: {
      ...source.views,
      '/live': () => ({ status: 200, body: 'live\n' }),
      '/ready': () =>
        readiness(fleet.ready, fleet.stopping, holder.current?.snapshot.version, fleet.status()),
      '/config': () => configView(holder, (runtime) => runtime.routes.hosts(), fleet.status()),
      '/clusters': async () => ({
        status: 200,
        body: gatherClusters(await fleet.collect('clusters')),
      }),
      '/stats': async () => ({
        status: 200,
        body: gatherStats(await fleet.collect('stats'), {
          ...counters,
          config_version: holder.current?.snapshot.version ?? 0,
        }),
      }),
      '/metrics': async () => {
        const lists = (await fleet.collect('metrics')).flatMap((c) => {
          const list = 'status' in c && c.status === 200 ? workerMetricList(c.body) : undefined;
          return list ? [list] : [];
        });
        return { status: 200, body: await aggregateWorkerMetrics(lists, workerRegistry) };
      },
    },
    actions: {
      '/drain': () => {
        void fleet.drain();
        return { status: 202, body: { draining: true } };
      },
    },
  });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: flags.concurrency }, 'shutting down');
    // Each worker drains within the drain deadline; past it (plus flushing time) they are ended.
    const deadline = setTimeout(() => {
      log.error({ signal }, 'workers took longer than the drain deadline; ending them');
      fleet.kill();
      exited(1);
    }, flags.drainTimeoutMs + 5_000);
    deadline.unref();
    const clean = await fleet.drain();
    clearTimeout(deadline);
    await source.stop();
    admin.close();
    admin.closeAllConnections();
    log.info({ clean }, 'all workers exited');
    exited(clean ? 0 : 1);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    // Workers boot while the config loads; each listens once it has the first snapshot.
    fleet.start();
    await source.start();
    admin.on('error', (error) => log.error({ err: error }, 'admin endpoint error'));
    await new Promise<void>((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(flags.admin.port, flags.admin.host, resolve);
    });
    log.info(
      {
        workers: flags.concurrency,
        admin: formatHostPort(flags.admin),
        config: flags.nats ? `nats ${flags.nats.servers.join(',')}` : flags.config,
      },
      'primary started',
    );
  } catch (error) {
    log.fatal({ err: error }, 'cannot start');
    fleet.kill();
    return 1;
  }
  return done;
}
