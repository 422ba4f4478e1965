// The facts one access-log line reports about a finished request, in the order they are
// written. JSON lines keep a fixed set of keys (null when a value is unknown) so log pipelines
// see one schema; only trace_id is left out when the request carried no trace context.
import type { CompletedRequest } from '@trellis/sidecar-proxy';
import { traceIdOf } from './trace-id.js';

export interface AccessLogEntry {
  /** Wall-clock time the request arrived, ISO 8601. */
  readonly time: string;
  readonly request_id: string;
  /** Listener the request came in on: outbound, inbound or gateway. */
  readonly direction: string;
  readonly trace_id?: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly protocol: string;
  readonly status: number;
  readonly grpc_status: string | null;
  readonly duration_ms: number;
  /** Endpoint of the last attempt. */
  readonly upstream: string | null;
  readonly route: string | null;
  readonly destination: string | null;
  readonly attempts: number;
  readonly retry_reasons: readonly string[];
  readonly bytes_out: number;
  readonly retried: boolean;
  readonly timed_out: boolean;
  /** A circuit breaker refused the request (limit reached or endpoint shut off). */
  readonly breaker: boolean;
  readonly rate_limited: boolean;
  readonly fault_injected: boolean;
  readonly client_aborted: boolean;
  /** The x-trellis-error value when the proxy answered itself. */
  readonly error: string | null;
}

const TIMEOUT_ERRORS: ReadonlySet<string> = new Set([
  'request-timeout',
  'per-try-timeout',
  'grpc-deadline-exceeded',
]);
const BREAKER_ERRORS: ReadonlySet<string> = new Set(['overloaded', 'circuit-open']);

/** The entry for `completed`; `wallNowMs` is the wall-clock time it finished. */
export function accessLogEntry(
  completed: CompletedRequest,
  direction: string,
  wallNowMs: number,
): AccessLogEntry {
  const { request } = completed;
  const { exchange, record } = request;
  const error = record.error;
  const traceId = traceIdOf(exchange.headers);
  return {
    // Request clocks are monotonic, so the start is derived from the wall clock at the end.
    time: new Date(Math.round(wallNowMs - completed.durationMs)).toISOString(),
    request_id: request.requestId,
    direction,
    ...(traceId === undefined ? {} : { trace_id: traceId }),
    method: exchange.method,
    authority: exchange.authority,
    path: exchange.target,
    protocol: exchange.protocol,
    status: completed.status,
    grpc_status: completed.grpcStatus ?? null,
    duration_ms: Math.round(completed.durationMs * 1000) / 1000,
    upstream: record.endpoint ?? null,
    route: record.route ?? null,
    destination: record.destination ?? null,
    attempts: record.attempts,
    retry_reasons: [...record.retryReasons],
    bytes_out: completed.bytesOut,
    retried: record.attempts > 1,
    timed_out: error !== undefined && TIMEOUT_ERRORS.has(error),
    breaker: error !== undefined && BREAKER_ERRORS.has(error),
    rate_limited: error === 'rate-limited',
    fault_injected: record.faultInjected,
    client_aborted: completed.outcome === 'client-gone',
    error: error ?? null,
  };
}
