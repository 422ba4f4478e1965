// Routing: finds the route for the request's authority and path, answers redirects and direct
// responses itself, and for forwarding routes picks the weighted destination, rewrites the
// target and applies the route's header edits on the way in and out.
import {
  pickDestination,
  redirectLocation,
  rewriteTarget,
  splitAuthority,
} from '@trellis/sidecar-routing';
import type { Layer } from '../context.js';
import { applyHeaderEdits, getHeader } from '../flat-headers.js';
import { FixedBody, localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';

export function routeLayer(): Layer {
  // Not async: a forwarded request passes through without a promise of this layer's own.
  return (next) => (request) => {
    const { exchange } = request;
    const found = request.runtime.routes.lookup({
      authority: exchange.authority,
      target: exchange.target,
      method: exchange.method,
      protocol: exchange.protocol === 'h2' ? 'h2c' : 'http1',
      header: (name) => getHeader(request.headers, name),
    });
    if (!found) {
      request.record.error = 'no-route';
      return Promise.resolve(
        localResponse(
          'TRL_NO_ROUTE',
          `no route for ${exchange.authority || '(no authority)'}${exchange.target}`,
        ),
      );
    }
    request.route = found;
    const { route } = found;
    request.record.route = route.id;
    const action = route.action;
    if (action.kind === 'direct-response') {
      return answer(
        {
          status: action.status,
          headers: ['content-type', action.contentType],
          body: new FixedBody(Buffer.from(action.body)),
          trailers: false,
          error: undefined,
          endpoint: undefined,
        },
        route.responseHeaders,
      );
    }
    if (action.kind === 'redirect') {
      const { host, port } = splitAuthority(exchange.authority);
      const location = redirectLocation(action, {
        scheme: 'http',
        host,
        port,
        path: found.path,
        query: found.query,
      });
      return answer(
        {
          status: action.status,
          headers: ['location', location, 'content-length', '0'],
          body: undefined,
          trailers: false,
          error: undefined,
          endpoint: undefined,
        },
        route.responseHeaders,
      );
    }
    const destination = pickDestination(action, request.random);
    if (!destination) {
      request.record.error = 'no-healthy-upstream';
      return Promise.resolve(
        localResponse(
          'TRL_NO_HEALTHY_UPSTREAM',
          `route ${route.id} has no destination with weight`,
        ),
      );
    }
    request.destination = destination.target;
    request.record.destination = destination.target.key;
    request.upstreamTarget = rewriteTarget(action, found.path, found.query);
    if (action.hostRewrite) request.upstreamAuthority = action.hostRewrite;
    applyHeaderEdits(request.headers, route.requestHeaders);
    const edits = route.responseHeaders;
    return edits
      ? next(request).then((response) => withResponseEdits(response, edits))
      : next(request);
  };
}

/** A response of the route itself (redirect, direct response), with its header edits. */
function answer(
  response: ProxyResponse,
  edits: Parameters<typeof applyHeaderEdits>[1],
): Promise<ProxyResponse> {
  return Promise.resolve(withResponseEdits(response, edits));
}

function withResponseEdits(
  response: ProxyResponse,
  edits: Parameters<typeof applyHeaderEdits>[1],
): ProxyResponse {
  if (edits && response.error === undefined) applyHeaderEdits(response.headers, edits);
  return response;
}
