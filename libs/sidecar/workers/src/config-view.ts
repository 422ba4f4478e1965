// The primary's /config with --concurrency N: the single-process view of the config in force
// (the primary validated and compiled it), plus each worker's version and state.
import { configView as holderView } from '@trellis/sidecar-runtime';
import type { ConfigHolder, ConfigView } from '@trellis/sidecar-runtime';
import type { WorkerStatus } from './worker-fleet.js';

export function configView<R>(
  holder: ConfigHolder<R>,
  hosts: (runtime: R) => readonly string[],
  workers: readonly WorkerStatus[],
): ConfigView {
  const view = holderView(holder, hosts);
  return {
    status: view.status,
    body: {
      ...view.body,
      workers: workers.map((w) => ({
        worker: w.worker,
        state: w.state,
        version: w.version,
        restarts: w.restarts,
        lastRejection: w.lastRejection,
      })),
    },
  };
}
