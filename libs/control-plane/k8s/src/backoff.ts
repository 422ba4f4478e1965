// Exponential backoff with jitter between retries of a failed list or watch, so that many
// control planes restarting at once do not hammer a recovering API server in lockstep.
import { KubernetesSourceError } from './errors.js';

export interface BackoffOptions {
  /** First delay, in ms (default 500). */
  readonly initialMs?: number;
  /** Largest delay, in ms (default 30 000). */
  readonly maxMs?: number;
  /** Growth per failed attempt (default 2). */
  readonly factor?: number;
  /** Share of each delay taken off at random, 0-1 (default 0.5: a delay lies in [d/2, d]). */
  readonly jitter?: number;
  /** Uniform random numbers in [0, 1) (default Math.random); tests pin it. */
  readonly random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.5;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs)) {
      throw new KubernetesSourceError(
        'TRL_K8S_INVALID_OPTION',
        `backoff needs 0 < initialMs <= maxMs (got ${this.#initialMs}, ${this.#maxMs})`,
      );
    }
    if (!(this.#factor >= 1) || !(this.#jitter >= 0 && this.#jitter <= 1)) {
      throw new KubernetesSourceError(
        'TRL_K8S_INVALID_OPTION',
        `backoff needs factor >= 1 and 0 <= jitter <= 1 (got ${this.#factor}, ${this.#jitter})`,
      );
    }
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next retry; each call counts one more failed attempt. */
  next(): number {
    // factor ** attempt may overflow to Infinity after many failures; min() still gives maxMs.
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt += 1;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** After a success: the next failure waits initialMs again. */
  reset(): void {
    this.#attempt = 0;
  }
}
