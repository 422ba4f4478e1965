// The state of one request as it passes through the layers, and the layer types. A request
// keeps the runtime (config version) it started with, whatever swaps happen meanwhile.
import type { EndpointState } from '@trellis/sidecar-balance';
import type { RequestDeadline } from '@trellis/sidecar-resilience';
import type { Clock } from '@trellis/time';
import type { RouteLookup, ServicePortRef } from '@trellis/sidecar-routing';
import type { DownstreamExchange } from './exchange.js';
import type { FlatHeaders } from './flat-headers.js';
import type { RequestBodyFeed } from './request-body.js';
import type { RequestTrace } from './tracing.js';
import type { ProxyResponse } from './response.js';
import type { ProxyRuntime } from './runtime.js';
import type { UpstreamTarget } from './upstream.js';

/** Facts about one request, for access logs, metrics and spans. */
export interface RequestRecord {
  route: string | undefined;
  destination: string | undefined;
  endpoint: string | undefined;
  attempts: number;
  retryReasons: string[];
  /** Set by the layer that answered locally, e.g. `rate-limited`. */
  error: string | undefined;
  faultInjected: boolean;
}

export interface ProxyRequest {
  readonly exchange: DownstreamExchange;
  readonly runtime: ProxyRuntime;
  readonly clock: Clock;
  readonly random: () => number;
  readonly startedAt: number;
  readonly requestId: string;
  /** Forwardable headers; layers edit them before the forward layer sends them. */
  readonly headers: FlatHeaders;
  readonly record: RequestRecord;
  route: RouteLookup | undefined;
  destination: ServicePortRef | undefined;
  /** Request target and authority to send upstream (after rewrites). */
  upstreamTarget: string;
  upstreamAuthority: string;
  body: RequestBodyFeed | undefined;
  /** The request's deadlines, set by the timeout layer. */
  deadline: RequestDeadline | undefined;
  /** The endpoint the current attempt goes to, set by the balance layer (outbound only). */
  endpoint: EndpointState | undefined;
  /** Where the current attempt is sent: set by the balance layer, or fixed for inbound. */
  upstream: UpstreamTarget | undefined;
  /** 1 for the first try; the retry layer increments it. */
  attempt: number;
  /** When the current attempt must end (clock ms; Infinity: no per-attempt limit). */
  attemptDeadlineAt: number;
  /** Set when an outer layer gave up on the request (timeout, client gone). */
  cancelled: Cancellation | undefined;
  /** Called once if the request is cancelled; the attempt in flight sets it (one at a time). */
  onCancel: ((reason: Cancellation) => void) | undefined;
  /** Set by the proxy when a tracer is configured; the forward layer opens attempts on it. */
  trace: RequestTrace | undefined;
}

export type Cancellation = 'request-timeout' | 'grpc-deadline' | 'client-gone';

/** A request as it enters the layers: nothing routed, picked or attempted yet. */
export function newProxyRequest(init: {
  readonly exchange: DownstreamExchange;
  readonly runtime: ProxyRuntime;
  readonly clock: Clock;
  readonly random: () => number;
  readonly requestId: string;
  readonly headers: FlatHeaders;
  readonly body: RequestBodyFeed | undefined;
}): ProxyRequest {
  const { exchange } = init;
  return {
    exchange,
    runtime: init.runtime,
    clock: init.clock,
    random: init.random,
    startedAt: init.clock.now(),
    requestId: init.requestId,
    headers: init.headers,
    record: {
      route: undefined,
      destination: undefined,
      endpoint: undefined,
      attempts: 0,
      retryReasons: [],
      error: undefined,
      faultInjected: false,
    },
    route: undefined,
    destination: undefined,
    upstreamTarget: exchange.target,
    upstreamAuthority: exchange.authority,
    body: init.body,
    deadline: undefined,
    endpoint: undefined,
    upstream: undefined,
    attempt: 1,
    attemptDeadlineAt: Infinity,
    cancelled: undefined,
    onCancel: undefined,
    trace: undefined,
  };
}

export function cancel(request: ProxyRequest, reason: Cancellation): void {
  if (request.cancelled) return;
  request.cancelled = reason;
  request.onCancel?.(reason);
}

export type Handler = (request: ProxyRequest) => Promise<ProxyResponse>;
export type Layer = (next: Handler) => Handler;

/** Composes layers outermost first: `compose([a, b], h)` is `a(b(h))`. */
export function compose(layers: readonly Layer[], inner: Handler): Handler {
  return layers.reduceRight((next, layer) => layer(next), inner);
}
