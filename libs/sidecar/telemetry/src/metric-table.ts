// Every Prometheus metric the sidecar exports, listed once (as Envoy's ALL_*_STATS): name,
// help, type and labels. Labels carry only config-bounded values (listener, route id,
// destination key, status class, error and retry-reason enums): never paths, endpoint IPs or
// request ids, which would grow without bound.

export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
}

export const SIDECAR_METRICS = {
  requests: {
    name: 'trellis_requests_total',
    help: 'Requests completed, by listener, route, destination, status class and grpc-status.',
    type: 'counter',
    labels: ['direction', 'route', 'destination', 'code_class', 'grpc_status'],
  },
  requestDuration: {
    name: 'trellis_request_duration_seconds',
    help: 'Time from request arrival to the last response byte, in seconds.',
    type: 'histogram',
    labels: ['direction', 'route', 'destination'],
  },
  retries: {
    name: 'trellis_retries_total',
    help: 'Retries sent, by destination and the reason the previous attempt was retried.',
    type: 'counter',
    labels: ['destination', 'reason'],
  },
  localResponses: {
    name: 'trellis_local_responses_total',
    help: 'Responses made by the proxy itself, by x-trellis-error value.',
    type: 'counter',
    labels: ['direction', 'error'],
  },
  rateLimited: {
    name: 'trellis_rate_limited_total',
    help: 'Requests refused by a local rate limit.',
    type: 'counter',
    labels: ['route'],
  },
  overloaded: {
    name: 'trellis_overloaded_total',
    help: 'Requests refused because a circuit-breaker limit of the destination was reached.',
    type: 'counter',
    labels: ['destination'],
  },
  faultsInjected: {
    name: 'trellis_faults_injected_total',
    help: 'Requests delayed or aborted by fault injection.',
    type: 'counter',
    labels: ['route'],
  },
  bytesSent: {
    name: 'trellis_bytes_sent_total',
    help: 'Response body bytes sent to clients.',
    type: 'counter',
    labels: ['direction'],
  },
  bytesReceived: {
    name: 'trellis_bytes_received_total',
    help: 'Request body bytes received from clients.',
    type: 'counter',
    labels: ['direction'],
  },
  clientAborts: {
    name: 'trellis_client_aborts_total',
    help: 'Responses cut short because the client went away.',
    type: 'counter',
    labels: ['direction'],
  },
  labelOverflow: {
    name: 'trellis_metric_label_overflow_total',
    help: 'Observations folded into __overflow__ labels because a metric hit its label-set cap.',
    type: 'counter',
    labels: ['metric'],
  },
  accessLogDropped: {
    name: 'trellis_access_log_dropped_lines_total',
    help: 'Access-log lines dropped because stdout could not take them (16 MiB behind, or failed).',
    type: 'counter',
    labels: [],
  },
  endpointEjected: {
    name: 'trellis_endpoint_ejected',
    help: 'Endpoints of the destination currently ejected by outlier detection.',
    type: 'gauge',
    labels: ['destination'],
  },
  activeRequests: {
    name: 'trellis_active_requests',
    help: 'Requests to the destination in flight now (circuit-breaker active-requests slots).',
    type: 'gauge',
    labels: ['destination'],
  },
  endpointEjections: {
    name: 'trellis_endpoint_ejections_total',
    help: "Outlier-detection ejections of the destination's endpoints (those still in the config).",
    type: 'counter',
    labels: ['destination'],
  },
  breakerOpens: {
    name: 'trellis_breaker_opens_total',
    help: "Times the destination's consecutive-failure breaker opened.",
    type: 'counter',
    labels: ['destination'],
  },
  downstreamConnections: {
    name: 'trellis_downstream_connections',
    help: 'Client connections open now on the listener (HTTP/1.1, HTTP/2 and upgraded tunnels).',
    type: 'gauge',
    labels: ['direction'],
  },
  downstreamStreams: {
    name: 'trellis_downstream_streams',
    help: 'HTTP/2 streams open now on the listener.',
    type: 'gauge',
    labels: ['direction'],
  },
  configVersion: {
    name: 'trellis_config_version',
    help: 'Version of the config snapshot in force (0 before the first).',
    type: 'gauge',
    labels: [],
  },
  configInfo: {
    name: 'trellis_config_info',
    help: 'Always 1; the hash label names the config snapshot in force.',
    type: 'gauge',
    labels: ['hash'],
  },
} as const satisfies Record<string, MetricSpec>;

export type SidecarMetricKey = keyof typeof SIDECAR_METRICS;

/** Duration buckets in seconds: sub-millisecond local answers up to long upstream calls. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  30,
];

/** Label value that replaces route/destination once a metric holds its cap of label sets. */
export const OVERFLOW_LABEL = '__overflow__';

/** Default cap of distinct label sets per metric. */
export const DEFAULT_MAX_LABEL_SETS = 2_000;
