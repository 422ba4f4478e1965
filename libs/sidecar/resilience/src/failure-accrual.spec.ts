import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { FailureAccrual } from './failure-accrual.js';
import { InvalidParamsError } from './params.js';

function setup(maxFailures = 3) {
  const clock = new FakeClock();
  const breaker = new FailureAccrual(
    { maxFailures, backoff: { baseMs: 1000, maxMs: 5000 } },
    clock,
  );
  return { clock, breaker };
}

function fail(breaker: FailureAccrual, times: number): void {
  for (let i = 0; i < times; i++) {
    expect(breaker.acquire()).toBe('admitted');
    breaker.report('admitted', 'failure');
  }
}

/** Opens the breaker at the current time. */
function open(breaker: FailureAccrual): void {
  fail(breaker, 3);
  expect(breaker.state).toBe('open');
}

describe('FailureAccrual closed', () => {
  it('admits while failures stay below the threshold', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(2);
    expect(breaker.acquire()).toBe('admitted');
  });

  it('forgets failures after a success', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    breaker.report('admitted', 'success');
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(2);
  });

  it('neither counts nor forgets a cancelled request', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    breaker.report('admitted', 'cancelled');
    expect(breaker.consecutiveFailures).toBe(2);
  });

  it('opens on the maxFailures-th consecutive failure and rejects until the cool-down ends', () => {
    const { clock, breaker } = setup();
    open(breaker);
    expect(breaker.opened).toBe(1);
    expect(breaker.probeAt).toBe(1000);
    clock.advance(999);
    expect(breaker.acquire()).toBe('rejected');
    expect(breaker.state).toBe('open');
  });
});

describe('FailureAccrual half-open', () => {
  it('admits exactly one probe after the cool-down and rejects concurrent callers', () => {
    const { clock, breaker } = setup();
    open(breaker);
    clock.advance(1000);
    expect(breaker.acquire()).toBe('probe');
    expect(breaker.state).toBe('half-open');
    expect(breaker.acquire()).toBe('rejected');
    clock.advance(60_000);
    expect(breaker.acquire()).toBe('rejected');
  });

  it('closes when the probe succeeds', () => {
    const { clock, breaker } = setup();
    open(breaker);
    clock.advance(1000);
    breaker.acquire();
    breaker.report('probe', 'success');
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
    expect([breaker.acquire(), breaker.acquire()]).toEqual(['admitted', 'admitted']);
  });

  it('re-opens with a doubled cool-down, capped, each time the probe fails', () => {
    const { clock, breaker } = setup();
    open(breaker); // t = 0, cool-down 1000
    const probeTimes: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(breaker.probeAt - clock.now());
      expect(breaker.acquire()).toBe('probe');
      breaker.report('probe', 'failure');
      expect(breaker.state).toBe('open');
      probeTimes.push(breaker.probeAt - clock.now());
    }
    expect(probeTimes).toEqual([2000, 4000, 5000, 5000]);
    expect(breaker.opened).toBe(5);
  });

  it('starts again from the base cool-down after closing', () => {
    const { clock, breaker } = setup();
    open(breaker);
    clock.advance(1000);
    breaker.acquire();
    breaker.report('probe', 'failure'); // next cool-down 2000
    clock.advance(2000);
    breaker.acquire();
    breaker.report('probe', 'success');
    open(breaker);
    expect(breaker.probeAt - clock.now()).toBe(1000);
  });

  it('lets the next caller probe at once when the probe is cancelled, without growing the cool-down', () => {
    const { clock, breaker } = setup();
    open(breaker);
    clock.advance(1000);
    breaker.acquire();
    breaker.report('probe', 'cancelled');
    expect(breaker.state).toBe('open');
    expect(breaker.acquire()).toBe('probe');
    breaker.report('probe', 'failure');
    expect(breaker.probeAt - clock.now()).toBe(2000);
  });

  it('ignores results of requests admitted before the breaker opened', () => {
    const { clock, breaker } = setup();
    expect(breaker.acquire()).toBe('admitted'); // in flight while the breaker opens
    open(breaker);
    breaker.report('admitted', 'success');
    expect(breaker.state).toBe('open');
    clock.advance(1000);
    breaker.acquire();
    breaker.report('admitted', 'success');
    breaker.report('admitted', 'failure');
    expect(breaker.state).toBe('half-open');
    expect(breaker.opened).toBe(1);
  });

  it('ignores a probe report when no probe is out', () => {
    const { breaker } = setup();
    breaker.report('probe', 'failure');
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
  });
});

describe('FailureAccrual params', () => {
  it.each([
    [{ maxFailures: 0, backoff: { baseMs: 1, maxMs: 1 } }, 'maxFailures'],
    [{ maxFailures: 1, backoff: { baseMs: 10, maxMs: 1 } }, 'backoff.maxMs'],
  ])('rejects %o naming %s', (params, field) => {
    expect(() => new FailureAccrual(params, new FakeClock())).toThrow(InvalidParamsError);
    expect(() => new FailureAccrual(params, new FakeClock())).toThrow(
      expect.objectContaining({ field }),
    );
  });
});
