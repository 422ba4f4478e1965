// Telemetry: tracing, request metrics and access logging, for one service or the whole mesh.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Name, Obj, Percent, ResourceSchema, StringEnum } from './common.js';

export const PROPAGATIONS = ['w3c', 'b3', 'b3-multi'] as const;
export type Propagation = (typeof PROPAGATIONS)[number];

export const TracingSchema = Obj(
  {
    samplingPercent: Percent({ description: 'Share of new traces that are sampled.', default: 1 }),
    propagation: Type.Array(
      StringEnum(PROPAGATIONS, {
        description: 'w3c (traceparent), b3 (single b3 header) or b3-multi (X-B3-* headers).',
      }),
      {
        description: 'Trace context formats read and written (no duplicates), first preferred.',
        minItems: 1,
        maxItems: PROPAGATIONS.length,
        default: ['w3c'],
      },
    ),
  },
  { description: 'Distributed tracing.', default: {} },
);

export const AccessLogSchema = Obj(
  {
    enabled: Type.Boolean({ description: 'Write access log lines.', default: true }),
    samplingPercent: Percent({ description: 'Share of requests logged.', default: 100 }),
    format: Type.Optional(
      Type.String({
        description: 'Line template; absent: one JSON object per request.',
        minLength: 1,
        maxLength: 4096,
      }),
    ),
  },
  { description: 'Access logging.', default: {} },
);

export const MetricsSchema = Obj(
  {
    enabled: Type.Boolean({
      description:
        "Record the request metrics (requests, latency, bytes, retries, local answers); the proxy's own gauges (config, connections, endpoints) are always served.",
      default: true,
    }),
  },
  { description: 'Prometheus request metrics on the admin /metrics endpoint.', default: {} },
);

export const TelemetrySpecSchema = Obj(
  {
    service: Type.Optional(
      Name(
        'Service in the same namespace this applies to; absent: the mesh-wide default (at most one in the mesh).',
      ),
    ),
    tracing: TracingSchema,
    metrics: MetricsSchema,
    accessLog: AccessLogSchema,
  },
  { description: 'Telemetry specification.' },
);

export const TelemetrySchema = ResourceSchema(
  'Telemetry',
  'Tracing, request metrics and access logging for one service, or the mesh-wide default.',
  TelemetrySpecSchema,
);

export type TelemetryResource = Static<typeof TelemetrySchema>;
