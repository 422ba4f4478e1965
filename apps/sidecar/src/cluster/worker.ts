// A cluster worker's wiring (--concurrency N > 1): the link to the primary over the process IPC
// channel, and the admin views (and telemetry windows) it answers for the primary, which serves
// the admin endpoint and publishes the pod's telemetry summary.
import cluster from 'node:cluster';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { formatHostPort } from '@trellis/address';
import type { HostPort } from '@trellis/address';
import type { AdminEndpoints, AdminResponse } from '@trellis/sidecar-admin';
import type { DestinationWindows } from '@trellis/sidecar-telemetry';
import { PrimaryLink } from '@trellis/sidecar-workers';
import type { LinkLogger, ServeOptions, SnapshotTarget } from '@trellis/sidecar-workers';

/** The environment variable carrying a worker's slot number (1..N), set by the primary. */
export const WORKER_ENV = 'TRELLIS_WORKER';

/**
 * This worker's slot number; undefined unless this process is a worker of a sidecar primary
 * (a cluster worker of another supervisor, e.g. pm2, runs as a single process).
 */
export function workerNumber(): number | undefined {
  const slot = process.env[WORKER_ENV];
  return cluster.isWorker && slot !== undefined ? Number(slot) : undefined;
}

/**
 * Connects to the primary: snapshots go to `target`; nothing listens until the first arrives.
 * Should the primary die, Node ends its cluster workers by itself (an unexpected disconnect exits
 * the worker), so no orphan keeps serving stale config on the shared ports.
 */
export function linkToPrimary(target: SnapshotTarget, log: LinkLogger): PrimaryLink {
  // Config reloads are the primary's job; a SIGHUP to the process group must not end a worker.
  process.on('SIGHUP', () => undefined);
  return new PrimaryLink({
    channel: {
      send(message) {
        // The primary may be gone already; a failed send is then not worth an 'error' event.
        if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
      },
      onMessage: (listener) => void process.on('message', listener),
    },
    target,
    log,
    exitBeforeServing: () => process.exit(0),
  });
}

/**
 * What a worker answers for the primary's /stats, /clusters and /metrics, and (with --nats) its
 * destination windows, which the primary merges into the pod's telemetry summary.
 */
export function workerViews(
  bound: Readonly<Record<string, HostPort>>,
  endpoints: AdminEndpoints,
  metricsJson: () => Promise<unknown>,
  drain: () => void,
  windows: DestinationWindows | undefined,
): ServeOptions {
  const view = (path: string) => (): AdminResponse | Promise<AdminResponse> => {
    const route = endpoints.views[path];
    if (!route) return { status: 404, body: { error: `no view ${path}` } };
    // The views read no request fields; they get a detached one with the path they serve.
    const request = new IncomingMessage(new Socket());
    request.url = path;
    return route(request);
  };
  return {
    addresses: Object.fromEntries(
      Object.entries(bound).map(([name, address]) => [name, formatHostPort(address)]),
    ),
    views: {
      stats: view('/stats'),
      clusters: view('/clusters'),
      metrics: async () => ({ status: 200, body: await metricsJson() }),
      telemetry: () =>
        windows
          ? { status: 200, body: windows.contents() }
          : { status: 404, body: { error: 'no telemetry windows without --nats' } },
    },
    drain,
  };
}
