// A deterministic clock for tests: time moves only when the test calls advance().
import type { Clock, Timer } from './clock.js';

interface PendingTimer {
  readonly dueAt: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const timer: PendingTimer = {
      dueAt: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      callback,
      cancelled: false,
    };
    this.#pending.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers scheduled and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#pending.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing every due timer in due order (ties in scheduling order),
   * including timers that callbacks schedule within the window.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance() needs a non-negative duration (got ${ms})`);
    const target = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#pending.splice(this.#pending.indexOf(next), 1);
      this.#now = next.dueAt;
      next.callback();
    }
    this.#now = target;
    this.#pending = this.#pending.filter((t) => !t.cancelled);
  }

  #nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#pending) {
      if (t.cancelled || t.dueAt > limit) continue;
      if (!best || t.dueAt < best.dueAt || (t.dueAt === best.dueAt && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
