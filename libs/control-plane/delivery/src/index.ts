// @trellis/control-plane-delivery: the control plane's side of protocol v1 over NATS — stored
// versions in JetStream KV, the writer lease, config updates, sync replies, per-sidecar sync
// state, its HTTP endpoints and metrics, and the NATS users of a mesh.
export {
  ControlPlaneDelivery,
  DEFAULT_HEAD_REPEAT_MS,
  DEFAULT_HEAD_WINDOW_MS,
  DEFAULT_KV_HISTORY,
} from './control-plane-delivery.js';
export type { ControlPlaneDeliveryOptions } from './control-plane-delivery.js';
export {
  ConfigStore,
  DEFAULT_STORE_POLL_MS,
  decodeStoredSnapshot,
  encodeStoredSnapshot,
} from './config-store.js';
export type {
  ConfigStoreOptions,
  StoredChange,
  StoredSnapshot,
  WriteOutcome,
} from './config-store.js';
export { DEFAULT_SYNC_READ_BOUND_MS, FollowerAnswers } from './follower-answers.js';
export type { FollowerAnswersOptions, FollowerStore } from './follower-answers.js';
export { encodeConfigUpdate, resyncMarker } from './config-update.js';
export type { EncodedUpdate, UpdateKind } from './config-update.js';
export { connectToNats, natsServers } from './connect.js';
export type { NatsConnectOptions } from './connect.js';
export { DeliveryError } from './errors.js';
export type { DeliveryErrorCode } from './errors.js';
export { DEFAULT_SSE_KEEPALIVE_MS, deliveryRoutes } from './http-routes.js';
export type { DeliveryRoutesOptions, HttpRoute } from './http-routes.js';
export { checkBucketOptions, isRevisionConflict, openBucket } from './kv-buckets.js';
export type { BucketOptions } from './kv-buckets.js';
export { kvLeaseRegister } from './kv-lease-register.js';
export { DEFAULT_LEASE_MS, LeaderElection } from './leader-election.js';
export type {
  LeaderElectionOptions,
  LeaseEntry,
  LeaseRecord,
  LeaseRegister,
} from './leader-election.js';
export type { DeliveryLogger, LogFn } from './logger.js';
export { ACK_LATENCY_BUCKETS, DeliveryMetrics, METRIC_PREFIX } from './metrics.js';
export type {
  DeliveryMetricsOptions,
  MetricSources,
  PushKind,
  RejectedSubject,
  RejectionCode,
  StoreWriteOutcome,
  SyncReplyKind,
} from './metrics.js';
export {
  MESH_NATS_AUTH_TIMEOUT_SECONDS,
  MESH_NATS_WRITE_DEADLINE_SECONDS,
  trellisNatsLimits,
} from './nats-limits.js';
export type { TrellisNatsLimits } from './nats-limits.js';
export { CONTROL_PLANE_NATS_USER, sidecarNatsUser, trellisNatsUsers } from './nats-users.js';
export type {
  SidecarNatsCredentials,
  TrellisNatsUser,
  TrellisNatsUsersOptions,
} from './nats-users.js';
export { listenToStatus, readStatusMessage } from './status-listener.js';
export type { StatusListenerOptions } from './status-listener.js';
export {
  UNAVAILABLE_REASON,
  errorReply,
  readSyncRequest,
  serveSyncRequests,
  syncReplyFor,
} from './sync-responder.js';
export type { ReadRequest, SyncResponderOptions } from './sync-responder.js';
export {
  DEFAULT_FORGET_AFTER_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MISSED_HEARTBEATS,
  DEFAULT_STALE_AFTER_MS,
  SYNC_STATES,
  SyncTracker,
} from './sync-tracker.js';
export type {
  AckLatency,
  ProxyNack,
  ProxySyncView,
  StatusOutcome,
  SyncChange,
  SyncState,
  SyncTrackerOptions,
} from './sync-tracker.js';
