import { describe, expect, it } from 'vitest';
import {
  OverloadedError,
  RateLimitedError,
  TrellisError,
  errors,
  isTrellisError,
  type TrellisErrorCode,
} from './errors.js';

const codes = Object.keys(errors) as TrellisErrorCode[];

describe('errors table', () => {
  it('lists every x-trellis-error value', () => {
    expect(codes.map((code) => errors[code].headerValue)).toEqual([
      'upstream-connect-timeout',
      'upstream-connect-failure',
      'upstream-reset',
      'no-healthy-upstream',
      'overloaded',
      'circuit-open',
      'rate-limited',
      'request-timeout',
      'per-try-timeout',
      'grpc-deadline-exceeded',
      'budget-exhausted',
      'no-route',
      'bad-request',
      'headers-too-large',
      'request-too-large',
      'upstream-protocol-error',
      'fault-injected',
    ]);
  });

  it('derives each header value from its code in kebab-case', () => {
    for (const code of codes) {
      expect(errors[code].headerValue).toBe(code.slice(4).toLowerCase().replaceAll('_', '-'));
    }
  });

  it.each([
    ['TRL_UPSTREAM_CONNECT_TIMEOUT', 504, 14],
    ['TRL_OVERLOADED', 503, 14],
    ['TRL_RATE_LIMITED', 429, 8],
    ['TRL_REQUEST_TIMEOUT', 504, 4],
    ['TRL_PER_TRY_TIMEOUT', 504, 4],
    ['TRL_NO_HEALTHY_UPSTREAM', 503, 14],
    ['TRL_BUDGET_EXHAUSTED', 503, 14],
    ['TRL_NO_ROUTE', 404, 12],
    ['TRL_BAD_REQUEST', 400, 13],
  ] as const)('maps %s to HTTP %i and gRPC %i', (code, http, grpc) => {
    expect([errors[code].httpStatus, errors[code].grpcStatus]).toEqual([http, grpc]);
  });
});

describe('TrellisError', () => {
  it('carries the code, statuses and header value, with the description as default message', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new TrellisError('TRL_UPSTREAM_CONNECT_TIMEOUT', undefined, { cause });
    expect(err).toMatchObject({
      name: 'TrellisError',
      code: 'TRL_UPSTREAM_CONNECT_TIMEOUT',
      httpStatus: 504,
      grpcStatus: 14,
      headerValue: 'upstream-connect-timeout',
      message: errors.TRL_UPSTREAM_CONNECT_TIMEOUT.description,
      cause,
    });
  });

  it('takes a specific message', () => {
    expect(new TrellisError('TRL_NO_HEALTHY_UPSTREAM', 'no endpoint for web:80').message).toBe(
      'no endpoint for web:80',
    );
  });

  it('names the tripped limit in OverloadedError', () => {
    const err = new OverloadedError('pending-requests');
    expect([err.code, err.limit, err.httpStatus, err.name]).toEqual([
      'TRL_OVERLOADED',
      'pending-requests',
      503,
      'OverloadedError',
    ]);
    expect(err).toBeInstanceOf(TrellisError);
  });

  it('rounds Retry-After up to whole seconds in RateLimitedError', () => {
    const err = new RateLimitedError(1500);
    expect([err.code, err.httpStatus, err.retryAfterMs, err.retryAfterSeconds]).toEqual([
      'TRL_RATE_LIMITED',
      429,
      1500,
      2,
    ]);
  });
});

describe('isTrellisError', () => {
  it('recognises TrellisErrors and their subclasses', () => {
    expect(isTrellisError(new TrellisError('TRL_CIRCUIT_OPEN'))).toBe(true);
    expect(isTrellisError(new RateLimitedError(10))).toBe(true);
  });

  it('recognises one from another copy of the package by its brand', () => {
    const foreign = Object.create({
      get [Symbol.for('trellis.error')]() {
        return true;
      },
    }) as object;
    expect(isTrellisError(foreign)).toBe(true);
  });

  it('rejects other values', () => {
    expect(
      [new Error('x'), null, 'TRL_OVERLOADED', { code: 'TRL_OVERLOADED' }].map(isTrellisError),
    ).toEqual([false, false, false, false]);
  });
});
