// DestinationPolicy: how clients balance, connect to and eject the endpoints of one service.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Duration, HeaderName, Name, Obj, Percent, ResourceSchema, StringEnum } from './common.js';

export const LB_ALGORITHMS = ['round-robin', 'least-request', 'ewma', 'consistent-hash'] as const;
export type LoadBalancerAlgorithm = (typeof LB_ALGORITHMS)[number];

const LIMIT_MAX = 1_000_000;

function limit(description: string, fallback: number) {
  return Type.Integer({ description, minimum: 1, maximum: LIMIT_MAX, default: fallback });
}

export const LoadBalancerSchema = Obj(
  {
    algorithm: StringEnum(LB_ALGORITHMS, {
      description:
        'round-robin, least-request (power of two choices), ewma (peak latency EWMA) or consistent-hash (by hashHeader).',
      default: 'least-request',
    }),
    hashHeader: Type.Optional(
      HeaderName(
        'Header whose value picks the endpoint; required with consistent-hash, only with it.',
      ),
    ),
    ewmaDecay: Duration({
      description: 'Decay time of the ewma latency average.',
      default: '10s',
      min: '1ms',
      max: '1h',
    }),
  },
  { description: 'Load balancing across the endpoints.', default: {} },
);

export const ConnectionPoolSchema = Obj(
  {
    maxConnections: limit('Most connections open to the service at once.', 1024),
    maxPendingRequests: limit('Most requests waiting for a connection.', 1024),
    maxActiveRequests: limit('Most requests in flight at once.', 1024),
    maxRequestsPerConnection: Type.Optional(
      Type.Integer({
        description: 'Close a connection after this many requests; absent: no limit.',
        minimum: 1,
        maximum: LIMIT_MAX,
      }),
    ),
    idleTimeout: Duration({
      description: 'Close connections idle this long.',
      default: '60s',
      min: '1s',
      max: '24h',
    }),
  },
  { description: 'Connection and request limits (circuit breaking).', default: {} },
);

export const OutlierDetectionSchema = Obj(
  {
    consecutive5xx: Type.Integer({
      description: 'Eject an endpoint after this many 5xx responses in a row.',
      minimum: 1,
      maximum: 1000,
      default: 5,
    }),
    consecutiveGatewayErrors: Type.Integer({
      description: 'Eject an endpoint after this many 502/503/504 or connect errors in a row.',
      minimum: 1,
      maximum: 1000,
      default: 5,
    }),
    interval: Duration({
      description: 'How often ejections are reviewed.',
      default: '10s',
      min: '100ms',
      max: '1h',
    }),
    baseEjectionTime: Duration({
      description: 'First ejection length; grows with each ejection of the same endpoint.',
      default: '30s',
      min: '1s',
      max: '1h',
    }),
    maxEjectionTime: Duration({
      description: 'Longest ejection; at least baseEjectionTime.',
      default: '300s',
      min: '1s',
      max: '24h',
    }),
    maxEjectionPercent: Percent({
      description: 'Most endpoints, in percent, ejected at once.',
      default: 10,
    }),
  },
  { description: 'Passive health checking; absent: endpoints are never ejected.' },
);

/** Linkerd's failure-accrual defaults: 7 failures in a row, penalties from 1 s doubling to 60 s. */
export const FailureAccrualSchema = Obj(
  {
    consecutiveFailures: Type.Integer({
      description:
        'Open the circuit after this many failed attempts in a row (5xx, connect failure, reset, per-try timeout).',
      minimum: 1,
      maximum: 1000,
      default: 7,
    }),
    minPenalty: Duration({
      description:
        'How long the circuit stays open before one probe attempt; doubles after each failed probe.',
      default: '1s',
      min: '1ms',
      max: '1h',
    }),
    maxPenalty: Duration({
      description: 'Longest the circuit stays open between probes; at least minPenalty.',
      default: '60s',
      min: '1ms',
      max: '24h',
    }),
  },
  {
    description:
      'Consecutive-failure circuit breaker for the whole destination: while open, attempts are answered 503 circuit-open at once; absent: no breaker.',
  },
);

export const DestinationPolicySpecSchema = Obj(
  {
    service: Name('Service in the same namespace this policy applies to; one policy per service.'),
    loadBalancer: LoadBalancerSchema,
    connectTimeout: Duration({
      description: 'Timeout for opening a connection to an endpoint.',
      default: '1s',
      min: '1ms',
      max: '1m',
    }),
    connectionPool: ConnectionPoolSchema,
    outlierDetection: Type.Optional(OutlierDetectionSchema),
    failureAccrual: Type.Optional(FailureAccrualSchema),
  },
  { description: 'DestinationPolicy specification.' },
);

export const DestinationPolicySchema = ResourceSchema(
  'DestinationPolicy',
  'How clients balance, connect to and eject the endpoints of one service.',
  DestinationPolicySpecSchema,
);

export type DestinationPolicyResource = Static<typeof DestinationPolicySchema>;
