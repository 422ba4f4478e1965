import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { ExponentialBackoff, type Random } from './backoff.js';
import { TimeoutPolicy, deadlineErrorCodes, type RequestDeadline } from './deadline.js';
import { errors } from './errors.js';
import { RetryBudget, type RetryBudgetParams } from './retry-budget.js';
import { ReplayBuffer } from './retry-buffer.js';
import { RetryController } from './retry-controller.js';
import { RetryPolicy, type AttemptOutcome } from './retry-policy.js';

const r503: AttemptOutcome = { kind: 'response', status: 503 };
const r200: AttemptOutcome = { kind: 'response', status: 200 };
const perTryTimeout: AttemptOutcome = { kind: 'per-try-timeout' };

/** Replays `values` as the random source. */
function draws(...values: number[]): Random {
  let i = 0;
  return () => {
    const v = values[i++];
    if (v === undefined) throw new Error('no more random values');
    return v;
  };
}

interface Setup {
  method?: string;
  random?: Random;
  budget?: Partial<RetryBudgetParams>;
  body?: ReplayBuffer;
  deadline?: RequestDeadline;
}

/** Route: 3 retries on 5xx, backoff 100 → 1000 ms; generous budget unless overridden. */
function setup(opts: Setup = {}) {
  const clock = new FakeClock();
  const budget = new RetryBudget(
    { retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000, ...opts.budget },
    clock,
  );
  const controller = new RetryController({
    policy: new RetryPolicy({
      attempts: 3,
      retryOn: ['5xx'],
      retriableStatusCodes: [],
      retryNonIdempotent: false,
    }),
    backoff: new ExponentialBackoff({ baseMs: 100, maxMs: 1000 }, opts.random ?? (() => 0.5)),
    budget,
    clock,
    method: opts.method ?? 'GET',
    ...(opts.body ? { body: opts.body } : {}),
    ...(opts.deadline ? { deadline: opts.deadline } : {}),
  });
  return { clock, budget, controller };
}

describe('RetryController', () => {
  it('stops after a success with one attempt counted', () => {
    const { controller } = setup();
    expect(controller.nextAttempt(r200)).toEqual({ retry: false, reason: 'not-retriable' });
    expect(controller.attempts).toBe(1);
  });

  it('records the request in the budget once, retries not included', () => {
    const { controller, budget } = setup();
    controller.nextAttempt(r503);
    expect([budget.requests, budget.retries]).toEqual([1, 1]);
  });

  it('schedules retries with growing backoff until attempts run out', () => {
    const { controller } = setup();
    expect(controller.nextAttempt(r503)).toEqual({
      retry: true,
      delayMs: 50, // floor(0.5 × 101)
      attempt: 2,
      reason: '5xx',
    });
    expect(controller.nextAttempt(r503)).toMatchObject({ delayMs: 100, attempt: 3 });
    expect(controller.nextAttempt(r503)).toMatchObject({ delayMs: 200, attempt: 4 });
    expect(controller.nextAttempt(r503)).toEqual({ retry: false, reason: 'attempts-exhausted' });
    expect(controller.attempts).toBe(4);
  });

  it('does not retry a POST that reached the upstream', () => {
    const { controller } = setup({ method: 'POST' });
    expect(controller.nextAttempt(r503)).toEqual({ retry: false, reason: 'non-idempotent' });
    expect(controller.attempts).toBe(1);
  });

  it('retries a POST whose connection failed', () => {
    const { controller } = setup({ method: 'POST' });
    expect(controller.nextAttempt({ kind: 'connect-failure' })).toEqual({
      retry: true,
      delayMs: 50,
      attempt: 2,
      reason: '5xx',
    });
  });

  it('stops mid-request when the shared budget runs dry', () => {
    // Reserve of 0.1/s × 10 s = 1 retry, plus 0 × requests.
    const { controller } = setup({ budget: { retryRatio: 0, minRetriesPerSecond: 0.1 } });
    expect(controller.nextAttempt(r503)).toMatchObject({ retry: true, attempt: 2 });
    expect(controller.nextAttempt(r503)).toEqual({ retry: false, reason: 'budget-exhausted' });
    expect(controller.attempts).toBe(2);
  });

  it('stops when the body overflowed its replay buffer', () => {
    const body = new ReplayBuffer(4);
    body.push(new Uint8Array(5));
    const { controller } = setup({ method: 'PUT', body });
    expect(controller.nextAttempt(r503)).toEqual({ retry: false, reason: 'body-not-replayable' });
  });

  it('retries a body still within its replay buffer', () => {
    const body = new ReplayBuffer(4);
    body.push(new Uint8Array(4));
    const { controller } = setup({ method: 'PUT', body });
    expect(controller.nextAttempt(r503).retry).toBe(true);
  });
});

describe('RetryController against deadlines', () => {
  // Request timeout 1000 ms, per-try 400 ms, request starts at t = 0.
  const timeouts = new TimeoutPolicy({ requestTimeoutMs: 1000, perTryTimeoutMs: 400 });

  it('gives up when the time left cannot cover the backoff after a per-try timeout', () => {
    const deadline = timeouts.begin(0);
    const { clock, controller, budget } = setup({ random: draws(0.995, 0.5), deadline });

    clock.advance(400); // attempt 1 hits its per-try timeout
    expect(deadline.attemptLimit(0)).toBe('per-try');
    expect(controller.nextAttempt(perTryTimeout)).toMatchObject({ delayMs: 100, attempt: 2 });

    clock.advance(100); // attempt 2 starts at 500 and must end by 900
    expect(deadline.attemptDeadlineAt(500)).toBe(900);
    clock.advance(400); // its per-try timeout fires with 100 ms left overall
    expect(controller.nextAttempt(perTryTimeout)).toEqual({
      retry: false,
      reason: 'deadline-exhausted',
    }); // backoff drew floor(0.5 × 201) = 100 ≥ 100 ms left
    expect(errors[deadlineErrorCodes[deadline.attemptLimit(500)!]].headerValue).toBe(
      'per-try-timeout',
    );
    expect(budget.retries).toBe(1); // the refused retry spent no budget
  });

  it('retries when the backoff fits in the time left', () => {
    const { clock, controller } = setup({ random: draws(0.995, 0.4), deadline: timeouts.begin(0) });
    clock.advance(400);
    controller.nextAttempt(perTryTimeout); // retry after 100 ms
    clock.advance(500); // attempt 2's per-try timeout fires at 900, 100 ms before the deadline
    expect(controller.nextAttempt(perTryTimeout)).toEqual({
      retry: true,
      delayMs: 80, // floor(0.4 × 201) < 100 ms left
      attempt: 3,
      reason: '5xx',
    });
  });

  it('never retries once the client deadline has passed, even with no backoff', () => {
    const { controller } = setup({
      random: draws(0),
      deadline: timeouts.begin(0, '0n'),
    });
    expect(controller.nextAttempt({ kind: 'reset' })).toEqual({
      retry: false,
      reason: 'deadline-exhausted',
    });
  });
});
