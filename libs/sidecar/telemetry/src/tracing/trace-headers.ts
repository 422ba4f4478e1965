// Reads the incoming trace context from any supported header format and writes an attempt's
// context in the formats the Telemetry policy lists. Every incoming trace header is replaced,
// never forwarded. W3C traceparent is read and written here, with the same rules as
// @opentelemetry/core's propagator (its expression below), whose API goes through an OTel
// Context (a Map copied on each set) on every request; tracestate, rare and intricate, is
// validated by core's TraceState. B3 is ours (b3.ts).
// The module itself, not the package index: the index also loads the SDK's platform and
// resource helpers (and @opentelemetry/semantic-conventions), ~8 ms of every start-up.
import type { Propagation } from '@trellis/config';
import { TraceState } from '@opentelemetry/core/build/src/trace/TraceState.js';
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

/**
 * version (not ff) - trace id (not all zero) - parent id (not all zero) - flags [- future
 * fields, only after a version other than 00], as https://www.w3.org/TR/trace-context/ says.
 */
const TRACEPARENT =
  /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;
/** The sampled bit of the trace flags. */
const SAMPLED_FLAG = 1;

/** The first value of `name` in flat name/value pairs (names lower-case). */
export function headerOf(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

function extractW3c(traceparent: string, tracestate: string | undefined) {
  const match = TRACEPARENT.exec(traceparent);
  if (!match || (match[1] === '00' && match[5] !== undefined)) return undefined;
  return {
    ids: {
      traceId: match[2]!,
      spanId: match[3]!,
      traceState: tracestate ? new TraceState(tracestate).serialize() || undefined : undefined,
    },
    sampled: (parseInt(match[4]!, 16) & SAMPLED_FLAG) === SAMPLED_FLAG,
  };
}

/**
 * The trace context in `headers` (flat pairs, lower-case names): W3C first, then B3 single,
 * then B3 multi; a malformed header counts as absent. Undefined when none is usable.
 */
export function extractTraceContext(headers: readonly string[]): IncomingContext | undefined {
  const traceparent = headerOf(headers, 'traceparent');
  const fromW3c =
    traceparent === undefined
      ? undefined
      : extractW3c(traceparent, headerOf(headers, 'tracestate'));
  if (fromW3c) return fromW3c;
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
      headers.push(
        'traceparent',
        `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`,
      );
      if (context.traceState !== undefined)
        headers.push('tracestate', new TraceState(context.traceState).serialize());
    } else if (format === 'b3') {
      headers.push('b3', formatB3Single(context.traceId, context.spanId, context.sampled));
    } else {
      headers.push(...b3MultiHeaders(context.traceId, context.spanId, context.sampled));
    }
  }
}
