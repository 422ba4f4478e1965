// The whole-request deadline: the route's timeout, tightened by a gRPC client's grpc-timeout.
// It covers everything until the response head, retries and backoff included; when it fires,
// the attempt in flight is cancelled and the client gets 504 (or DEADLINE_EXCEEDED).
import type { Layer } from '../context.js';
import { cancel } from '../context.js';
import { getHeader } from '../flat-headers.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';

export function timeoutLayer(): Layer {
  return (next) => (request) => {
    const route = request.route?.route;
    if (!route) return next(request);
    const deadline = request.runtime
      .policies(route)
      .timeouts.begin(request.startedAt, getHeader(request.headers, 'grpc-timeout'));
    request.deadline = deadline;
    if (!Number.isFinite(deadline.deadlineAt)) return next(request);
    const grpc = deadline.overallLimit === 'grpc';
    return new Promise<ProxyResponse>((resolve, reject) => {
      const timer = request.clock.setTimer(deadline.deadlineAt - request.clock.now(), () => {
        cancel(request, grpc ? 'grpc-deadline' : 'request-timeout');
        request.record.error = grpc ? 'grpc-deadline-exceeded' : 'request-timeout';
        resolve(
          localResponse(
            grpc ? 'TRL_GRPC_DEADLINE_EXCEEDED' : 'TRL_REQUEST_TIMEOUT',
            `${grpc ? 'grpc-timeout' : `route ${route.id} timeout`} expired`,
          ),
        );
      });
      next(request).then(
        (response) => {
          timer.cancel();
          if (request.cancelled) response.body?.discard();
          else resolve(response);
        },
        (error: unknown) => {
          timer.cancel();
          reject(error);
        },
      );
    });
  };
}
