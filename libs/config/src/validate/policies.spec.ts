import { describe, expect, it } from 'vitest';
import { doc, problems, services, validate } from '../../testing/fixtures.js';

function specOf(kind: string, spec: unknown): unknown {
  const { resources, issues } = validate(...services(), doc(kind, 'catalog', spec));
  expect(issues).toEqual([]);
  return resources[3]?.spec;
}

describe('DestinationPolicy', () => {
  it('fills in every default', () => {
    expect(specOf('DestinationPolicy', { service: 'catalog', outlierDetection: {} })).toEqual({
      service: 'catalog',
      loadBalancer: { algorithm: 'least-request', ewmaDecay: '10s' },
      connectTimeout: '1s',
      connectionPool: {
        maxConnections: 1024,
        maxPendingRequests: 1024,
        maxActiveRequests: 1024,
        idleTimeout: '60s',
      },
      outlierDetection: {
        consecutive5xx: 5,
        consecutiveGatewayErrors: 5,
        interval: '10s',
        baseEjectionTime: '30s',
        maxEjectionTime: '300s',
        maxEjectionPercent: 10,
      },
    });
  });

  it('accepts consistent hashing on a header', () => {
    expect(
      specOf('DestinationPolicy', {
        service: 'catalog',
        loadBalancer: { algorithm: 'consistent-hash', hashHeader: 'x-user' },
      }),
    ).toMatchObject({ loadBalancer: { algorithm: 'consistent-hash', hashHeader: 'x-user' } });
  });

  it('needs a hash header for consistent hashing', () => {
    const { issues } = validate(
      ...services(),
      doc('DestinationPolicy', 'catalog', {
        service: 'catalog',
        loadBalancer: { algorithm: 'consistent-hash' },
      }),
    );
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_CONSTRAINT',
        document: 'destinationpolicy/catalog.shop',
        path: 'spec.loadBalancer.hashHeader',
        message: 'is required when algorithm is consistent-hash',
      },
    ]);
  });

  it('takes a hash header only for consistent hashing', () => {
    expect(
      problems(
        doc('DestinationPolicy', 'catalog', {
          service: 'catalog',
          loadBalancer: { hashHeader: 'x-user' },
        }),
      ),
    ).toEqual([
      'destinationpolicy/catalog.shop: spec.loadBalancer.hashHeader: is only allowed when algorithm is consistent-hash (got least-request)',
    ]);
  });

  it('needs the longest ejection to be at least the first', () => {
    expect(
      problems(
        doc('DestinationPolicy', 'catalog', {
          service: 'catalog',
          outlierDetection: { baseEjectionTime: '1m', maxEjectionTime: '30s' },
        }),
      ),
    ).toEqual([
      'destinationpolicy/catalog.shop: spec.outlierDetection.maxEjectionTime: must be ≥ baseEjectionTime (1m) (got 30s)',
    ]);
  });

  it("fills in the failure-accrual defaults (Linkerd's)", () => {
    expect(specOf('DestinationPolicy', { service: 'catalog', failureAccrual: {} })).toMatchObject({
      failureAccrual: { consecutiveFailures: 7, minPenalty: '1s', maxPenalty: '60s' },
    });
  });

  it('leaves failureAccrual out when it is not given (no breaker)', () => {
    expect(specOf('DestinationPolicy', { service: 'catalog' })).not.toHaveProperty(
      'failureAccrual',
    );
  });

  it('accepts failure accrual with equal penalties', () => {
    const failureAccrual = { consecutiveFailures: 1, minPenalty: '200ms', maxPenalty: '200ms' };
    expect(specOf('DestinationPolicy', { service: 'catalog', failureAccrual })).toMatchObject({
      failureAccrual,
    });
  });

  it('needs the longest penalty to be at least the first', () => {
    const { issues } = validate(
      ...services(),
      doc('DestinationPolicy', 'catalog', {
        service: 'catalog',
        failureAccrual: { minPenalty: '10s', maxPenalty: '5s' },
      }),
    );
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_CONSTRAINT',
        document: 'destinationpolicy/catalog.shop',
        path: 'spec.failureAccrual.maxPenalty',
        message: 'must be ≥ minPenalty (10s) (got 5s)',
      },
    ]);
  });

  it('compares the default penalties with a given one', () => {
    expect(
      problems(
        doc('DestinationPolicy', 'catalog', {
          service: 'catalog',
          failureAccrual: { minPenalty: '2m' },
        }),
      ),
    ).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.maxPenalty: must be ≥ minPenalty (2m) (got 60s)',
    ]);
  });

  it('bounds the failure-accrual fields', () => {
    const policy = (failureAccrual: object) =>
      problems(doc('DestinationPolicy', 'catalog', { service: 'catalog', failureAccrual }));
    expect(policy({ consecutiveFailures: 0 })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.consecutiveFailures: must be ≥ 1 (got 0)',
    ]);
    expect(policy({ consecutiveFailures: 1001 })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.consecutiveFailures: must be ≤ 1000 (got 1001)',
    ]);
    expect(policy({ consecutiveFailures: 2.5 })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.consecutiveFailures: must be an integer (got 2.5)',
    ]);
    expect(policy({ minPenalty: '0s' })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.minPenalty: must be ≥ 1ms (got 0s)',
    ]);
    expect(policy({ maxPenalty: '25h' })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.maxPenalty: must be ≤ 24h (got 25h)',
    ]);
  });

  it('rejects a malformed penalty and unknown failure-accrual fields', () => {
    const policy = (failureAccrual: object) =>
      problems(doc('DestinationPolicy', 'catalog', { service: 'catalog', failureAccrual }));
    expect(policy({ minPenalty: 'soon' })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.minPenalty: must be a duration like 250ms, 1.5s or 2m (got "soon")',
    ]);
    expect(policy({ threshold: 3 })).toEqual([
      'destinationpolicy/catalog.shop: spec.failureAccrual.threshold: unknown field "threshold"',
    ]);
  });

  it('bounds limits and durations', () => {
    expect(
      problems(
        doc('DestinationPolicy', 'catalog', {
          service: 'catalog',
          connectTimeout: '2m',
          connectionPool: { maxConnections: 0, idleTimeout: '500ms' },
          outlierDetection: { maxEjectionPercent: 150 },
        }),
      ),
    ).toEqual([
      'destinationpolicy/catalog.shop: spec.connectionPool.maxConnections: must be ≥ 1 (got 0)',
      'destinationpolicy/catalog.shop: spec.outlierDetection.maxEjectionPercent: must be ≤ 100 (got 150)',
    ]);
    expect(
      problems(
        doc('DestinationPolicy', 'catalog', {
          service: 'catalog',
          connectTimeout: '2m',
          connectionPool: { idleTimeout: '500ms' },
        }),
      ),
    ).toEqual([
      'destinationpolicy/catalog.shop: spec.connectTimeout: must be ≤ 1m (got 2m)',
      'destinationpolicy/catalog.shop: spec.connectionPool.idleTimeout: must be ≥ 1s (got 500ms)',
    ]);
  });
});

