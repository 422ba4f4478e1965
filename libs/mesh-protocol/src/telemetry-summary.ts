// Telemetry summaries (docs/protocol.md, Telemetry): what a sidecar saw over its sliding window,
// per (direction, destination service), plus the service-graph edges it originates. Published on
// `trellis.v1.telemetry.<namespace>.<pod>`; the decoder checks every field so the control plane
// never aggregates a malformed number.
import { ProtocolError } from './errors.js';
import { LATENCY_BUCKET_COUNT } from './latency-buckets.js';
import { array, invalid, object, parse, string } from './messages.js';
import type { Json } from './messages.js';
import { isSubjectToken } from './subjects.js';

export const TELEMETRY_SUMMARY_VERSION = 1;
/** Default bound of a summary (a sidecar with hundreds of destinations stays far below it). */
export const DEFAULT_MAX_TELEMETRY_BYTES = 1024 * 1024;

/** The sidecar a summary comes from; namespace and pod also appear in its subject. */
export interface TelemetrySource {
  readonly namespace: string;
  readonly pod: string;
  /** The service the workload belongs to ('' when it has none, e.g. a gateway). */
  readonly service: string;
}

/** One (direction, destination service) over the window. */
export interface DestinationStats {
  /** The listener: `outbound`, `inbound` or `gateway`. */
  readonly direction: string;
  /** `name.namespace`, or `__unrouted__` / `__overflow__`. */
  readonly service: string;
  readonly requests: number;
  readonly failures: number;
  /** requests / windowSeconds. */
  readonly rps: number;
  /** (requests - failures) / requests. */
  readonly successRate: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Sparse latency histogram (latency-buckets.ts): `[bucket, count, …]`, buckets ascending. */
  readonly latency: readonly number[];
}

/** Requests from one service to another, as seen by the caller's sidecar. */
export interface TelemetryEdge {
  readonly from: string;
  readonly to: string;
  readonly requests: number;
  readonly failures: number;
}

export interface TelemetrySummary {
  readonly v: typeof TELEMETRY_SUMMARY_VERSION;
  readonly proxy: TelemetrySource;
  /** Wall-clock ISO time the summary was made (informational: receivers use their own clock). */
  readonly at: string;
  readonly windowSeconds: number;
  readonly destinations: readonly DestinationStats[];
  readonly edges: readonly TelemetryEdge[];
}

const encoder = new TextEncoder();

export function encodeTelemetrySummary(summary: TelemetrySummary): Uint8Array {
  return encoder.encode(JSON.stringify(summary));
}

function count(obj: Json, field: string, what: string): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    invalid(what, field, `must be a whole number ≥ 0 (got ${JSON.stringify(v)})`);
  return v;
}

function measure(obj: Json, field: string, what: string, max = Number.MAX_VALUE): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)
    invalid(what, field, `must be a number in [0, ${max}] (got ${JSON.stringify(v)})`);
  return v;
}

function entries(obj: Json, field: string, what: string): Json[] {
  return array(obj, field, what).map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      invalid(what, `${field}[${i}]`, 'must be an object');
    return e as Json;
  });
}

function nonEmpty(obj: Json, field: string, what: string): string {
  const v = string(obj, field, what);
  if (v === '') invalid(what, field, 'must not be empty');
  return v;
}

function latency(obj: Json, what: string, requests: number): number[] {
  const pairs = array(obj, 'latency', what);
  if (pairs.length % 2 !== 0) invalid(what, 'latency', 'must hold [bucket, count] pairs');
  let previous = -1;
  let total = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    const bucket = pairs[i];
    const n = pairs[i + 1];
    if (
      typeof bucket !== 'number' ||
      !Number.isInteger(bucket) ||
      bucket <= previous ||
      bucket >= LATENCY_BUCKET_COUNT
    )
      invalid(
        what,
        `latency[${i}]`,
        `must be a bucket in ascending order below ${LATENCY_BUCKET_COUNT}`,
      );
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
      invalid(what, `latency[${i + 1}]`, 'must be a whole count > 0');
    previous = bucket;
    total += n;
  }
  if (total !== requests)
    invalid(what, 'latency', `counts add up to ${total}, not to the ${requests} requests`);
  return pairs as number[];
}

function destination(d: Json, what: string): DestinationStats {
  const requests = count(d, 'requests', what);
  const failures = count(d, 'failures', what);
  if (failures > requests)
    invalid(what, 'failures', `exceeds requests (${failures} > ${requests})`);
  return {
    direction: nonEmpty(d, 'direction', what),
    service: nonEmpty(d, 'service', what),
    requests,
    failures,
    rps: measure(d, 'rps', what),
    successRate: measure(d, 'successRate', what, 1),
    p50Ms: measure(d, 'p50Ms', what),
    p95Ms: measure(d, 'p95Ms', what),
    p99Ms: measure(d, 'p99Ms', what),
    latency: latency(d, what, requests),
  };
}

function edge(e: Json, what: string): TelemetryEdge {
  const requests = count(e, 'requests', what);
  const failures = count(e, 'failures', what);
  if (failures > requests)
    invalid(what, 'failures', `exceeds requests (${failures} > ${requests})`);
  return { from: nonEmpty(e, 'from', what), to: nonEmpty(e, 'to', what), requests, failures };
}

export function decodeTelemetrySummary(
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_TELEMETRY_BYTES,
): TelemetrySummary {
  const what = 'telemetry summary';
  const obj = parse(bytes, what, maxBytes);
  if (obj.v !== TELEMETRY_SUMMARY_VERSION)
    throw new ProtocolError(
      'TRL_PROTO_INVALID',
      `${what}: v: must be ${TELEMETRY_SUMMARY_VERSION} (got ${JSON.stringify(obj.v)})`,
    );
  const p = object(obj, 'proxy', what);
  const namespace = string(p, 'namespace', `${what}.proxy`);
  const pod = string(p, 'pod', `${what}.proxy`);
  if (!isSubjectToken(namespace))
    invalid(what, 'proxy.namespace', `must be a DNS label (got ${JSON.stringify(namespace)})`);
  if (!isSubjectToken(pod))
    invalid(what, 'proxy.pod', `must be a DNS label (got ${JSON.stringify(pod)})`);
  const windowSeconds = count(obj, 'windowSeconds', what);
  if (windowSeconds === 0) invalid(what, 'windowSeconds', 'must be at least 1');
  return {
    v: TELEMETRY_SUMMARY_VERSION,
    proxy: { namespace, pod, service: string(p, 'service', `${what}.proxy`) },
    at: string(obj, 'at', what),
    windowSeconds,
    destinations: entries(obj, 'destinations', what).map((d, i) =>
      destination(d, `${what}.destinations[${i}]`),
    ),
    edges: entries(obj, 'edges', what).map((e, i) => edge(e, `${what}.edges[${i}]`)),
  };
}
