// Fault injection for resilience testing: delays and aborts a share of a route's requests,
// as configured. The delay runs on the request's clock; an abort answers without forwarding.
import type { FaultDecision } from '@trellis/sidecar-resilience';
import type { Handler, Layer, ProxyRequest } from '../context.js';
import { localResponse } from '../response.js';
import type { ProxyResponse } from '../response.js';

export function faultLayer(): Layer {
  return (next) => (request) => {
    const route = request.route?.route;
    const injector = route && request.runtime.policies(route).fault;
    // Routes without faults pass straight through, allocating nothing.
    if (!injector) return next(request);
    return injectFault(next, request, injector.decide());
  };
}

async function injectFault(
  next: Handler,
  request: ProxyRequest,
  decision: FaultDecision,
): Promise<ProxyResponse> {
  if (decision.delayMs > 0) {
    request.record.faultInjected = true;
    await new Promise<void>((resolve) => request.clock.setTimer(decision.delayMs, resolve));
  }
  if (!decision.abort) return next(request);
  request.record.faultInjected = true;
  request.record.error = 'fault-injected';
  return localResponse('TRL_FAULT_INJECTED', 'fault injected by route policy', {
    status: decision.abort.httpStatus,
    grpcStatus: decision.abort.grpcStatus,
  });
}
