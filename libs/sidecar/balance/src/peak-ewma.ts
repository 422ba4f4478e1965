// Peak-EWMA RTT estimate, as tower's `PeakEwma` (used by linkerd2-proxy's balancer) keeps it:
// a slower-than-estimate response replaces the estimate at once (peak sensitivity); a faster one is
// blended in with weight 1 − e^(−Δt/τ); and every read decays the estimate toward zero by
// e^(−Δt/τ) and re-anchors it, so an endpoint that stopped getting traffic because it was slow
// becomes cheap again and is re-probed. Δt is measured from the last read or update.
// One deviation: the first observed RTT replaces the default outright. Tower blends it in like any
// faster sample, and since a read usually just re-anchored the estimate, the placeholder default
// would otherwise outweigh the endpoint's first real measurement.

export class PeakEwma {
  #rttMs: number;
  #anchoredAt: number;
  #samples = 0;

  /** Starts at `defaultRttMs` (as linkerd seeds new endpoints) anchored at `now`. */
  constructor(defaultRttMs: number, now: number) {
    this.#rttMs = defaultRttMs;
    this.#anchoredAt = now;
  }

  /** Number of RTTs observed so far (0: the estimate is still the decaying default). */
  get samples(): number {
    return this.#samples;
  }

  /** Reads the estimate as a balancer does: decays it to `now` and re-anchors (tower's `load()`). */
  read(now: number, decayMs: number): number {
    const elapsed = now - this.#anchoredAt;
    if (elapsed > 0) {
      this.#rttMs *= Math.exp(-elapsed / decayMs);
      this.#anchoredAt = now;
    }
    return this.#rttMs;
  }

  /** The decayed estimate at `now` without re-anchoring, for observers (admin snapshots). */
  peek(now: number, decayMs: number): number {
    const elapsed = now - this.#anchoredAt;
    return elapsed > 0 ? this.#rttMs * Math.exp(-elapsed / decayMs) : this.#rttMs;
  }

  /** Records one observed round-trip time. */
  observe(rttMs: number, now: number, decayMs: number): void {
    if (this.#samples === 0 || this.#rttMs < rttMs) {
      this.#rttMs = rttMs;
    } else {
      const elapsed = Math.max(0, now - this.#anchoredAt);
      const decay = Math.exp(-elapsed / decayMs);
      this.#rttMs = this.#rttMs * decay + rttMs * (1 - decay);
    }
    this.#anchoredAt = now;
    this.#samples++;
  }
}
