import { describe, expect, it } from 'vitest';
import type { Outcome } from './outlier-detector.js';
import { OutlierDetector, OutlierState } from './outlier-detector.js';

/** Records `outcomes` at `now` in a 10-endpoint set with nothing else ejected; returns the last result. */
function feed(
  detector: OutlierDetector,
  state: OutlierState,
  outcomes: Outcome[],
  now = 0,
): boolean {
  let ejected = false;
  for (const outcome of outcomes) ejected = detector.record(state, outcome, now, 10, 0);
  return ejected;
}

const five5xx: Outcome[] = ['5xx', '5xx', '5xx', '5xx', '5xx'];

describe('OutlierDetector consecutive failures', () => {
  it('ejects on the 5th consecutive 5xx for the base ejection time', () => {
    const detector = new OutlierDetector();
    const state = new OutlierState();
    expect(feed(detector, state, ['5xx', '5xx', '5xx', '5xx'], 1000)).toBe(false);
    expect(detector.record(state, '5xx', 1000, 10, 0)).toBe(true);
    expect(state.ejectedUntil).toBe(31_000);
    expect(state.totalEjections).toBe(1);
    expect(state.consecutive5xx).toBe(0);
  });

  it('resets the streaks on success', () => {
    const detector = new OutlierDetector();
    const state = new OutlierState();
    feed(detector, state, ['5xx', '5xx', '5xx', 'timeout', 'success', '5xx', '5xx']);
    expect(state.consecutive5xx).toBe(2);
    expect(state.consecutiveGatewayErrors).toBe(0);
    expect(state.ejectedUntil).toBeUndefined();
  });

  it('ejects on consecutive gateway errors of any kind', () => {
    const detector = new OutlierDetector({ consecutive5xx: 0, consecutiveGatewayErrors: 4 });
    const state = new OutlierState();
    expect(feed(detector, state, ['gateway-error', 'connect-failure', 'reset', 'timeout'])).toBe(
      true,
    );
    expect(state.ejectedUntil).toBe(30_000);
  });

  it('lets a plain 5xx break a gateway-error streak', () => {
    const detector = new OutlierDetector({ consecutive5xx: 0, consecutiveGatewayErrors: 3 });
    const state = new OutlierState();
    feed(detector, state, ['timeout', 'reset', '5xx', 'timeout', 'reset']);
    expect(state.consecutiveGatewayErrors).toBe(2);
    expect(state.ejectedUntil).toBeUndefined();
  });

  it('counts gateway errors toward the 5xx streak too', () => {
    const detector = new OutlierDetector({ consecutive5xx: 3, consecutiveGatewayErrors: 0 });
    const state = new OutlierState();
    expect(feed(detector, state, ['5xx', 'connect-failure', '5xx'])).toBe(true);
  });

  it('never ejects with both thresholds at 0', () => {
    const detector = new OutlierDetector({ consecutive5xx: 0, consecutiveGatewayErrors: 0 });
    const state = new OutlierState();
    expect(feed(detector, state, new Array<Outcome>(50).fill('gateway-error'))).toBe(false);
    expect(state.totalEjections).toBe(0);
  });

  it('does not extend a running ejection', () => {
    const detector = new OutlierDetector();
    const state = new OutlierState();
    feed(detector, state, five5xx, 0);
    expect(feed(detector, state, five5xx, 1000)).toBe(false);
    expect(state.ejectedUntil).toBe(30_000);
    expect(state.totalEjections).toBe(1);
  });
});

