// The trace context a request arrived with, whatever header format carried it.

export interface TraceIds {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits: the caller's span, the parent of ours. */
  readonly spanId: string;
  /** W3C tracestate, passed on unchanged (W3C only). */
  readonly traceState: string | undefined;
}

export interface IncomingContext {
  /** Undefined when the caller sent only a sampling decision (B3 `0`, `1`, `d`). */
  readonly ids: TraceIds | undefined;
  /** The caller's decision; undefined when deferred (B3 without a sampling state). */
  readonly sampled: boolean | undefined;
}
