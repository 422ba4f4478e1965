// Typed knobs of the balance lib (plain numbers, durations in ms) with their defaults, and the one
// place that merges overrides onto defaults and rejects out-of-range values with a field path.
import { BalanceError } from './errors.js';

/** Endpoint-set routing knobs. */
export interface BalanceParams {
  /**
   * Local-zone preference: new requests go only to local-zone endpoints while the available ones
   * are at least this percentage of the local zone's non-terminating endpoints (and at least one).
   * 0–100, default 70. Has no effect when the set has no `localZone`.
   */
  readonly zoneMinAvailablePercent: number;
  /**
   * Envoy's healthy panic threshold: when fewer than this percentage of the routable endpoints are
   * un-ejected, ejections are ignored and traffic spreads over all routable endpoints; when
   * nothing is routable at all, over every non-terminating endpoint. 0 disables panic mode
   * (then an all-ejected set picks nothing). 0–100, default 50 (Envoy's default).
   */
  readonly panicThresholdPercent: number;
  /** Peak-EWMA decay window τ in ms: estimates decay by e^(−Δt/τ). > 0, default 10 000 (linkerd). */
  readonly ewmaDecayMs: number;
  /** RTT estimate a new endpoint starts from before its first response, in ms. > 0, default 30 (linkerd). */
  readonly ewmaDefaultRttMs: number;
}

/** Passive health (outlier detection) knobs, after Envoy's `OutlierDetection`. */
export interface OutlierParams {
  /** Consecutive 5xx-class outcomes (gateway errors included) that eject. 0 disables. Integer, default 5. */
  readonly consecutive5xx: number;
  /** Consecutive gateway errors (502/503/504, connect failure, reset, timeout) that eject. 0 disables. Integer, default 5. */
  readonly consecutiveGatewayErrors: number;
  /** First ejection lasts this long; the n-th lasts n × this (capped). ms > 0, default 30 000. */
  readonly baseEjectionTimeMs: number;
  /** Upper bound of one ejection. ms ≥ baseEjectionTimeMs, default 300 000. */
  readonly maxEjectionTimeMs: number;
  /**
   * At most this percentage of the set's endpoints is ejected at once, except that one ejection is
   * always allowed when none is active (Envoy's documented rule). 0–100, default 10.
   */
  readonly maxEjectionPercent: number;
  /**
   * Each full period an endpoint stays un-ejected after an ejection ends removes one step of its
   * ejection multiplier (Envoy decrements once per `interval`). ms > 0, default 10 000.
   */
  readonly ejectionDecayMs: number;
}

export const DEFAULT_BALANCE_PARAMS: Readonly<BalanceParams> = Object.freeze({
  zoneMinAvailablePercent: 70,
  panicThresholdPercent: 50,
  ewmaDecayMs: 10_000,
  ewmaDefaultRttMs: 30,
});

export const DEFAULT_OUTLIER_PARAMS: Readonly<OutlierParams> = Object.freeze({
  consecutive5xx: 5,
  consecutiveGatewayErrors: 5,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
  ejectionDecayMs: 10_000,
});

interface Range {
  readonly min: number;
  readonly max?: number;
  /** When true, `min` itself is not allowed (strictly greater). */
  readonly exclusiveMin?: boolean;
  readonly integer?: boolean;
}

function check(value: unknown, path: string, range: Range): number {
  const max = range.max ?? Number.POSITIVE_INFINITY;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.exclusiveMin === true ? value > range.min : value >= range.min) &&
    value <= max &&
    (range.integer !== true || Number.isInteger(value));
  if (!ok) {
    const bound = `${range.exclusiveMin === true ? '>' : '≥'} ${range.min}${
      Number.isFinite(max) ? ` and ≤ ${max}` : ''
    }`;
    const kind = range.integer === true ? 'an integer' : 'a finite number';
    throw new BalanceError(
      'TRL_BALANCE_INVALID_PARAMS',
      path,
      `must be ${kind} ${bound} (got ${String(value)})`,
    );
  }
  return value as number;
}

const percent: Range = { min: 0, max: 100 };
const positiveMs: Range = { min: 0, exclusiveMin: true };
const count: Range = { min: 0, integer: true };

/** Defaults overlaid with `overrides`, validated; throws `TRL_BALANCE_INVALID_PARAMS` naming the field. */
export function resolveBalanceParams(
  overrides: Partial<BalanceParams> = {},
  path = 'balance',
): BalanceParams {
  const p = { ...DEFAULT_BALANCE_PARAMS, ...overrides };
  return Object.freeze({
    zoneMinAvailablePercent: check(
      p.zoneMinAvailablePercent,
      `${path}.zoneMinAvailablePercent`,
      percent,
    ),
    panicThresholdPercent: check(p.panicThresholdPercent, `${path}.panicThresholdPercent`, percent),
    ewmaDecayMs: check(p.ewmaDecayMs, `${path}.ewmaDecayMs`, positiveMs),
    ewmaDefaultRttMs: check(p.ewmaDefaultRttMs, `${path}.ewmaDefaultRttMs`, positiveMs),
  });
}

/** Defaults overlaid with `overrides`, validated; throws `TRL_BALANCE_INVALID_PARAMS` naming the field. */
export function resolveOutlierParams(
  overrides: Partial<OutlierParams> = {},
  path = 'outlier',
): OutlierParams {
  const p = { ...DEFAULT_OUTLIER_PARAMS, ...overrides };
  const baseEjectionTimeMs = check(p.baseEjectionTimeMs, `${path}.baseEjectionTimeMs`, positiveMs);
  return Object.freeze({
    consecutive5xx: check(p.consecutive5xx, `${path}.consecutive5xx`, count),
    consecutiveGatewayErrors: check(
      p.consecutiveGatewayErrors,
      `${path}.consecutiveGatewayErrors`,
      count,
    ),
    baseEjectionTimeMs,
    maxEjectionTimeMs: check(p.maxEjectionTimeMs, `${path}.maxEjectionTimeMs`, {
      min: baseEjectionTimeMs,
    }),
    maxEjectionPercent: check(p.maxEjectionPercent, `${path}.maxEjectionPercent`, percent),
    ejectionDecayMs: check(p.ejectionDecayMs, `${path}.ejectionDecayMs`, positiveMs),
  });
}
