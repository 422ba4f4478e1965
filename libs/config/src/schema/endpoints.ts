// Endpoints: the addresses currently backing one service, like a Kubernetes EndpointSlice.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { IpAddress, Name, Obj, Port, ResourceSchema, ZONE_PATTERN } from './common.js';

export const EndpointConditionsSchema = Obj(
  {
    ready: Type.Boolean({
      description: 'The endpoint passes its readiness checks and may get new traffic.',
      default: true,
    }),
    serving: Type.Boolean({
      description: 'The endpoint can serve requests (it may be serving while terminating).',
      default: true,
    }),
    terminating: Type.Boolean({
      description: 'The endpoint is shutting down; it gets traffic only when nothing else serves.',
      default: false,
    }),
  },
  { description: 'Health of the endpoint.', default: {} },
);

export const EndpointSchema = Obj(
  {
    address: IpAddress('IPv4 or IPv6 literal the endpoint listens on.'),
    port: Port('Port the endpoint listens on.'),
    weight: Type.Integer({
      description: 'Relative share of the service traffic this endpoint gets.',
      minimum: 1,
      maximum: 1000,
      default: 1,
    }),
    zone: Type.Optional(
      Type.String({
        description: 'Locality (availability zone) of the endpoint, for zone-aware balancing.',
        pattern: ZONE_PATTERN,
        maxLength: 63,
      }),
    ),
    conditions: EndpointConditionsSchema,
  },
  { description: 'One endpoint; address and port must be unique within the document.' },
);

export const EndpointsSpecSchema = Obj(
  {
    service: Name('Service in the same namespace these endpoints back; one Endpoints per service.'),
    endpoints: Type.Array(EndpointSchema, {
      description: 'The endpoints; empty when the service has none.',
      maxItems: 10_000,
    }),
  },
  { description: 'Endpoints specification.' },
);

export const EndpointsSchema = ResourceSchema(
  'Endpoints',
  'The endpoints backing one service (one document per service).',
  EndpointsSpecSchema,
);

export type Endpoint = Static<typeof EndpointSchema>;
export type EndpointsResource = Static<typeof EndpointsSchema>;
