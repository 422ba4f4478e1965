// @trellis/sidecar-routing: host/path/header routing over a compiled, frozen table.
export type { RedirectRequest } from './actions.js';
export { pickDestination, redirectLocation, rewriteTarget } from './actions.js';
export type {
  CompiledRoute,
  DirectResponseAction,
  FaultSettings,
  ForwardAction,
  HeaderEdits,
  PathRewrite,
  RedirectAction,
  RetrySettings,
  RouteAction,
  ServicePortRef,
  WeightedDestination,
} from './compiled-route.js';
export { CLUSTER_DOMAIN, serviceHostNames, splitAuthority } from './hosts.js';
export { shadowAuthority, shouldMirror } from './mirror.js';
export { matchesPathPrefix, normalizePath, splitTarget } from './path.js';
export type { RequestView } from './request-view.js';
export type { RouteLookup, RouteTableOptions } from './route-table.js';
export { RouteTable } from './route-table.js';
