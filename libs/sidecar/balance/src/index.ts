// @trellis/sidecar-balance: endpoint sets, load-balancing algorithms and passive health
// (outlier detection) for the sidecar's per-request endpoint pick. Pure: no sockets, time from an
// injected clock, randomness from the pick context.
export type { Balancer, PickContext } from './balancer.js';
export type { BalancerAlgorithm, BalancerOptions } from './create-balancer.js';
export { BALANCER_ALGORITHMS, createBalancer } from './create-balancer.js';
export type { Endpoint } from './endpoint.js';
export { MAX_WEIGHT, MIN_WEIGHT } from './endpoint.js';
export type { EndpointSetInit, EndpointSnapshot, PoolMode, SetSnapshot } from './endpoint-set.js';
export { EndpointSet } from './endpoint-set.js';
export type { EndpointState } from './endpoint-state.js';
export type { BalanceErrorCode } from './errors.js';
export { BalanceError } from './errors.js';
export type { Lease, LeaseResult } from './lease.js';
export { LeastRequestBalancer } from './least-request.js';
export type { MaglevOptions } from './maglev-balancer.js';
export { DEFAULT_MAGLEV_TABLE_SIZE, MaglevBalancer } from './maglev-balancer.js';
export type { Outcome } from './outlier-detector.js';
export { OUTCOMES, OutlierDetector, OutlierState } from './outlier-detector.js';
export type { BalanceParams, OutlierParams } from './params.js';
export {
  DEFAULT_BALANCE_PARAMS,
  DEFAULT_OUTLIER_PARAMS,
  resolveBalanceParams,
  resolveOutlierParams,
} from './params.js';
export { PeakEwmaBalancer } from './peak-ewma-balancer.js';
export type { PeakEwma } from './peak-ewma.js';
export { RoundRobinBalancer } from './round-robin.js';
