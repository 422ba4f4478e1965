// The request path of the sidecar, outermost first. Each layer is one concern in its own file
// under layers/; this list is the one place where their order is decided.
import type { Handler } from './context.js';
import { compose } from './context.js';
import { balanceLayer } from './layers/balance.js';
import { faultLayer } from './layers/fault.js';
import { forwardHandler } from './layers/forward.js';
import { inboundLayer } from './layers/inbound.js';
import { rateLimitLayer } from './layers/rate-limit.js';
import { retryLayer } from './layers/retry.js';
import { routeLayer } from './layers/route.js';
import { timeoutLayer } from './layers/timeout.js';
import type { HostPort } from '@trellis/address';
import type { UpstreamConnector } from './upstream.js';

/** Outbound and edge traffic: routed, balanced and protected by the route's policies. */
export function buildStack(connector: UpstreamConnector): Handler {
  return compose(
    [
      // Pick the route and destination first: every later layer is configured per route.
      routeLayer(),
      // Refuse over-limit requests before they cost anything upstream.
      rateLimitLayer(),
      // Injected delays and aborts behave like a slow or failing service, so they sit
      // outside the timeout and retry layers, which then react to them as to real faults.
      faultLayer(),
      // One deadline for the whole request, retries and backoff included.
      timeoutLayer(),
      // Attempts: retry policy, budget, backoff; turns unretried failures into responses.
      retryLayer(),
      // Per attempt: circuit-breaker admission, endpoint pick, outcome feedback.
      balanceLayer(),
    ],
    forwardHandler(connector),
  );
}

/** Inbound traffic: straight to the local application; failures become proxy answers. */
export function buildInboundStack(connector: UpstreamConnector, app: HostPort): Handler {
  return compose(
    [
      inboundLayer(app),
      // Without a route there is nothing to retry; the layer maps connect failures and resets
      // to their x-trellis-error answers.
      retryLayer(),
    ],
    forwardHandler(connector),
  );
}
