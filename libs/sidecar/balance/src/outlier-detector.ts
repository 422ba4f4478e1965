// Passive health: consecutive-failure outlier ejection after Envoy's OutlierDetection.
// - A '5xx' outcome counts toward `consecutive5xx` and breaks a gateway-error streak; gateway-class
//   outcomes ('gateway-error' = 502/503/504, 'connect-failure', 'reset', 'timeout') count toward
//   both streaks, as Envoy maps local-origin failures to 503/504 when it does not split them.
//   'success' resets both streaks. A streak that reaches its threshold is reset.
// - Ejection lasts baseEjectionTime × multiplier, capped at maxEjectionTime; the multiplier grows
//   by one per ejection until the cap is reached and shrinks by one per `ejectionDecayMs` spent
//   un-ejected (computed lazily from the un-ejection time, so no timers are needed).
// - Max ejection percent, Envoy's documented rule ("will eject at least one host regardless of the
//   value", i.e. `always_eject_one_host`): eject when (ejected + 1) / size ≤ maxEjectionPercent, or
//   when nothing is ejected yet.
import type { OutlierParams } from './params.js';
import { resolveOutlierParams } from './params.js';

/** How a finished request went, as reported to `Lease.end`. */
export type Outcome = 'success' | '5xx' | 'gateway-error' | 'connect-failure' | 'reset' | 'timeout';

export const OUTCOMES: readonly Outcome[] = Object.freeze([
  'success',
  '5xx',
  'gateway-error',
  'connect-failure',
  'reset',
  'timeout',
]);

/** Per-endpoint detector state; lives in the endpoint's state so it survives set rebuilds. */
export class OutlierState {
  consecutive5xx = 0;
  consecutiveGatewayErrors = 0;
  /** Clock time the current ejection ends; undefined while not ejected. */
  ejectedUntil: number | undefined = undefined;
  /** Ejection multiplier as of the last ejection (see `OutlierDetector.multiplierAt`). */
  multiplier = 0;
  /** When the last ejection ended: the multiplier decays from here. */
  unejectedAt = 0;
  /** Lifetime number of ejections. */
  totalEjections = 0;
}

export class OutlierDetector {
  readonly params: OutlierParams;

  constructor(params: Partial<OutlierParams> = {}) {
    this.params = resolveOutlierParams(params);
  }

  /**
   * Records one outcome for `state`. `setSize` and `ejectedInSet` (the set's endpoint count and how
   * many are ejected right now) enforce the max-ejection-percent rule. Returns true when this
   * outcome ejected the endpoint.
   */
  record(
    state: OutlierState,
    outcome: Outcome,
    now: number,
    setSize: number,
    ejectedInSet: number,
  ): boolean {
    if (outcome === 'success') {
      state.consecutive5xx = 0;
      state.consecutiveGatewayErrors = 0;
      return false;
    }
    const p = this.params;
    let tripped = false;
    if (outcome === '5xx') {
      state.consecutiveGatewayErrors = 0;
    } else if (
      ++state.consecutiveGatewayErrors >= p.consecutiveGatewayErrors &&
      p.consecutiveGatewayErrors > 0
    ) {
      state.consecutiveGatewayErrors = 0;
      tripped = true;
    }
    if (++state.consecutive5xx >= p.consecutive5xx && p.consecutive5xx > 0) {
      state.consecutive5xx = 0;
      tripped = true;
    }
    if (!tripped || state.ejectedUntil !== undefined) return false;
    const allowed =
      ejectedInSet === 0 || (ejectedInSet + 1) * 100 <= p.maxEjectionPercent * setSize;
    if (!allowed) return false;
    const multiplier = this.multiplierAt(state, now);
    // Stop growing once the cap is reached, so a recovered endpoint decays from the cap rather
    // than from an arbitrarily large count.
    state.multiplier =
      p.baseEjectionTimeMs * multiplier < p.maxEjectionTimeMs ? multiplier + 1 : multiplier;
    state.ejectedUntil =
      now + Math.min(p.baseEjectionTimeMs * state.multiplier, p.maxEjectionTimeMs);
    state.totalEjections++;
    return true;
  }

  /** Ends an ejection whose time has come; returns true when it did. */
  release(state: OutlierState, now: number): boolean {
    const until = state.ejectedUntil;
    if (until === undefined || until > now) return false;
    state.ejectedUntil = undefined;
    // Decay counts from the exact end of the ejection, not from when someone noticed it.
    state.unejectedAt = until;
    return true;
  }

  /** The ejection multiplier at `now`, after decay (the next ejection lasts base × (this + 1)). */
  multiplierAt(state: OutlierState, now: number): number {
    if (state.ejectedUntil !== undefined || state.multiplier === 0) return state.multiplier;
    const steps = Math.floor((now - state.unejectedAt) / this.params.ejectionDecayMs);
    return Math.max(0, state.multiplier - Math.max(0, steps));
  }
}
