// B3 trace-context headers (openzipkin/b3-propagation), single (`b3`) and multi (`x-b3-*`):
// no installed package implements them. Ids are lower-case hex; 64-bit trace ids are widened
// to 128 bits (left zero-padded) as OpenTelemetry requires. Malformed headers are ignored.
import type { IncomingContext } from './incoming-context.js';

const TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

function traceIdOf(value: string): string | undefined {
  const id = value.toLowerCase();
  if (!TRACE_ID.test(id) || ALL_ZERO.test(id)) return undefined;
  return id.padStart(32, '0');
}

function spanIdOf(value: string): string | undefined {
  const id = value.toLowerCase();
  return SPAN_ID.test(id) && !ALL_ZERO.test(id) ? id : undefined;
}

/** `1`/`d` (debug) accept, `0` deny; anything else is malformed. */
function singleSampling(value: string): boolean | undefined | 'malformed' {
  if (value === '1' || value === 'd') return true;
  if (value === '0') return false;
  return 'malformed';
}

/**
 * `{traceId}-{spanId}[-{sampling}[-{parentSpanId}]]`, or a sampling decision alone (`0`, `1`,
 * `d`). Undefined when malformed.
 */
export function parseB3Single(header: string): IncomingContext | undefined {
  const parts = header.trim().split('-');
  if (parts.length === 1) {
    const sampled = singleSampling(parts[0]!);
    return sampled === 'malformed' ? undefined : { ids: undefined, sampled };
  }
  if (parts.length > 4) return undefined;
  const traceId = traceIdOf(parts[0]!);
  const spanId = spanIdOf(parts[1]!);
  if (!traceId || !spanId) return undefined;
  let sampled: boolean | undefined;
  if (parts.length >= 3) {
    const decision = singleSampling(parts[2]!);
    if (decision === 'malformed') return undefined;
    sampled = decision;
  }
  if (parts.length === 4 && !spanIdOf(parts[3]!)) return undefined;
  return { ids: { traceId, spanId, traceState: undefined }, sampled };
}

export interface B3MultiHeaders {
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  readonly sampled: string | undefined;
  readonly flags: string | undefined;
}

/**
 * X-B3-TraceId + X-B3-SpanId (both or neither), X-B3-Sampled (`1`/`0`; legacy `true`/`false`),
 * X-B3-Flags `1` (debug, implies sampled). X-B3-ParentSpanId is not needed to continue a trace.
 */
export function parseB3Multi(headers: B3MultiHeaders): IncomingContext | undefined {
  let sampled: boolean | undefined;
  if (headers.flags?.trim() === '1') sampled = true;
  else if (headers.sampled !== undefined) {
    const value = headers.sampled.trim().toLowerCase();
    if (value === '1' || value === 'true') sampled = true;
    else if (value === '0' || value === 'false') sampled = false;
    else return undefined;
  }
  if (headers.traceId === undefined && headers.spanId === undefined) {
    return sampled === undefined ? undefined : { ids: undefined, sampled };
  }
  const traceId = headers.traceId === undefined ? undefined : traceIdOf(headers.traceId.trim());
  const spanId = headers.spanId === undefined ? undefined : spanIdOf(headers.spanId.trim());
  if (!traceId || !spanId) return undefined;
  return { ids: { traceId, spanId, traceState: undefined }, sampled };
}

export function formatB3Single(traceId: string, spanId: string, sampled: boolean): string {
  return `${traceId}-${spanId}-${sampled ? '1' : '0'}`;
}

export function b3MultiHeaders(traceId: string, spanId: string, sampled: boolean): string[] {
  return ['x-b3-traceid', traceId, 'x-b3-spanid', spanId, 'x-b3-sampled', sampled ? '1' : '0'];
}
