// @trellis/sidecar-proxy: the sidecar's data plane — listeners, the layer stack, upstream
// connectors, the runtime built from config, and the Sidecar that ties them together.
export type { Cancellation, Handler, Layer, ProxyRequest, RequestRecord } from './context.js';
export { compose } from './context.js';
export { PoolConnector } from './connectors.js';
export type { DownstreamExchange, RequestBodyReader, ResponseWriter } from './exchange.js';
export type { FlatHeaders } from './flat-headers.js';
export type { ListenerEvents, ListenerLimits } from './listener.js';
export { ProxyListener, defaultListenerLimits } from './listener.js';
export type { CompletedRequest, ProxyOptions } from './proxy.js';
export { Proxy } from './proxy.js';
export type { ProxyResponse, ResponseBody } from './response.js';
export type { Cluster, ClusterSettings, RoutePolicies, RuntimeOptions } from './runtime.js';
export { ProxyRuntime } from './runtime.js';
export type { ListenerStats, Logger, SidecarOptions, SidecarRole } from './sidecar.js';
export { Sidecar, trellisErrorValues } from './sidecar.js';
export { buildInboundStack, buildStack } from './stack.js';
export type { AttemptTrace, RequestTrace, RequestTracer } from './tracing.js';
export { SIDECAR_COUNTERS, SidecarStats } from './stats.js';
export type {
  UpstreamCall,
  UpstreamConnector,
  UpstreamHandler,
  UpstreamHead,
  UpstreamTarget,
} from './upstream.js';
export { UpstreamError } from './upstream.js';
