// The facts one access-log line reports about a finished request, in the order they are
// written. JSON lines keep a fixed set of keys (null when a value is unknown) so log pipelines
// see one schema; only trace_id is left out when the request has no trace (no tracer ran and no
// trace context came in). The trace id is the one the request was traced and propagated with:
// the incoming one, or the one the sidecar started.
import type { CompletedRequest } from '@trellis/sidecar-proxy';
import { JsonBytes, MAX_JSON_BYTES_PER_UNIT } from './json-bytes.js';
import { extractTraceContext } from './tracing/trace-headers.js';

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
  /** Request body bytes received from the client. */
  readonly bytes_in: number;
  /** Response body bytes sent to the client. */
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

/**
 * The trace id an access line reports for the request: the traced one, or else the one its
 * incoming headers carry as the tracer would read them (B3 64-bit ids widened to 128 bits).
 */
export function accessLogTraceId(completed: CompletedRequest): string | undefined {
  const { request } = completed;
  return request.trace?.traceId ?? extractTraceContext(request.exchange.headers)?.ids?.traceId;
}

/** The end of the line of a request answered on its first attempt without any trouble. */
const PLAIN_ENDING = Buffer.from(
  ',"retried":false,"timed_out":false,"breaker":false,"rate_limited":false' +
    ',"fault_injected":false,"client_aborted":false,"error":null}',
  'latin1',
);

/** Room for the line's keys, punctuation, numbers and booleans (strings apart). */
const FIXED_LINE_BYTES = 1024;

/** Most bytes the JSON line for `completed` can take: every string fully escaped. */
export function accessLogJsonBound(
  completed: CompletedRequest,
  direction: string,
  traceId: string | undefined,
): number {
  const { request } = completed;
  const { exchange, record } = request;
  let units =
    request.requestId.length +
    direction.length +
    (traceId?.length ?? 0) +
    exchange.method.length +
    exchange.authority.length +
    exchange.target.length +
    exchange.protocol.length +
    (completed.grpcStatus?.length ?? 0) +
    (record.endpoint?.length ?? 0) +
    (record.route?.length ?? 0) +
    (record.destination?.length ?? 0) +
    (record.error?.length ?? 0);
  // Each reason also takes its quotes and comma.
  for (const reason of record.retryReasons) units += reason.length + 1;
  return FIXED_LINE_BYTES + MAX_JSON_BYTES_PER_UNIT * units;
}

/**
 * Writes the JSON line for `completed` (no newline) at `out`, which has room for
 * accessLogJsonBound bytes: exactly the UTF-8 of `JSON.stringify(accessLogEntry(…))`, built
 * without the intermediate object or string (the spec holds the two equal on generated requests).
 */
export function writeAccessLogJson(
  completed: CompletedRequest,
  direction: string,
  traceId: string | undefined,
  wallNowMs: number,
  out: JsonBytes,
): void {
  const { request } = completed;
  const { exchange, record } = request;
  const error = record.error;
  writeTimeField(out, Math.round(wallNowMs - completed.durationMs));
  out.raw('","request_id":');
  out.string(request.requestId);
  out.raw(',"direction":');
  out.string(direction);
  if (traceId !== undefined) {
    out.raw(',"trace_id":');
    out.string(traceId);
  }
  const { method, authority, protocol } = exchange;
  if (!METHOD_AUTHORITY.copy(out, method, authority)) {
    const start = out.offset;
    out.raw(',"method":');
    out.string(method);
    out.raw(',"authority":');
    out.string(authority);
    out.raw(',"path":');
    METHOD_AUTHORITY.keep(out, start);
  }
  out.string(exchange.target);
  const { status, grpcStatus } = completed;
  if (!PROTOCOL_STATUS.copy(out, protocol, status, grpcStatus)) {
    const start = out.offset;
    out.raw(',"protocol":');
    out.string(protocol);
    out.raw(',"status":');
    out.number(status);
    out.raw(',"grpc_status":');
    out.optionalString(grpcStatus);
    out.raw(',"duration_ms":');
    PROTOCOL_STATUS.keep(out, start);
  }
  out.raw(jsonMillis(completed.durationMs));
  const clientAborted = completed.outcome === 'client-gone';
  const plain =
    error === undefined &&
    record.attempts <= 1 &&
    record.retryReasons.length === 0 &&
    !record.faultInjected &&
    !clientAborted;
  const { endpoint, route, destination, attempts } = record;
  const { bytesIn, bytesOut } = completed;
  if (plain && PLAIN_REST.copy(out, endpoint, route, destination, attempts, bytesIn, bytesOut))
    return;
  const start = out.offset;
  out.raw(',"upstream":');
  out.optionalString(endpoint);
  out.raw(',"route":');
  out.optionalString(route);
  out.raw(',"destination":');
  out.optionalString(destination);
  out.raw(',"attempts":');
  out.number(attempts);
  out.raw(',"retry_reasons":[');
  const reasons = record.retryReasons;
  for (let i = 0; i < reasons.length; i++) {
    if (i) out.raw(',');
    out.string(reasons[i]!);
  }
  out.raw('],"bytes_in":');
  out.number(bytesIn);
  out.raw(',"bytes_out":');
  out.number(bytesOut);
  if (plain) {
    out.bytes(PLAIN_ENDING);
    PLAIN_REST.keep(out, start);
    return;
  }
  out.raw(',"retried":');
  out.boolean(record.attempts > 1);
  out.raw(',"timed_out":');
  out.boolean(error !== undefined && TIMEOUT_ERRORS.has(error));
  out.raw(',"breaker":');
  out.boolean(error !== undefined && BREAKER_ERRORS.has(error));
  out.raw(',"rate_limited":');
  out.boolean(error === 'rate-limited');
  out.raw(',"fault_injected":');
  out.boolean(record.faultInjected);
  out.raw(',"client_aborted":');
  out.boolean(clientAborted);
  out.raw(',"error":');
  out.optionalString(error);
  out.raw('}');
}

