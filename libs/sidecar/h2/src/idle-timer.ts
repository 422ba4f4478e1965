// The idle timeout of one connection: one coarse timer per session. Becoming idle only records
// the time; the timer re-arms itself for the remainder instead of being cancelled and recreated
// for every request that comes and goes.
import type { Clock, Timer } from '@trellis/time';

export class IdleTimer {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  /** True while the connection is still idle and open when the timer fires. */
  readonly #stillIdle: () => boolean;
  readonly #onIdle: () => void;
  #timer: Timer | null = null;
  #idleSince = 0;

  /** `timeoutMs` 0: never. */
  constructor(clock: Clock, timeoutMs: number, stillIdle: () => boolean, onIdle: () => void) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#stillIdle = stillIdle;
    this.#onIdle = onIdle;
  }

  /** The connection became idle now. */
  arm(): void {
    if (this.#timeoutMs <= 0) return;
    this.#idleSince = this.#clock.now();
    if (this.#timer === null) this.#schedule(this.#timeoutMs);
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#clock.setTimer(delayMs, () => {
      this.#timer = null;
      if (!this.#stillIdle()) return;
      const idleFor = this.#clock.now() - this.#idleSince;
      if (idleFor >= this.#timeoutMs) this.#onIdle();
      else this.#schedule(this.#timeoutMs - idleFor);
    });
  }
}
