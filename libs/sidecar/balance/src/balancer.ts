// The one balancer interface: pick an endpoint for one request from the set's current candidates.
import type { EndpointState } from './endpoint-state.js';

/**
 * Per-request input to a pick. Callers may reuse one object across requests (set `hashKey` each
 * time) so the hot path allocates nothing.
 */
export interface PickContext {
  /** Value to hash for consistent hashing (e.g. a header); other algorithms ignore it. */
  readonly hashKey?: string | undefined;
  /** Uniform random number in [0, 1); injected so tests are deterministic. */
  random(): number;
}

export interface Balancer {
  /** An endpoint to send the request to, or undefined when the set has no candidate. */
  pick(ctx: PickContext): EndpointState | undefined;
}

/** Index in [0, n) from a random source, clamped so a misbehaving source cannot read past the end. */
export function randomIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}
