import { describe, expect, it } from 'vitest';
import {
  TimeoutPolicy,
  deadlineErrorCodes,
  formatGrpcTimeout,
  parseGrpcTimeout,
} from './deadline.js';
import { errors } from './errors.js';
import { InvalidParamsError } from './params.js';

describe('parseGrpcTimeout', () => {
  it.each([
    ['1H', 3_600_000],
    ['2M', 120_000],
    ['5S', 5000],
    ['100m', 100],
    ['250u', 0.25],
    ['100n', 0.0001],
    ['0n', 0],
    ['99999999S', 99_999_999_000],
  ])('reads %s as %s ms', (value, ms) => {
    expect(parseGrpcTimeout(value)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['m', 'bad-digits'],
    ['1.5S', 'bad-digits'],
    ['-1S', 'bad-digits'],
    [' 1S', 'bad-digits'],
    ['123456789S', 'too-many-digits'],
    ['100', 'bad-unit'],
    ['10s', 'bad-unit'],
    ['10x', 'bad-unit'],
  ])('rejects %j as %s', (value, reason) => {
    expect(parseGrpcTimeout(value)).toBe(reason);
  });
});

describe('formatGrpcTimeout', () => {
  it.each([
    [0.0001, '100n'],
    [0.1, '100000n'],
    [99.999999, '99999999n'],
    [100, '100000u'],
    [5000, '5000000u'],
    [100_000, '100000m'],
    [100_000_000, '100000S'],
    [1e12, '16666667M'],
    [100.0005, '100001u'],
  ])('writes %s ms as %s', (ms, value) => {
    expect(formatGrpcTimeout(ms)).toBe(value);
  });

  it('writes an expired or negative timeout as 0n', () => {
    expect(formatGrpcTimeout(0)).toBe('0n');
    expect(formatGrpcTimeout(-5)).toBe('0n');
  });

  it('never shortens the deadline on a round trip', () => {
    for (const ms of [0.0004, 1, 33.3333, 99.9999999, 1234.5678, 3_600_000.5, 7e9]) {
      expect(parseGrpcTimeout(formatGrpcTimeout(ms))).toBeGreaterThanOrEqual(ms);
    }
  });
});

describe('TimeoutPolicy.begin', () => {
  const policy = new TimeoutPolicy({ requestTimeoutMs: 1000, perTryTimeoutMs: 300 });

  it('ends an early attempt at its per-try timeout', () => {
    const d = policy.begin(0);
    expect(d.attemptDeadlineAt(0)).toBe(300);
    expect(d.attemptLimit(0)).toBe('per-try');
  });

  it('ends a late attempt at the request timeout', () => {
    const d = policy.begin(0);
    expect(d.attemptDeadlineAt(800)).toBe(1000);
    expect(d.attemptLimit(800)).toBe('request');
  });

  it('names the request timeout when it ties with the per-try timeout', () => {
    expect(policy.begin(0).attemptLimit(700)).toBe('request');
  });

  it('tracks the time left for further attempts', () => {
    const d = policy.begin(100);
    expect(d.deadlineAt).toBe(1100);
    expect(d.remainingMs(350)).toBe(750);
    expect(d.expired(1099)).toBe(false);
    expect(d.remainingMs(1200)).toBe(0);
    expect(d.expired(1100)).toBe(true);
  });

  it('takes a shorter grpc-timeout as the overall deadline', () => {
    const d = policy.begin(0, '500m');
    expect([d.deadlineAt, d.overallLimit]).toEqual([500, 'grpc']);
    expect(d.attemptLimit(300)).toBe('grpc');
  });

  it('keeps the request timeout when grpc-timeout is longer', () => {
    const d = policy.begin(0, '2S');
    expect([d.deadlineAt, d.overallLimit]).toEqual([1000, 'request']);
  });

  it('names grpc-timeout when it ties with the request timeout', () => {
    expect(policy.begin(0, '1S').overallLimit).toBe('grpc');
  });

  it('ignores an invalid grpc-timeout and says why', () => {
    const d = policy.begin(0, '1.5S');
    expect([d.deadlineAt, d.overallLimit, d.grpcTimeoutIgnored]).toEqual([
      1000,
      'request',
      'bad-digits',
    ]);
  });

  it('expires at once with grpc-timeout 0n', () => {
    const d = policy.begin(40, '0n');
    expect(d.expired(40)).toBe(true);
    expect(d.attemptDeadlineAt(40)).toBe(40);
  });

  it('is unbounded with no timeouts at all', () => {
    const d = new TimeoutPolicy({ requestTimeoutMs: 0, perTryTimeoutMs: 0 }).begin(0);
    expect([d.deadlineAt, d.remainingMs(1e9), d.attemptLimit(0)]).toEqual([
      Infinity,
      Infinity,
      undefined,
    ]);
  });

  it('bounds attempts by the per-try timeout alone when there is no request timeout', () => {
    const d = new TimeoutPolicy({ requestTimeoutMs: 0, perTryTimeoutMs: 250 }).begin(0);
    expect([d.attemptDeadlineAt(1000), d.attemptLimit(1000)]).toEqual([1250, 'per-try']);
  });

  it('uses grpc-timeout alone when there is no request timeout', () => {
    const d = new TimeoutPolicy({ requestTimeoutMs: 0, perTryTimeoutMs: 0 }).begin(0, '3S');
    expect([d.deadlineAt, d.attemptLimit(0)]).toEqual([3000, 'grpc']);
  });

  it.each([
    [{ requestTimeoutMs: -1, perTryTimeoutMs: 0 }, 'requestTimeoutMs'],
    [{ requestTimeoutMs: 0, perTryTimeoutMs: NaN }, 'perTryTimeoutMs'],
  ])('rejects %o naming %s', (params, field) => {
    expect(() => new TimeoutPolicy(params)).toThrow(InvalidParamsError);
    expect(() => new TimeoutPolicy(params)).toThrow(expect.objectContaining({ field }));
  });
});

describe('deadlineErrorCodes', () => {
  it('maps each limit to its x-trellis-error value', () => {
    expect([
      errors[deadlineErrorCodes.request].headerValue,
      errors[deadlineErrorCodes['per-try']].headerValue,
      errors[deadlineErrorCodes.grpc].headerValue,
    ]).toEqual(['request-timeout', 'per-try-timeout', 'grpc-deadline-exceeded']);
  });
});
