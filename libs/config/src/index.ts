// Public API of @trellis/config: the Trellis mesh config model, its validation and snapshots.
export { API_VERSION, KINDS } from './kinds.js';
export type { Kind } from './kinds.js';
export { ConfigError } from './errors.js';
export type { ConfigErrorCode } from './errors.js';
export { ISSUE_CODES, formatIssue, formatPath } from './issues.js';
export type { ConfigIssue, ConfigIssueCode, PathSegment, SourcePosition } from './issues.js';
export { DURATION_PATTERN, isDuration, parseDuration } from './duration.js';
export { canonicalJson } from './canonical-json.js';
export { parseDocuments } from './parse.js';
export type { NodePart, ParsedDocument } from './parse.js';
export { validateDocuments } from './validate/validate-documents.js';
export { loadConfig } from './load.js';
export { serializeResources } from './serialize.js';
export { buildSnapshot, compareResources, resourceKey } from './snapshot.js';
export type { ResourceKey, Snapshot } from './snapshot.js';
export { diffSnapshots } from './diff.js';
export type { SnapshotDiff } from './diff.js';
export { resourceJsonSchemas } from './schema/resources.js';
export type { Resource, ResourceOfKind } from './schema/resources.js';
export { renderConfigReference } from './reference.js';
export { PROTOCOLS } from './schema/service.js';
export type { Protocol, ServicePort, ServiceResource } from './schema/service.js';
export type { Endpoint, EndpointsResource } from './schema/endpoints.js';
export { DOWNSTREAM_PROTOCOLS, HTTP_METHODS, REDIRECT_STATUSES, RETRY_ON } from './schema/route.js';
export type {
  Destination,
  HeaderMatch,
  PathMatch,
  QueryMatch,
  Retries,
  RetryOn,
  RouteMatch,
  RouteResource,
} from './schema/route.js';
export { LB_ALGORITHMS } from './schema/destination-policy.js';
export type {
  DestinationPolicyResource,
  LoadBalancerAlgorithm,
} from './schema/destination-policy.js';
export type { RateLimitResource } from './schema/rate-limit.js';
export type { RetryBudgetResource } from './schema/retry-budget.js';
export { PROPAGATIONS } from './schema/telemetry.js';
export type { Propagation, TelemetryResource } from './schema/telemetry.js';
