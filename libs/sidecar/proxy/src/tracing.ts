// The hooks a tracer plugs into: one RequestTrace per request (the server-side span and the
// trace context the request carries), one AttemptTrace per forwarded attempt (the client span
// and the trace headers sent upstream). The proxy only calls them; @trellis/sidecar-telemetry
// implements them, so the data plane does not depend on any tracing SDK.
import type { ProxyRequest } from './context.js';
import type { FlatHeaders } from './flat-headers.js';
import type { CompletedRequest } from './proxy.js';

export interface RequestTracer {
  /** Called once per request, before the stack runs; `listener` is the listener's name. */
  startRequest(request: ProxyRequest, listener: string): RequestTrace;
}

export interface RequestTrace {
  /** The trace the request is part of (incoming, or started here): access logs name it. */
  readonly traceId: string;
  /**
   * Called for each forwarded attempt with the headers about to be sent: replaces any trace
   * headers in them with the attempt's context. Undefined when the attempt is not recorded (an
   * unsampled request), so that nothing is kept for it.
   */
  startAttempt(request: ProxyRequest, headers: FlatHeaders): AttemptTrace | undefined;
  /** Called once when the response is written (or the client is gone). */
  end(completed: CompletedRequest): void;
}

export interface AttemptTrace {
  response(status: number, headers: FlatHeaders): void;
  trailers(trailers: FlatHeaders | undefined): void;
  /** Called once: `failure` is the upstream failure kind, undefined when the attempt succeeded. */
  end(failure: string | undefined): void;
}
