// Live per-endpoint state: in-flight count, RTT estimate, outlier state and outcome totals. One
// object per endpoint id, handed from set to set on rebuild so a discovery update resets neither
// ejections nor in-flight counts; `owner` always points at the newest set holding it, so a lease
// started on an older set settles into the current one.
import type { Endpoint } from './endpoint.js';
import type { LeaseResult } from './lease.js';
import { OutlierState } from './outlier-detector.js';
import { PeakEwma } from './peak-ewma.js';

/** Receives finished requests; implemented by the owning EndpointSet. */
export interface LeaseSettler {
  settle(endpoint: EndpointState, result: LeaseResult): void;
}

export class EndpointState {
  #endpoint: Endpoint;
  #owner: LeaseSettler;
  #active = 0;
  #successes = 0;
  #failures = 0;
  readonly ewma: PeakEwma;
  readonly outlier = new OutlierState();

  /** Created by EndpointSet only. */
  constructor(endpoint: Endpoint, owner: LeaseSettler, defaultRttMs: number, now: number) {
    this.#endpoint = endpoint;
    this.#owner = owner;
    this.ewma = new PeakEwma(defaultRttMs, now);
  }

  get id(): string {
    return this.#endpoint.id;
  }

  /** The discovery record from the newest set holding this endpoint. */
  get endpoint(): Endpoint {
    return this.#endpoint;
  }

  get weight(): number {
    return this.#endpoint.weight;
  }

  /** Requests started and not yet ended. */
  get active(): number {
    return this.#active;
  }

  get successes(): number {
    return this.#successes;
  }

  get failures(): number {
    return this.#failures;
  }

  get ejected(): boolean {
    return this.outlier.ejectedUntil !== undefined;
  }

  /** The set that settles this endpoint's leases. */
  get owner(): LeaseSettler {
    return this.#owner;
  }

  /** @internal Called by EndpointSet when a rebuilt set takes this state over. */
  adopt(endpoint: Endpoint, owner: LeaseSettler): void {
    this.#endpoint = endpoint;
    this.#owner = owner;
  }

  /** @internal Called by EndpointSet.start. */
  begin(): void {
    this.#active++;
  }

  /** @internal Called by the owning set when a lease ends: in-flight count and totals. */
  finish(success: boolean): void {
    if (this.#active > 0) this.#active--;
    if (success) this.#successes++;
    else this.#failures++;
  }
}
