// The request path of the sidecar, outermost first. Each layer is one concern in its own file
// under layers/; this list is the one place where their order is decided.
import type { HostPort } from '@trellis/address';
import type { Handler, Layer } from './context.js';
import { compose } from './context.js';
import { balanceLayer } from './layers/balance.js';
import { failureAccrualLayer } from './layers/failure-accrual.js';
import { faultLayer } from './layers/fault.js';
import { forwardHandler } from './layers/forward.js';
import { inboundLayer } from './layers/inbound.js';
import { RequestMirror } from './layers/mirror.js';
import { rateLimitLayer } from './layers/rate-limit.js';
import { retryLayer } from './layers/retry.js';
import { routeLayer } from './layers/route.js';
import { timeoutLayer } from './layers/timeout.js';
import type { SidecarStats } from './stats.js';
import type { UpstreamConnector } from './upstream.js';

export interface StackOptions {
  /** Where the layers count what never reaches a response (mirrored copies): the sidecar's stats. */
  readonly stats?: Pick<SidecarStats, 'increment'>;
  /** Lifetime of a mirrored copy whose route sets no timeout, ms (default 15 s). */
  readonly mirrorTimeoutMs?: number;
}

/** Outbound and edge traffic: routed, balanced and protected by the route's policies. */
export function buildStack(connector: UpstreamConnector, options: StackOptions = {}): Handler {
  const mirror = new RequestMirror({
    connector,
    stats: options.stats,
    defaultTimeoutMs: options.mirrorTimeoutMs,
  });
  const layers: Layer[] = [
    // Pick the route and destination first: every later layer is configured per route.
    routeLayer(),
    // Refuse over-limit requests before they cost anything upstream.
    rateLimitLayer(),
    // Injected delays and aborts behave like a slow or failing service, so they sit
    // outside the timeout and retry layers, which then react to them as to real faults.
    faultLayer(),
    // Shadow copies: once per request (not per attempt), after the route's rewrites and header
    // edits, and only for requests that are really forwarded (not rate-limited or aborted).
    mirror.layer(),
    // One deadline for the whole request, retries and backoff included.
    timeoutLayer(),
    // Attempts: retry policy, budget, backoff; resends never-sent attempts; turns unretried
    // failures into responses.
    retryLayer(),
    // Per attempt and destination: the consecutive-failure breaker (circuit-open) of destinations
    // whose DestinationPolicy has failureAccrual, before the limits and the endpoint pick so an
    // open circuit costs neither (see layers/failure-accrual.ts).
    failureAccrualLayer(),
    // Per attempt: circuit-breaker limits admission, endpoint pick, outcome feedback.
    balanceLayer(),
  ];
  // The mirror learns from the forwarded body's end when a copy's body is complete.
  return compose(layers, forwardHandler(connector, mirror.tapBody));
}

/** Inbound traffic: straight to the local application; failures become proxy answers. */
export function buildInboundStack(connector: UpstreamConnector, app: HostPort): Handler {
  return compose(
    [
      inboundLayer(app),
      // Without a route there is nothing to retry; the layer resends attempts the pool says were
      // never sent and maps connect failures and resets to their x-trellis-error answers.
      retryLayer(),
    ],
    forwardHandler(connector),
  );
}
