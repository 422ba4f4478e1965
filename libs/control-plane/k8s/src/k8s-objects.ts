// Typed views of the few fields the source reads from Kubernetes objects. The cache holds both the
// client's model instances (from lists) and plain JSON (from watch events); both have the same
// field names, so everything is read defensively from `unknown` here and nowhere else.

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ServicePortView {
  readonly name: string | undefined;
  readonly port: number;
  /** A number, a container port name, or undefined (the API server defaults it to `port`). */
  readonly targetPort: number | string | undefined;
  /** TCP, UDP or SCTP. */
  readonly protocol: string;
  readonly appProtocol: string | undefined;
}

export interface ServiceView {
  readonly meta: ObjectMeta;
  /** ClusterIP, NodePort, LoadBalancer or ExternalName. */
  readonly type: string;
  readonly externalName: string | undefined;
  readonly ports: readonly ServicePortView[];
}

export interface SliceEndpointView {
  readonly addresses: readonly string[];
  readonly ready: boolean | undefined;
  readonly serving: boolean | undefined;
  readonly terminating: boolean | undefined;
  readonly zone: string | undefined;
}

export interface SlicePortView {
  /** The Service port this is for ('' for an unnamed port). */
  readonly name: string;
  /** undefined means "all ports" (only for selector-less services); unusable for Trellis. */
  readonly port: number | undefined;
  readonly protocol: string;
}

export interface EndpointSliceView {
  readonly meta: ObjectMeta;
  /** From the `kubernetes.io/service-name` label; undefined for slices of no Service. */
  readonly serviceName: string | undefined;
  /** IPv4, IPv6 or FQDN. */
  readonly addressType: string;
  readonly endpoints: readonly SliceEndpointView[];
  readonly ports: readonly SlicePortView[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

type Fields = Readonly<Record<string, unknown>>;

export function fields(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : undefined;
}

export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function flag(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(fields(value) ?? {})) {
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}

export function readMeta(object: unknown): ObjectMeta | undefined {
  const metadata = fields(fields(object)?.['metadata']);
  const name = text(metadata?.['name']);
  if (metadata === undefined || name === undefined) return undefined;
  return {
    name,
    namespace: text(metadata['namespace']) ?? 'default',
    labels: stringMap(metadata['labels']),
  };
}

export function readService(object: unknown): ServiceView | undefined {
  const meta = readMeta(object);
  if (meta === undefined) return undefined;
  const spec = fields(fields(object)?.['spec']) ?? {};
  const ports = list(spec['ports']).flatMap((entry): ServicePortView[] => {
    const port = fields(entry);
    const number = integer(port?.['port']);
    if (port === undefined || number === undefined) return [];
    const target = port['targetPort'];
    return [
      {
        name: text(port['name']) || undefined,
        port: number,
        targetPort: integer(target) ?? text(target),
        protocol: text(port['protocol']) ?? 'TCP',
        appProtocol: text(port['appProtocol']),
      },
    ];
  });
  return {
    meta,
    type: text(spec['type']) ?? 'ClusterIP',
    externalName: text(spec['externalName']),
    ports,
  };
}

export function readEndpointSlice(object: unknown): EndpointSliceView | undefined {
  const meta = readMeta(object);
  if (meta === undefined) return undefined;
  const slice = fields(object) ?? {};
  const endpoints = list(slice['endpoints']).flatMap((entry): SliceEndpointView[] => {
    const endpoint = fields(entry);
    if (endpoint === undefined) return [];
    const conditions = fields(endpoint['conditions']) ?? {};
    return [
      {
        addresses: list(endpoint['addresses']).flatMap((a) => (typeof a === 'string' ? [a] : [])),
        ready: flag(conditions['ready']),
        serving: flag(conditions['serving']),
        terminating: flag(conditions['terminating']),
        zone: text(endpoint['zone']),
      },
    ];
  });
  const ports = list(slice['ports']).flatMap((entry): SlicePortView[] => {
    const port = fields(entry);
    if (port === undefined) return [];
    return [
      {
        name: text(port['name']) ?? '',
        port: integer(port['port']),
        protocol: text(port['protocol']) ?? 'TCP',
      },
    ];
  });
  return {
    meta,
    serviceName: meta.labels[SERVICE_NAME_LABEL],
    addressType: text(slice['addressType']) ?? 'IPv4',
    endpoints,
    ports,
  };
}
