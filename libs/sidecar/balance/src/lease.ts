// One in-flight request on one endpoint: `EndpointSet.start` opens it, `end` settles it exactly
// once (active count, RTT estimate, outlier detector); ending twice is a no-op.
import type { EndpointState } from './endpoint-state.js';
import type { Outcome } from './outlier-detector.js';

export interface LeaseResult {
  readonly outcome: Outcome;
  /** Time from sending the request to its outcome, in ms. */
  readonly latencyMs: number;
}

export class Lease {
  readonly endpoint: EndpointState;
  #open = true;

  /** Created by EndpointSet.start only. */
  constructor(endpoint: EndpointState) {
    this.endpoint = endpoint;
  }

  get ended(): boolean {
    return !this.#open;
  }

  /** Settles the request; returns false (and changes nothing) when already ended. */
  end(result: LeaseResult): boolean {
    if (!this.#open) return false;
    this.#open = false;
    this.endpoint.owner.settle(this.endpoint, result);
    return true;
  }
}
