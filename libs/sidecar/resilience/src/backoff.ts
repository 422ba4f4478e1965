// Exponential backoff with full jitter (AWS "Exponential Backoff And Jitter"): retry n waits a
// uniformly random time in [0, min(max, base·2^n)], which spreads retries from many clients
// instead of synchronising them. Randomness is injected so tests get exact delays.
import { checkInteger, InvalidParamsError } from './params.js';

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

export interface BackoffParams {
  /** Ceiling of the first retry's delay, in whole ms (≥ 0; 0 disables backoff). */
  baseMs: number;
  /** Largest ceiling any retry's delay can reach, in whole ms (≥ baseMs). */
  maxMs: number;
}

/**
 * The ceiling min(maxMs, baseMs·2^n). The exponent is clamped so the product stays finite for
 * base 0 (0·∞ would be NaN); any larger n is capped by maxMs anyway.
 */
export function backoffCeilingMs(params: BackoffParams, n: number): number {
  return Math.min(params.maxMs, params.baseMs * 2 ** Math.min(n, 1023));
}

/** Checks backoff parameters; `prefix` names where they sit in the caller's params. */
export function checkBackoffParams(params: BackoffParams, prefix = ''): void {
  checkInteger(`${prefix}baseMs`, params.baseMs, 0, Number.MAX_SAFE_INTEGER);
  checkInteger(`${prefix}maxMs`, params.maxMs, 0, Number.MAX_SAFE_INTEGER);
  if (params.maxMs < params.baseMs) {
    throw new InvalidParamsError(`${prefix}maxMs`, `must be ≥ baseMs (${params.baseMs})`);
  }
}

export class ExponentialBackoff {
  readonly #params: BackoffParams;
  readonly #random: Random;

  constructor(params: BackoffParams, random: Random = Math.random) {
    checkBackoffParams(params);
    this.#params = { baseMs: params.baseMs, maxMs: params.maxMs };
    this.#random = random;
  }

  /** Delay before retry `n` (0 for the first retry): a whole number of ms in [0, ceiling]. */
  delayMs(n: number): number {
    return Math.floor(this.#random() * (backoffCeilingMs(this.#params, n) + 1));
  }
}