/** The JSON line for `completed` (no newline) as a string: writeAccessLogJson's bytes. */
export function accessLogJson(
  completed: CompletedRequest,
  direction: string,
  wallNowMs: number,
): string {
  const traceId = accessLogTraceId(completed);
  const out = new JsonBytes(
    Buffer.allocUnsafe(accessLogJsonBound(completed, direction, traceId)),
    0,
  );
  writeAccessLogJson(completed, direction, traceId, wallNowMs, out);
  return out.buffer.toString('utf8', 0, out.offset);
}

type RunValue = string | number | undefined;

/**
 * A run of a line's fields as last written: their bytes and the values they were written from.
 * Most lines repeat the previous line's method, authority, status, route and endpoint (the same
 * route hit again), and copying a run's bytes is about twice as fast as encoding it again. A
 * run whose values differ in any way (compared as values: equal strings, equal numbers) is
 * written afresh and kept.
 */
class RepeatedRun {
  readonly #bytes = Buffer.allocUnsafe(RUN_BYTES);
  /** -1: no bytes kept for the values below. */
  #length = -1;
  #a: RunValue;
  #b: RunValue;
  #c: RunValue;
  #d: RunValue;
  #e: RunValue;
  #f: RunValue;

  /**
   * Writes the kept bytes at `out` if they were made from these values. Otherwise takes these
   * values as the run's and returns false: the caller writes the run and then calls keep().
   */
  copy(
    out: JsonBytes,
    a: RunValue,
    b: RunValue,
    c?: RunValue,
    d?: RunValue,
    e?: RunValue,
    f?: RunValue,
  ): boolean {
    if (
      this.#length >= 0 &&
      a === this.#a &&
      b === this.#b &&
      c === this.#c &&
      d === this.#d &&
      e === this.#e &&
      f === this.#f
    ) {
      out.offset += this.#bytes.copy(out.buffer, out.offset, 0, this.#length);
      return true;
    }
    this.#length = -1;
    this.#a = a;
    this.#b = b;
    this.#c = c;
    this.#d = d;
    this.#e = e;
    this.#f = f;
    return false;
  }

  /** Keeps the bytes written at `out` since `start`: the run for the values copy() last took. */
  keep(out: JsonBytes, start: number): void {
    const length = out.offset - start;
    if (length > RUN_BYTES) return;
    out.buffer.copy(this.#bytes, 0, start, out.offset);
    this.#length = length;
  }
}

/** Longest run kept: longer values are rare and are written each time. */
const RUN_BYTES = 512;
/** `,"method":…,"authority":…,"path":` */
const METHOD_AUTHORITY = new RepeatedRun();
/** `,"protocol":…,"status":…,"grpc_status":…,"duration_ms":` */
const PROTOCOL_STATUS = new RepeatedRun();
/** From `,"upstream":` to the end of a plain line (one attempt, no error or flag). */
const PLAIN_REST = new RepeatedRun();

/** The second of the last writeTimeField call and its bytes, `{"time":"` to the milliseconds. */
let cachedSecond = NaN;
let cachedPrefix: Buffer = Buffer.alloc(0);

/**
 * Writes the line's start, `{"time":"` and `new Date(ms).toISOString()`, formatting the date
 * only once per second.
 */
function writeTimeField(out: JsonBytes, ms: number): void {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    cachedPrefix = Buffer.from(`{"time":"${iso.slice(0, -4)}`, 'latin1');
    cachedSecond = second;
  }
  const millis = ms - second * 1000;
  out.bytes(cachedPrefix);
  const buffer = out.buffer;
  let offset = out.offset;
  buffer[offset++] = 0x30 + Math.floor(millis / 100);
  buffer[offset++] = 0x30 + (Math.floor(millis / 10) % 10);
  buffer[offset++] = 0x30 + (millis % 10);
  buffer[offset++] = 0x5a; // Z
  out.offset = offset;
}

/**
 * JSON of the duration rounded to the microsecond, as `jsonNumber(Math.round(ms * 1000) / 1000)`
 * writes it, from integers: printing the double took most of the line's formatting time.
 */
function jsonMillis(ms: number): string {
  const micros = Math.round(ms * 1000);
  if (!(micros >= 0 && micros < Number.MAX_SAFE_INTEGER)) return jsonNumber(micros / 1000);
  const whole = Math.floor(micros / 1000);
  const fraction = micros - whole * 1000;
  if (fraction === 0) return String(whole);
  // Three decimals without their trailing zeros: .5, .05, .005, .25, .125.
  if (fraction % 100 === 0) return `${whole}.${fraction / 100}`;
  if (fraction % 10 === 0) return `${whole}.${fraction < 100 ? '0' : ''}${fraction / 10}`;
  return `${whole}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
}

/** As JSON.stringify writes numbers: NaN and infinities become null. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** The entry for `completed`; `wallNowMs` is the wall-clock time it finished. */
export function accessLogEntry(
  completed: CompletedRequest,
  direction: string,
  wallNowMs: number,
): AccessLogEntry {
  const { request } = completed;
  const { exchange, record } = request;
  const error = record.error;
  const traceId = accessLogTraceId(completed);
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
    bytes_in: completed.bytesIn,
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
