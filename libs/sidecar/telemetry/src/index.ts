// @trellis/sidecar-telemetry: Prometheus metrics and access logs for the sidecar, fed from
// the proxy's onComplete hook and read from the runtime at scrape time.
export type { AccessLogEntry } from './access-log-entry.js';
export { accessLogEntry } from './access-log-entry.js';
export {
  ACCESS_LOG_FIELDS,
  AccessLogFormatError,
  compileAccessLogFormat,
} from './access-log-format.js';
export type { AccessLogDestination, AccessLogOptions, AccessLogSettings } from './access-log.js';
export type { ChunkDone } from './fd-writer.js';
export { AccessLog } from './access-log.js';
export type { MetricSpec, SidecarMetricKey } from './metric-table.js';
export {
  DEFAULT_MAX_LABEL_SETS,
  DURATION_BUCKETS_SECONDS,
  OVERFLOW_LABEL,
  SIDECAR_METRICS,
} from './metric-table.js';
export type { MetricsSettings, SidecarMetricsOptions } from './sidecar-metrics.js';
export { SidecarMetrics } from './sidecar-metrics.js';
export type { ServiceIdentity, TelemetrySpec } from './telemetry-select.js';
export { telemetryFor } from './telemetry-select.js';
export type {
  IncomingContext,
  MeshTracerOptions,
  OutgoingContext,
  TraceIds,
  TracingSettings,
} from './tracing/index.js';
export {
  DEFAULT_TRACING_SETTINGS,
  MeshTracer,
  extractTraceContext,
  injectTraceContext,
  removeTraceHeaders,
} from './tracing/index.js';
export type {
  DestinationWindowsOptions,
  SecondCounts,
  SeriesContents,
  SummaryPublisherCounters,
  SummaryPublisherLogger,
  SummaryPublisherOptions,
  SummarySource,
  WindowContents,
  WindowSummary,
} from './summary/index.js';
export {
  DEFAULT_MAX_DESTINATIONS,
  DEFAULT_SUMMARY_INTERVAL_MS,
  DEFAULT_WINDOW_SECONDS,
  DestinationWindows,
  GRPC_SERVER_ERROR_STATUSES,
  OVERFLOW_SERVICE,
  SummaryPublisher,
  UNROUTED_SERVICE,
  isSuccessful,
} from './summary/index.js';
