import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { IdleTimer } from './idle-timer.js';

/** A timer on a fake clock, counting how often the connection was found idle. */
function idleTimer(timeoutMs: number, stillIdle = true) {
  const clock = new FakeClock();
  const fired = { count: 0 };
  const timer = new IdleTimer(
    clock,
    timeoutMs,
    () => stillIdle,
    () => fired.count++,
  );
  return { clock, fired, timer };
}

describe('IdleTimer', () => {
  it('fires once the connection stayed idle for the whole timeout', () => {
    const { clock, fired, timer } = idleTimer(100);
    timer.arm();
    clock.advance(99);
    expect(fired.count).toBe(0);
    clock.advance(1);
    expect(fired.count).toBe(1);
  });

  it('re-arms for the remainder when the connection became idle again later', () => {
    const { clock, fired, timer } = idleTimer(100);
    timer.arm();
    clock.advance(60);
    timer.arm(); // busy in between, idle again from t=60
    clock.advance(40);
    expect(fired.count).toBe(0);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(60);
    expect(fired.count).toBe(1);
  });

  it('does nothing when the connection is busy when it fires', () => {
    const { clock, fired, timer } = idleTimer(100, false);
    timer.arm();
    clock.advance(1_000);
    expect(fired.count).toBe(0);
  });

  it('does nothing once cancelled, or with a timeout of 0', () => {
    const cancelled = idleTimer(100);
    cancelled.timer.arm();
    cancelled.timer.cancel();
    cancelled.clock.advance(1_000);
    const never = idleTimer(0);
    never.timer.arm();
    never.clock.advance(1_000);
    expect(cancelled.fired.count + never.fired.count).toBe(0);
    expect(never.clock.pendingTimers).toBe(0);
  });
});
