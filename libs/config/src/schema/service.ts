// Service: a named set of ports that clients address; its endpoints come from an Endpoints document.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Hostname, Name, Obj, Port, ResourceSchema, StringEnum } from './common.js';

export const PROTOCOLS = ['http1', 'h2c', 'grpc'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const ServicePortSchema = Obj(
  {
    name: Type.Optional(Name('Port name, unique within the service.')),
    port: Port('Port clients address the service on; unique within the service.'),
    targetPort: Type.Optional(
      Port('Port the workload itself listens on, when it differs from `port`.'),
    ),
    protocol: StringEnum(PROTOCOLS, {
      description:
        'Application protocol: http1 (HTTP/1.1), h2c (cleartext HTTP/2) or grpc (gRPC over h2c).',
      default: 'http1',
    }),
  },
  { description: 'One port of the service.' },
);

export const ServiceSpecSchema = Obj(
  {
    ports: Type.Array(ServicePortSchema, {
      description: 'Ports of the service; port numbers and names must be unique.',
      minItems: 1,
      maxItems: 64,
    }),
    aliases: Type.Optional(
      Type.Array(
        Hostname(
          'Extra host name clients may use for the service; unique among the names and aliases of the services in the namespace.',
        ),
        { description: 'Extra host names for the service.', maxItems: 64 },
      ),
    ),
  },
  { description: 'Service specification.' },
);

export const ServiceSchema = ResourceSchema(
  'Service',
  'A named service: the ports clients address it on and the extra host names it answers to.',
  ServiceSpecSchema,
);

export type ServicePort = Static<typeof ServicePortSchema>;
export type ServiceResource = Static<typeof ServiceSchema>;
