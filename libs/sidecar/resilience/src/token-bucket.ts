// Local rate limiting with a token bucket (Envoy's local_ratelimit shape): the bucket starts full,
// gains `tokensPerFill` every `fillIntervalMs` up to `maxTokens`, and each request takes one.
// Refill is computed lazily from the clock on each take, aligned to the fill schedule, so no
// timer runs per bucket. An allowed take returns a shared frozen result and never allocates.
import type { Clock } from '@trellis/time';
import { checkInteger, checkPositive } from './params.js';

export interface TokenBucketParams {
  /** Bucket capacity, and its content at start (≥ 1). */
  maxTokens: number;
  /** Tokens added per fill (≥ 1). */
  tokensPerFill: number;
  /** Time between fills in ms (> 0). */
  fillIntervalMs: number;
}

export type TakeResult =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

const ALLOWED: TakeResult = Object.freeze({ allowed: true });

export class TokenBucket {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #perFill: number;
  readonly #intervalMs: number;
  #tokens: number;
  #lastFillAt: number;

  constructor(params: TokenBucketParams, clock: Clock) {
    checkInteger('maxTokens', params.maxTokens, 1, Number.MAX_SAFE_INTEGER);
    checkInteger('tokensPerFill', params.tokensPerFill, 1, Number.MAX_SAFE_INTEGER);
    checkPositive('fillIntervalMs', params.fillIntervalMs);
    this.#clock = clock;
    this.#max = params.maxTokens;
    this.#perFill = params.tokensPerFill;
    this.#intervalMs = params.fillIntervalMs;
    this.#tokens = params.maxTokens;
    this.#lastFillAt = clock.now();
  }

  /** Tokens available now. */
  get tokens(): number {
    this.#refill(this.#clock.now());
    return this.#tokens;
  }

  /** Takes one token, or says how long until the next fill brings one. */
  tryTake(): TakeResult {
    const now = this.#clock.now();
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return ALLOWED;
    }
    return { allowed: false, retryAfterMs: this.#lastFillAt + this.#intervalMs - now };
  }

  #refill(now: number): void {
    const fills = Math.floor((now - this.#lastFillAt) / this.#intervalMs);
    if (fills <= 0) return;
    this.#tokens = Math.min(this.#max, this.#tokens + fills * this.#perFill);
    // Advance by whole intervals, not to `now`, so fills stay on their schedule.
    this.#lastFillAt += fills * this.#intervalMs;
  }
}

/** The `Retry-After` header value (whole seconds, rounded up) for a rejected take. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(0, Math.ceil(retryAfterMs / 1000));
}
