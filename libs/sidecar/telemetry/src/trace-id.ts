// Finds the trace id of a request in the trace-context headers the mesh propagates (W3C
// traceparent, B3 single header, B3 multi headers) so access-log lines join up with traces.
// Only well-formed, non-zero ids are returned: a malformed header must not leak into logs.

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}(?:-|$)/;
const B3_TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const ALL_ZERO = /^0+$/;

/** The trace id in `headers` (flat name/value pairs, names lower-case), or undefined. */
export function traceIdOf(headers: readonly string[]): string | undefined {
  let traceparent: string | undefined;
  let b3: string | undefined;
  let b3TraceId: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    if (name === 'traceparent') traceparent ??= headers[i + 1];
    else if (name === 'b3') b3 ??= headers[i + 1];
    else if (name === 'x-b3-traceid') b3TraceId ??= headers[i + 1];
  }
  if (traceparent !== undefined) {
    const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
    // Version ff is forbidden by the W3C spec; such a header carries no valid trace.
    if (match && match[1] !== 'ff' && !ALL_ZERO.test(match[2]!)) return match[2];
  }
  if (b3 !== undefined) {
    const id = validB3(b3.trim().split('-', 1)[0]!);
    if (id) return id;
  }
  return b3TraceId === undefined ? undefined : validB3(b3TraceId.trim());
}

function validB3(candidate: string): string | undefined {
  const id = candidate.toLowerCase();
  return B3_TRACE_ID.test(id) && !ALL_ZERO.test(id) ? id : undefined;
}