describe('OutlierDetector ejection time', () => {
  const params = { baseEjectionTimeMs: 1000, maxEjectionTimeMs: 3500, ejectionDecayMs: 60_000 };

  /** Ejects at `now` and releases at the end; returns the ejection's duration. */
  function ejectAndRelease(detector: OutlierDetector, state: OutlierState, now: number): number {
    feed(detector, state, five5xx, now);
    const until = state.ejectedUntil as number;
    expect(detector.release(state, until)).toBe(true);
    return until - now;
  }

  it('grows by the base time per ejection and caps at the max', () => {
    const detector = new OutlierDetector(params);
    const state = new OutlierState();
    const durations: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const duration = ejectAndRelease(detector, state, now);
      durations.push(duration);
      now += duration;
    }
    expect(durations).toEqual([1000, 2000, 3000, 3500, 3500, 3500]);
  });

  it('stops growing the multiplier once the cap is reached', () => {
    const detector = new OutlierDetector(params);
    const state = new OutlierState();
    let now = 0;
    for (let i = 0; i < 8; i++) now += ejectAndRelease(detector, state, now);
    expect(state.multiplier).toBe(4);
    expect(state.totalEjections).toBe(8);
  });

  it('keeps an endpoint ejected until its time, then releases it exactly then', () => {
    const detector = new OutlierDetector();
    const state = new OutlierState();
    feed(detector, state, five5xx, 500);
    expect(detector.release(state, 30_499)).toBe(false);
    expect(state.ejectedUntil).toBe(30_500);
    expect(detector.release(state, 40_000)).toBe(true);
    expect(state.ejectedUntil).toBeUndefined();
    expect(state.unejectedAt).toBe(30_500);
  });

  it('decays the multiplier by one per decay period spent un-ejected', () => {
    const detector = new OutlierDetector({ ...params, ejectionDecayMs: 10_000 });
    const state = new OutlierState();
    let now = 0;
    for (let i = 0; i < 3; i++) now += ejectAndRelease(detector, state, now);
    expect(now).toBe(6000);
    expect(detector.multiplierAt(state, now)).toBe(3);
    expect(detector.multiplierAt(state, now + 9_999)).toBe(3);
    expect(detector.multiplierAt(state, now + 10_000)).toBe(2);
    expect(detector.multiplierAt(state, now + 25_000)).toBe(1);
    expect(detector.multiplierAt(state, now + 1_000_000)).toBe(0);
  });

  it('bases the next ejection on the decayed multiplier', () => {
    const detector = new OutlierDetector({ ...params, ejectionDecayMs: 10_000 });
    const state = new OutlierState();
    let now = 0;
    for (let i = 0; i < 3; i++) now += ejectAndRelease(detector, state, now);
    feed(detector, state, five5xx, now + 20_000);
    expect((state.ejectedUntil as number) - (now + 20_000)).toBe(2000);
  });
});

describe('OutlierDetector max ejection percent (Envoy: at least one host regardless)', () => {
  it('refuses an ejection that would exceed the percentage', () => {
    const detector = new OutlierDetector({ maxEjectionPercent: 10 });
    const state = new OutlierState();
    for (let i = 0; i < 4; i++) detector.record(state, '5xx', 0, 10, 1);
    expect(detector.record(state, '5xx', 0, 10, 1)).toBe(false);
    expect(state.ejectedUntil).toBeUndefined();
    expect(state.consecutive5xx).toBe(0);
  });

  it('allows an ejection that lands exactly on the percentage', () => {
    const detector = new OutlierDetector({ maxEjectionPercent: 10 });
    const state = new OutlierState();
    for (let i = 0; i < 4; i++) detector.record(state, '5xx', 0, 20, 1);
    expect(detector.record(state, '5xx', 0, 20, 1)).toBe(true);
  });

  it('always allows one ejection when none is active, even in a small set', () => {
    const detector = new OutlierDetector({ maxEjectionPercent: 10 });
    const state = new OutlierState();
    for (let i = 0; i < 4; i++) detector.record(state, '5xx', 0, 3, 0);
    expect(detector.record(state, '5xx', 0, 3, 0)).toBe(true);
  });

  it('allows one ejection even at 0 percent', () => {
    const detector = new OutlierDetector({ maxEjectionPercent: 0 });
    const state = new OutlierState();
    for (let i = 0; i < 4; i++) detector.record(state, '5xx', 0, 1, 0);
    expect(detector.record(state, '5xx', 0, 1, 0)).toBe(true);
  });
});
