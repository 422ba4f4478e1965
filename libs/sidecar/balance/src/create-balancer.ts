// Balancer factory by algorithm name, the names compiled config uses.
import type { Balancer } from './balancer.js';
import type { EndpointSet } from './endpoint-set.js';
import { BalanceError } from './errors.js';
import { LeastRequestBalancer } from './least-request.js';
import type { MaglevOptions } from './maglev-balancer.js';
import { MaglevBalancer } from './maglev-balancer.js';
import { PeakEwmaBalancer } from './peak-ewma-balancer.js';
import { RoundRobinBalancer } from './round-robin.js';

export const BALANCER_ALGORITHMS = Object.freeze([
  'round-robin',
  'least-request',
  'ewma',
  'consistent-hash',
] as const);

export type BalancerAlgorithm = (typeof BALANCER_ALGORITHMS)[number];

export interface BalancerOptions {
  /** Options of the `consistent-hash` (Maglev) balancer; ignored by the others. */
  readonly maglev?: MaglevOptions;
}

/**
 * A balancer of `algorithm` over `set`. Balancers are cheap and bound to one set: make a new one
 * with each new set (table-based ones build lazily on their first pick).
 * Throws `TRL_BALANCE_UNKNOWN_ALGORITHM` for a name outside BALANCER_ALGORITHMS.
 */
export function createBalancer(
  algorithm: BalancerAlgorithm,
  set: EndpointSet,
  options: BalancerOptions = {},
): Balancer {
  switch (algorithm) {
    case 'round-robin':
      return new RoundRobinBalancer(set);
    case 'least-request':
      return new LeastRequestBalancer(set);
    case 'ewma':
      return new PeakEwmaBalancer(set);
    case 'consistent-hash':
      return new MaglevBalancer(set, options.maglev);
    default:
      throw new BalanceError(
        'TRL_BALANCE_UNKNOWN_ALGORITHM',
        'algorithm',
        `must be one of ${BALANCER_ALGORITHMS.join(', ')} (got ${String(algorithm satisfies never)})`,
      );
  }
}
