// Telemetry summaries: the sliding per-destination window fed on the request path, and the
// publisher that sends it to the control plane over NATS (docs/protocol.md, Telemetry).
export {
  DEFAULT_MAX_DESTINATIONS,
  DEFAULT_WINDOW_SECONDS,
  DestinationWindows,
  OVERFLOW_SERVICE,
  UNROUTED_SERVICE,
} from './destination-window.js';
export type { DestinationWindowsOptions, WindowSummary } from './destination-window.js';
export { GRPC_SERVER_ERROR_STATUSES, isSuccessful } from './success-class.js';
export { DEFAULT_SUMMARY_INTERVAL_MS, SummaryPublisher } from './summary-publisher.js';
export type {
  SummaryPublisherCounters,
  SummaryPublisherLogger,
  SummaryPublisherOptions,
} from './summary-publisher.js';
