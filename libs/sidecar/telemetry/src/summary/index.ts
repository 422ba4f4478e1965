// Telemetry summaries: the sliding per-destination window fed on the request path (its contents
// as plain data merge over the workers of a --concurrency sidecar), and the publisher that sends
// the summary to the control plane over NATS (docs/protocol.md, Telemetry).
export { DestinationWindows } from './destination-window.js';
export type { DestinationWindowsOptions } from './destination-window.js';
export {
  DEFAULT_MAX_DESTINATIONS,
  DEFAULT_WINDOW_SECONDS,
  OVERFLOW_SERVICE,
  UNROUTED_SERVICE,
} from './window-contents.js';
export type {
  SecondCounts,
  SeriesContents,
  WindowContents,
  WindowSummary,
} from './window-contents.js';
export { GRPC_SERVER_ERROR_STATUSES, isSuccessful } from './success-class.js';
export { DEFAULT_SUMMARY_INTERVAL_MS, SummaryPublisher } from './summary-publisher.js';
export type {
  SummaryPublisherCounters,
  SummaryPublisherLogger,
  SummaryPublisherOptions,
  SummarySource,
} from './summary-publisher.js';