describe('RateLimit', () => {
  const bucket = { maxTokens: 10, tokensPerFill: 5, fillInterval: '1s' };

  it('limits a service and defaults the status to 429', () => {
    expect(specOf('RateLimit', { service: 'catalog', tokenBucket: bucket })).toEqual({
      service: 'catalog',
      tokenBucket: bucket,
      statusCode: 429,
    });
  });

  it('limits a route', () => {
    const { issues } = validate(
      ...services(),
      doc('Route', 'catalog', { hosts: ['catalog'], destinations: [{ service: 'catalog' }] }),
      doc('RateLimit', 'catalog', { route: 'catalog', tokenBucket: bucket, statusCode: 503 }),
    );
    expect(issues).toEqual([]);
  });

  it('needs exactly one target', () => {
    expect(problems(doc('RateLimit', 'x', { tokenBucket: bucket }))).toEqual([
      'ratelimit/x.shop: spec: must set exactly one of service or route (got none)',
    ]);
    expect(
      problems(
        doc('RateLimit', 'x', { service: 'catalog', route: 'catalog', tokenBucket: bucket }),
      ),
    ).toContain(
      'ratelimit/x.shop: spec: must set exactly one of service or route (got service and route)',
    );
  });

  it('needs a complete, bounded bucket', () => {
    expect(
      problems(
        doc('RateLimit', 'x', {
          service: 'catalog',
          tokenBucket: { maxTokens: 0, fillInterval: '0s' },
        }),
      ),
    ).toEqual([
      'ratelimit/x.shop: spec.tokenBucket.tokensPerFill: is required',
      'ratelimit/x.shop: spec.tokenBucket.maxTokens: must be ≥ 1 (got 0)',
    ]);
    expect(
      problems(
        doc('RateLimit', 'x', {
          service: 'catalog',
          tokenBucket: { ...bucket, fillInterval: '0s' },
        }),
      ),
    ).toEqual(['ratelimit/x.shop: spec.tokenBucket.fillInterval: must be ≥ 1ms (got 0s)']);
  });
});

