// @trellis/sidecar-workers: the sidecar's worker processes (--concurrency N). The primary owns
// the config source and the admin endpoint and fans each accepted snapshot out to N workers
// that run the listeners; typed IPC messages, restarts with backoff, and the admin views,
// metrics and telemetry summaries gathered over the workers. Node's cluster module is wired in
// apps/sidecar.
export { configView } from './config-view.js';
export { WorkersError } from './errors.js';
export type { WorkersErrorCode } from './errors.js';
export { FleetWindows, gatherWindows } from './fleet-windows.js';
export type {
  FleetWindowsLogger,
  FleetWindowsOptions,
  GatheredWindows,
  LeftOutWorker,
} from './fleet-windows.js';
export { gatherClusters, gatherStats, readiness } from './gather-views.js';
export { WORKER_VIEWS, isTrellisMessage, parseToPrimary, parseToWorker } from './ipc-messages.js';
export type { ToPrimary, ToWorker, WireSnapshot, WireWindow, WorkerView } from './ipc-messages.js';
export { PrimaryLink } from './primary-link.js';
export type {
  LinkLogger,
  PrimaryChannel,
  PrimaryLinkOptions,
  ServeOptions,
  SnapshotTarget,
  ViewAnswer,
} from './primary-link.js';
export { DEFAULT_RESTART_BACKOFF, RestartBackoff } from './restart-backoff.js';
export type { RestartBackoffParams } from './restart-backoff.js';
export { MAX_WORKERS, WorkerFleet } from './worker-fleet.js';
export type {
  Collected,
  FleetLogger,
  SpawnWorker,
  WorkerEvents,
  WorkerFleetOptions,
  WorkerHandle,
  WorkerState,
  WorkerStatus,
} from './worker-fleet.js';
export {
  WORKER_METRIC_AGGREGATORS,
  aggregateWorkerMetrics,
  fleetRegistry,
  workerMetricList,
} from './worker-metrics.js';
