import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.js';
import { systemClock } from './clock.js';

describe('FakeClock', () => {
  it('starts at the given time and moves only on advance', () => {
    const clock = new FakeClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('fires due timers in due order, ties in scheduling order, with now() at their due time', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`b@${clock.now()}`));
    clock.advance(20);
    expect(fired).toEqual(['a@10', 'b@10']);
    clock.advance(10);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
  });

  it('fires timers scheduled by callbacks when they fall inside the window', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimer(5, () => clock.setTimer(5, () => fired.push(clock.now())));
    clock.advance(10);
    expect(fired).toEqual([10]);
  });

  it('never fires a cancelled timer', () => {
    const clock = new FakeClock();
    let fired = false;
    const timer = clock.setTimer(1, () => (fired = true));
    timer.cancel();
    clock.advance(5);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a negative advance', () => {
    expect(() => new FakeClock().advance(-1)).toThrow(RangeError);
  });
});

describe('systemClock', () => {
  it('fires a real timer and cancels another', async () => {
    let cancelledFired = false;
    systemClock.setTimer(1, () => (cancelledFired = true)).cancel();
    const before = systemClock.now();
    await new Promise<void>((resolve) => systemClock.setTimer(5, resolve));
    expect(systemClock.now()).toBeGreaterThan(before);
    expect(cancelledFired).toBe(false);
  });
});
