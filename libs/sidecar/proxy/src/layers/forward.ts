// The innermost handler: sends one attempt to the endpoint the balance layer picked, over the
// destination's protocol, streaming the request body and resolving at the response head. The
// per-try timeout and outer cancellation abort the call.
import type { Protocol } from '@trellis/config';
import type { Handler, ProxyRequest } from '../context.js';
import { getHeader } from '../flat-headers.js';
import { UpstreamBody } from '../response.js';
import type { ProxyResponse } from '../response.js';
import { UpstreamError } from '../upstream.js';
import type { UpstreamCall, UpstreamConnector, UpstreamHandler } from '../upstream.js';

/**
 * Whether trailers may follow the body. Announcing them (Trailer, gRPC) is optional: HTTP/2 may
 * send trailers on any response, HTTP/1.1 on any chunked one (a body without Content-Length).
 */
function mayHaveTrailers(protocol: Protocol, headers: readonly string[]): boolean {
  if (protocol !== 'http1') return true;
  const type = getHeader(headers, 'content-type');
  return (
    (type !== undefined && type.startsWith('application/grpc')) ||
    getHeader(headers, 'trailer') !== undefined ||
    getHeader(headers, 'content-length') === undefined
  );
}

/** Gives the request body to `call`, or to a wrapper of it (the mirror layer's body tap). */
export type BodyTap = (request: ProxyRequest, call: UpstreamCall) => UpstreamCall;

export function forwardHandler(connector: UpstreamConnector, bodyTap?: BodyTap): Handler {
  return (request) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      const upstream = request.upstream;
      if (!upstream) {
        reject(
          new Error(
            'forward reached without an upstream: the balance or inbound layer must run first',
          ),
        );
        return;
      }
      const endpointId = `${upstream.address}:${upstream.port}`;
      const headers = request.headers.slice();
      headers.push('x-trellis-attempt', String(request.attempt));
      const span = request.trace?.startAttempt(request, headers);
      const body = new UpstreamBody();
      if (span)
        body.whenDone((outcome) => span.end(outcome === 'upstream-error' ? 'reset' : undefined));
      let settled = false;
      const settle = () => {
        settled = true;
        timer?.cancel();
        if (request.onCancel === onCancel) request.onCancel = undefined;
      };
      const handler: UpstreamHandler = {
        onResponseHead(status, responseHeaders) {
          if (settled) return;
          settle();
          span?.response(status, responseHeaders);
          resolve({
            status,
            headers: responseHeaders,
            body,
            trailers: mayHaveTrailers(upstream.protocol, responseHeaders),
            error: undefined,
            endpoint: endpointId,
          });
        },
        onData: (chunk) => body.push(chunk),
        onEnd: (trailers) => {
          span?.trailers(trailers);
          body.end(trailers);
        },
        onError(error) {
          if (settled) {
            body.fail(error);
            return;
          }
          settle();
          span?.end(error.failure);
          reject(error);
        },
      };
      const call = connector.request(
        upstream,
        {
          method: request.exchange.method,
          target: request.upstreamTarget,
          authority: request.upstreamAuthority,
          headers,
          hasBody: request.exchange.hasBody,
        },
        handler,
      );
      body.bind(call);
      const fail = (error: UpstreamError) => {
        if (settled) return;
        settle();
        call.abort();
        request.body?.detach();
        span?.end(error.failure);
        reject(error);
      };
      const onCancel = () =>
        fail(new UpstreamError('reset', `request cancelled (${request.cancelled})`));
      request.onCancel = onCancel;
      const timer = Number.isFinite(request.attemptDeadlineAt)
        ? request.clock.setTimer(request.attemptDeadlineAt - request.clock.now(), () =>
            fail(
              new UpstreamError(
                'per-try-timeout',
                `no response from ${endpointId} within the per-try timeout`,
              ),
            ),
          )
        : undefined;
      if (request.body) request.body.attach(bodyTap ? bodyTap(request, call) : call);
    });
}
