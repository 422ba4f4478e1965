import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from './params.js';
import {
  RetryPolicy,
  type AttemptOutcome,
  type RetryOn,
  type RetryParams,
} from './retry-policy.js';

function policy(retryOn: RetryOn[], overrides: Partial<RetryParams> = {}): RetryPolicy {
  return new RetryPolicy({
    attempts: 2,
    retryOn,
    retriableStatusCodes: [],
    retryNonIdempotent: false,
    ...overrides,
  });
}

const response = (status: number, grpcStatus?: number): AttemptOutcome =>
  grpcStatus === undefined
    ? { kind: 'response', status }
    : { kind: 'response', status, grpcStatus };

describe('RetryPolicy conditions', () => {
  it('retries 502, 503 and 504 on gateway-error', () => {
    const p = policy(['gateway-error']);
    for (const status of [502, 503, 504]) {
      expect(p.decide(response(status), 'GET', true, 0)).toEqual({
        retry: true,
        reason: 'gateway-error',
      });
    }
  });

  it('does not retry 500 on gateway-error alone', () => {
    expect(policy(['gateway-error']).decide(response(500), 'GET', true, 0)).toEqual({
      retry: false,
      reason: 'not-retriable',
    });
  });

  it('retries any 5xx on 5xx, but not 4xx or 600', () => {
    const p = policy(['5xx']);
    expect(p.decide(response(500), 'GET', true, 0)).toEqual({ retry: true, reason: '5xx' });
    expect(p.decide(response(599), 'GET', true, 0)).toEqual({ retry: true, reason: '5xx' });
    expect(p.decide(response(429), 'GET', true, 0).reason).toBe('not-retriable');
    expect(p.decide(response(600), 'GET', true, 0).reason).toBe('not-retriable');
  });

  it('names the most specific enabled condition', () => {
    const p = policy(['5xx', 'gateway-error', 'reset', 'connect-failure']);
    expect(p.decide(response(503), 'GET', true, 0).reason).toBe('gateway-error');
    expect(p.decide({ kind: 'connect-failure' }, 'GET', true, 0).reason).toBe('connect-failure');
    expect(p.decide({ kind: 'refused-stream' }, 'GET', true, 0).reason).toBe('reset');
  });

  it('retries listed statuses on retriable-status-codes', () => {
    const p = policy(['retriable-status-codes'], { retriableStatusCodes: [409] });
    expect(p.decide(response(409), 'GET', true, 0)).toEqual({
      retry: true,
      reason: 'retriable-status-codes',
    });
    expect(p.decide(response(503), 'GET', true, 0).reason).toBe('not-retriable');
  });

  it('ignores the status list unless retriable-status-codes is on', () => {
    const p = policy(['5xx'], { retriableStatusCodes: [409] });
    expect(p.decide(response(409), 'GET', true, 0).reason).toBe('not-retriable');
  });

  it.each([
    ['connect-failure', ['connect-failure', 'reset', 'gateway-error', '5xx']],
    ['refused-stream', ['refused-stream', 'reset', 'gateway-error', '5xx']],
    ['reset', ['reset', 'gateway-error', '5xx']],
    ['per-try-timeout', ['reset', 'gateway-error', '5xx']],
  ] as const)('retries %s on exactly %o', (kind, covering) => {
    for (const condition of [
      'connect-failure',
      'refused-stream',
      'reset',
      'gateway-error',
      '5xx',
    ] as const) {
      const decision = policy([condition]).decide({ kind }, 'GET', true, 0);
      expect(decision.retry).toBe((covering as readonly string[]).includes(condition));
    }
  });

  it.each([
    [1, 'cancelled'],
    [4, 'deadline-exceeded'],
    [8, 'resource-exhausted'],
    [13, 'internal'],
    [14, 'unavailable'],
  ] as const)('retries grpc-status %i on %s', (grpcStatus, condition) => {
    expect(policy([condition]).decide(response(200, grpcStatus), 'POST', true, 0)).toEqual({
      retry: false,
      reason: 'non-idempotent',
    });
    expect(
      policy([condition], { retryNonIdempotent: true }).decide(
        response(200, grpcStatus),
        'POST',
        true,
        0,
      ),
    ).toEqual({ retry: true, reason: condition });
  });

  it('does not retry a gRPC status whose condition is off', () => {
    const p = policy(['unavailable']);
    expect(p.decide(response(200, 13), 'GET', true, 0).reason).toBe('not-retriable');
    expect(p.decide(response(200, 2), 'GET', true, 0).reason).toBe('not-retriable');
  });
});

