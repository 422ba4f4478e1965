// @trellis/sidecar-delivery: the sidecar's side of the Trellis control protocol v1 over NATS —
// state-of-the-world sync, increments, ACK/NACK/heartbeat/goodbye, and the persisted last good
// snapshot. The proxy gives it a ConfigHolder; it never throws into the proxy.
export { ControlPlaneClient } from './control-plane-client.js';
export type {
  ConfigTarget,
  ControlPlaneClientOptions,
  DeliveryState,
} from './control-plane-client.js';
export { ConfigSync } from './config-sync.js';
export type {
  ConfigOrigin,
  ConfigSyncOptions,
  NackRecord,
  SyncPhase,
  SyncReason,
  SyncTransport,
} from './config-sync.js';
export { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
export type { BackoffParams } from './backoff.js';
export { SnapshotBuildCache, sharedBuildCache } from './build-cache.js';
export type { BuildCacheStats, FullBuild } from './build-cache.js';
export { DELIVERY_COUNTERS, zeroCounters } from './counters.js';
export type { DeliveryCounterName, DeliveryCounters } from './counters.js';
export { DeliveryError } from './errors.js';
export type { DeliveryErrorCode } from './errors.js';
export { consoleLogger } from './logger.js';
export type { DeliveryLogger } from './logger.js';
export { PERSISTED_FORMAT, readSnapshotFile, writeSnapshotFile } from './persistence.js';
export type { PersistedRead } from './persistence.js';
