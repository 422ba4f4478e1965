// Reads the incoming trace context from any supported header format and writes an attempt's
// context in the formats the Telemetry policy lists. W3C goes through @opentelemetry/core's
// propagator; B3 is ours (b3.ts). Every incoming trace header is replaced, never forwarded.
import type { Propagation } from '@trellis/config';
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
// The two modules themselves, not the package index: the index also loads the SDK's platform
// and resource helpers (and @opentelemetry/semantic-conventions), ~8 ms of every start-up.
import { TraceState } from '@opentelemetry/core/build/src/trace/TraceState.js';
import { W3CTraceContextPropagator } from '@opentelemetry/core/build/src/trace/W3CTraceContextPropagator.js';
import { b3MultiHeaders, formatB3Single, parseB3Multi, parseB3Single } from './b3.js';
import type { IncomingContext } from './incoming-context.js';

const TRACE_HEADERS = new Set([
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
]);

const w3c = new W3CTraceContextPropagator();

/** The first value of `name` in flat name/value pairs (names lower-case). */
export function headerOf(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

const getter: TextMapGetter<readonly string[]> = {
  keys: (headers) => headers.filter((_, i) => i % 2 === 0),
  get: (headers, key) => headerOf(headers, key),
};

const setter: TextMapSetter<string[]> = {
  set: (headers, key, value) => void headers.push(key, value),
};

/**
 * The trace context in `headers` (flat pairs, lower-case names): W3C first, then B3 single,
 * then B3 multi; a malformed header counts as absent. Undefined when none is usable.
 */
export function extractTraceContext(headers: readonly string[]): IncomingContext | undefined {
  if (headerOf(headers, 'traceparent') !== undefined) {
    const context = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, headers, getter));
    if (context) {
      return {
        ids: {
          traceId: context.traceId,
          spanId: context.spanId,
          traceState: context.traceState?.serialize() || undefined,
        },
        sampled: (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
      };
    }
  }
  const single = headerOf(headers, 'b3');
  const fromSingle = single === undefined ? undefined : parseB3Single(single);
  if (fromSingle) return fromSingle;
  return parseB3Multi({
    traceId: headerOf(headers, 'x-b3-traceid'),
    spanId: headerOf(headers, 'x-b3-spanid'),
    sampled: headerOf(headers, 'x-b3-sampled'),
    flags: headerOf(headers, 'x-b3-flags'),
  });
}

export interface OutgoingContext {
  readonly traceId: string;
  /** The span the next hop's span is a child of. */
  readonly spanId: string;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
}

/** Removes every trace header from `headers` (in place). */
export function removeTraceHeaders(headers: string[]): void {
  let write = 0;
  for (let read = 0; read + 1 < headers.length; read += 2) {
    if (TRACE_HEADERS.has(headers[read]!)) continue;
    headers[write++] = headers[read]!;
    headers[write++] = headers[read + 1]!;
  }
  headers.length = write;
}

/** Replaces the trace headers in `headers` with `context`, in each of `formats`. */
export function injectTraceContext(
  headers: string[],
  context: OutgoingContext,
  formats: readonly Propagation[],
): void {
  removeTraceHeaders(headers);
  for (const format of formats) {
    if (format === 'w3c') {
      const spanContext = {
        traceId: context.traceId,
        spanId: context.spanId,
        traceFlags: context.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        traceState:
          context.traceState === undefined ? undefined : new TraceState(context.traceState),
      };
      w3c.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), headers, setter);
    } else if (format === 'b3') {
      headers.push('b3', formatB3Single(context.traceId, context.spanId, context.sampled));
    } else {
      headers.push(...b3MultiHeaders(context.traceId, context.spanId, context.sampled));
    }
  }
}