describe('RetryPolicy limits', () => {
  it('stops when the retries are used up', () => {
    const p = policy(['5xx']);
    expect(p.decide(response(503), 'GET', true, 1).retry).toBe(true);
    expect(p.decide(response(503), 'GET', true, 2)).toEqual({
      retry: false,
      reason: 'attempts-exhausted',
    });
  });

  it('never retries with attempts 0', () => {
    expect(policy(['5xx'], { attempts: 0 }).decide(response(503), 'GET', true, 0).reason).toBe(
      'attempts-exhausted',
    );
  });

  it('reports a success as not-retriable even with no retries left', () => {
    expect(policy(['5xx'], { attempts: 0 }).decide(response(200), 'GET', true, 0).reason).toBe(
      'not-retriable',
    );
  });

  it('does not retry a POST that reached the upstream', () => {
    const p = policy(['5xx']);
    expect(p.decide(response(503), 'POST', true, 0)).toEqual({
      retry: false,
      reason: 'non-idempotent',
    });
    expect(p.decide({ kind: 'reset' }, 'POST', true, 0).reason).toBe('non-idempotent');
    expect(p.decide({ kind: 'per-try-timeout' }, 'PATCH', true, 0).reason).toBe('non-idempotent');
  });

  it('retries a POST whose connection failed or whose stream was refused', () => {
    const p = policy(['5xx']);
    expect(p.decide({ kind: 'connect-failure' }, 'POST', true, 0)).toEqual({
      retry: true,
      reason: '5xx',
    });
    expect(p.decide({ kind: 'refused-stream' }, 'POST', true, 0).retry).toBe(true);
  });

  it('retries every RFC 9110 idempotent method', () => {
    const p = policy(['5xx']);
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) {
      expect(p.decide(response(503), method, true, 0).retry).toBe(true);
    }
  });

  it('treats method names case-sensitively', () => {
    expect(policy(['5xx']).decide(response(503), 'get', true, 0).reason).toBe('non-idempotent');
  });

  it('retries a POST after it reached the upstream when retryNonIdempotent is set', () => {
    const p = policy(['5xx'], { retryNonIdempotent: true });
    expect(p.decide(response(503), 'POST', true, 0)).toEqual({ retry: true, reason: '5xx' });
  });

  it('does not retry when the body cannot be replayed, even after a connect failure', () => {
    const p = policy(['5xx']);
    expect(p.decide(response(503), 'PUT', false, 0)).toEqual({
      retry: false,
      reason: 'body-not-replayable',
    });
    expect(p.decide({ kind: 'connect-failure' }, 'POST', false, 0).reason).toBe(
      'body-not-replayable',
    );
  });

  it('returns shared frozen decisions', () => {
    const p = policy(['5xx']);
    const first = p.decide(response(503), 'GET', true, 0);
    expect(p.decide(response(500), 'GET', true, 0)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(p.decide(response(200), 'GET', true, 0)).toBe(p.decide(response(404), 'GET', true, 0));
  });
});

describe('RetryPolicy params', () => {
  it.each([
    [{ attempts: 11 }, 'attempts'],
    [{ attempts: -1 }, 'attempts'],
    [{ attempts: 1.5 }, 'attempts'],
    [{ retriableStatusCodes: [409, 99] }, 'retriableStatusCodes[1]'],
    [{ retriableStatusCodes: [600] }, 'retriableStatusCodes[0]'],
    [{ retryOn: ['5xx', 'teapot'] as RetryOn[] }, 'retryOn'],
  ])('rejects %o naming %s', (overrides, field) => {
    expect(() => policy(['5xx'], overrides)).toThrow(InvalidParamsError);
    expect(() => policy(['5xx'], overrides)).toThrow(expect.objectContaining({ field }));
  });

  it('accepts retryOn as a Set', () => {
    const p = policy([], { retryOn: new Set<RetryOn>(['reset']) });
    expect(p.decide({ kind: 'reset' }, 'GET', true, 0).reason).toBe('reset');
  });
});
