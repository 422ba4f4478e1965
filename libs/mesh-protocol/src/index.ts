// @trellis/mesh-protocol: control plane ⇄ sidecar protocol v1 over NATS — subjects, message
// shapes and strict decoders. Pure: no connection code (that lives with each side).
export { ProtocolError } from './errors.js';
export type { ProtocolErrorCode } from './errors.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  decodeConfigUpdate,
  decodeProxyStatus,
  decodeSyncReply,
  decodeSyncRequest,
  encodeMessage,
} from './messages.js';
export { statusEncoder } from './status-encoder.js';
export type {
  ConfigUpdate,
  ProxyIdentity,
  ProxyRole,
  ProxyStatus,
  ProxyStatusKind,
  SyncReply,
  SyncRequest,
  WireSnapshot,
} from './messages.js';
export {
  CONTROL_PLANE_QUEUE,
  KV_CONFIG_BUCKET,
  KV_CONFIG_KEY,
  KV_LEADER_BUCKET,
  KV_LEADER_KEY,
  SUBJECT_PREFIX,
  inboxPrefix,
  isSubjectToken,
  parseProxySubject,
  subjects,
} from './subjects.js';
export type { ProxySubjectKind } from './subjects.js';
export { CONTROL_PLANE_NATS_PERMISSIONS, sidecarNatsPermissions } from './nats-permissions.js';
export type { NatsPermissions, NatsSubjectPermission } from './nats-permissions.js';
export { readProxyMessage } from './proxy-message.js';
export type { FromProxy } from './proxy-message.js';
export { applyConfigUpdate, makeConfigUpdate } from './increments.js';
export {
  LATENCY_BUCKET_COUNT,
  LATENCY_SUB_BUCKET_BITS,
  latencyBucketOf,
  latencyBucketValueUs,
  latencyQuantileMs,
} from './latency-buckets.js';
export {
  DEFAULT_MAX_TELEMETRY_BYTES,
  TELEMETRY_SUMMARY_VERSION,
  decodeTelemetrySummary,
  encodeTelemetrySummary,
} from './telemetry-summary.js';
export type {
  DestinationStats,
  TelemetryEdge,
  TelemetrySource,
  TelemetrySummary,
} from './telemetry-summary.js';
export type { UpdateOutcome } from './increments.js';
