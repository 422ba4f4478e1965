// @trellis/control-plane-telemetry: the control plane's side of telemetry summaries
// (docs/protocol.md, Telemetry) — subscribe, validate, keep the latest per sidecar, roll up per
// service and into the service graph, and serve it on the HTTP API.
export {
  DEFAULT_MAX_SIDECARS,
  DEFAULT_TELEMETRY_EXPIRY_MS,
  TelemetryAggregator,
} from './telemetry-aggregator.js';
export type {
  EdgeTelemetry,
  ServiceTelemetry,
  TelemetryAggregatorOptions,
  TelemetryLogger,
  TelemetryRejectCode,
  TelemetryView,
} from './telemetry-aggregator.js';
export { subscribeTelemetry } from './telemetry-subscriber.js';
export { TELEMETRY_PATH, telemetryRoutes } from './telemetry-routes.js';
