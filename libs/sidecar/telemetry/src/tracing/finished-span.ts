// A sampled span as MeshTracer makes it on the proxy's thread: plain data, which the export
// worker (otlp-export-worker.ts) turns into an OpenTelemetry SDK span with these ids and times.
import type { Attributes, SpanKind, SpanStatus } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { randomHexId } from './random-ids.js';

export interface FinishedSpan {
  name: string;
  readonly kind: SpanKind;
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for the root of a trace. */
  readonly parentSpanId: string | undefined;
  /** The parent is the caller's span (from the request's trace headers). */
  readonly parentIsRemote: boolean;
  /** W3C tracestate of the trace, serialised. */
  readonly traceState: string | undefined;
  /** Epoch milliseconds (spanTimeNow), so that another thread reads them the same. */
  readonly startTime: number;
  endTime: number;
  readonly attributes: Attributes;
  status: SpanStatus | undefined;
}

/** A span starting now, with a new span id; its end time and status are set when it ends. */
export function startFinishedSpan(
  start: Pick<
    FinishedSpan,
    'name' | 'kind' | 'traceId' | 'parentSpanId' | 'parentIsRemote' | 'traceState' | 'attributes'
  >,
): FinishedSpan {
  // Every field written out: V8 (Node 20) builds `{ ...start, more }` on a slow path, some
  // 3 µs per span, and the maps it makes cost every other request too (docs/benchmarks.md).
  return {
    name: start.name,
    kind: start.kind,
    traceId: start.traceId,
    parentSpanId: start.parentSpanId,
    parentIsRemote: start.parentIsRemote,
    traceState: start.traceState,
    attributes: start.attributes,
    spanId: randomHexId(8),
    startTime: spanTimeNow(),
    endTime: 0,
    status: undefined,
  };
}

/** Epoch milliseconds to the microsecond: the monotonic clock counted from the process's start. */
export function spanTimeNow(): number {
  return performance.timeOrigin + performance.now();
}