describe('RetryBudget', () => {
  it('fills in ratio, minimum rate and window', () => {
    expect(specOf('RetryBudget', { service: 'catalog' })).toEqual({
      service: 'catalog',
      ratio: 0.2,
      minRetriesPerSecond: 10,
      ttl: '10s',
    });
  });

  it('bounds the ratio to 0..1', () => {
    expect(problems(doc('RetryBudget', 'catalog', { service: 'catalog', ratio: 1.5 }))).toEqual([
      'retrybudget/catalog.shop: spec.ratio: must be ≤ 1 (got 1.5)',
    ]);
  });

  it('bounds the window', () => {
    expect(problems(doc('RetryBudget', 'catalog', { service: 'catalog', ttl: '100ms' }))).toEqual([
      'retrybudget/catalog.shop: spec.ttl: must be ≥ 1s (got 100ms)',
    ]);
  });
});

describe('Telemetry', () => {
  it('fills in tracing, metrics and access log defaults', () => {
    expect(specOf('Telemetry', {})).toEqual({
      tracing: { samplingPercent: 1, propagation: ['w3c'] },
      metrics: { enabled: true },
      accessLog: { enabled: true, samplingPercent: 100 },
    });
  });

  it('turns request metrics off, and rejects unknown or mistyped metrics fields', () => {
    expect(specOf('Telemetry', { metrics: { enabled: false } })).toMatchObject({
      metrics: { enabled: false },
    });
    expect(problems(doc('Telemetry', 'mesh', { metrics: { enabled: 'no', sampling: 5 } }))).toEqual(
      [
        'telemetry/mesh.shop: spec.metrics.sampling: unknown field "sampling"',
        'telemetry/mesh.shop: spec.metrics.enabled: must be a boolean (got string)',
      ],
    );
  });

  it('applies to one service', () => {
    expect(
      specOf('Telemetry', { service: 'catalog', accessLog: { format: '%REQ(:path)%' } }),
    ).toMatchObject({
      service: 'catalog',
      accessLog: { enabled: true, samplingPercent: 100, format: '%REQ(:path)%' },
    });
  });

  it('rejects unknown and repeated propagation formats', () => {
    expect(
      problems(doc('Telemetry', 'mesh', { tracing: { propagation: ['b3', 'jaeger'] } })),
    ).toEqual([
      'telemetry/mesh.shop: spec.tracing.propagation[1]: must be one of w3c, b3, b3-multi (got "jaeger")',
    ]);
    expect(problems(doc('Telemetry', 'mesh', { tracing: { propagation: ['b3', 'b3'] } }))).toEqual([
      'telemetry/mesh.shop: spec.tracing.propagation[1]: duplicate propagation "b3" (also at spec.tracing.propagation[0])',
    ]);
  });

  it('bounds sampling', () => {
    expect(problems(doc('Telemetry', 'mesh', { tracing: { samplingPercent: -1 } }))).toEqual([
      'telemetry/mesh.shop: spec.tracing.samplingPercent: must be ≥ 0 (got -1)',
    ]);
  });
});
