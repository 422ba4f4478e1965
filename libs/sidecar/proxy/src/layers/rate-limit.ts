// Local rate limiting: a token bucket per route (RateLimit with `route`) and per destination
// service (RateLimit with `service`). An empty bucket answers 429 with Retry-After at once,
// before any upstream work.
import { retryAfterSeconds } from '@trellis/sidecar-resilience';
import type { TokenBucket } from '@trellis/sidecar-resilience';
import type { Layer, ProxyRequest } from '../context.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';

function take(
  request: ProxyRequest,
  limit: { bucket: TokenBucket; status: number } | undefined,
  what: string,
): ProxyResponse | undefined {
  if (!limit) return undefined;
  const result = limit.bucket.tryTake();
  if (result.allowed) return undefined;
  request.record.error = 'rate-limited';
  return localResponse('TRL_RATE_LIMITED', `rate limit of ${what} exceeded`, {
    status: limit.status,
    headers: ['retry-after', String(retryAfterSeconds(result.retryAfterMs))],
  });
}

export function rateLimitLayer(): Layer {
  return (next) => (request) => {
    const route = request.route?.route;
    const limited =
      (route && take(request, request.runtime.policies(route).rateLimit, route.id)) ||
      (request.destination &&
        take(
          request,
          request.runtime.cluster(request.destination.key)?.rateLimit,
          request.destination.key,
        ));
    return limited ? Promise.resolve(limited) : next(request);
  };
}
