// The primary's /config with --concurrency N: the single-process view of the config in force
// (the primary validated and compiled it), plus each worker's version and state.
import { formatIssue } from '@trellis/config';
import type { ConfigHolder } from '@trellis/sidecar-runtime';
import type { WorkerStatus } from './worker-fleet.js';

export function configView<R>(
  holder: ConfigHolder<R>,
  hosts: (runtime: R) => readonly string[],
  workers: readonly WorkerStatus[],
): { status: number; body: Record<string, unknown> } {
  const current = holder.current;
  const rejection = holder.lastRejection;
  return {
    status: current ? 200 : 503,
    body: {
      version: current?.snapshot.version ?? null,
      hash: current?.snapshot.hash ?? null,
      appliedAt: current ? new Date(current.appliedAt).toISOString() : null,
      lastRejection: rejection
        ? {
            version: rejection.version,
            at: new Date(rejection.at).toISOString(),
            issues: rejection.issues.map(formatIssue),
          }
        : null,
      workers: workers.map((w) => ({
        worker: w.worker,
        state: w.state,
        version: w.version,
        restarts: w.restarts,
        lastRejection: w.lastRejection,
      })),
      hosts: current ? hosts(current.runtime) : [],
      resources: current?.snapshot.resources ?? [],
    },
  };
}
