// Kubernetes Services and their EndpointSlices → Trellis Service and Endpoints documents.
//
// Mapping (the decisions, in one place):
// - Every Service becomes a Service of the same name and namespace, selector-less ones included;
//   ExternalName Services are skipped with a warning (they name a DNS host, not endpoints).
// - Only TCP ports are kept (Trellis proxies HTTP); a Service with no TCP port at all (UDP-only,
//   or headless without ports) has nothing Trellis could route and is skipped silently.
// - Port name and number are copied. targetPort: a number is copied (and left out when equal to
//   the port, which is what an absent targetPort means); a container port name is resolved
//   through the EndpointSlice ports of the same Service port name; unresolvable (no endpoints
//   yet): left out.
// - protocol comes from appProtocol: see APP_PROTOCOLS; none: http1; others: http1 + warning.
// - All EndpointSlices labelled `kubernetes.io/service-name: <svc>` become one Endpoints document
//   `<svc>` (also when there are none: an empty list says "no endpoints", not "unknown").
//   Each address of each endpoint × each TCP port of the slice is one endpoint, weight 1, with
//   the endpoint's zone and conditions (unset ready/serving count as true and unset terminating
//   as false, as kube-proxy reads them). IPv4 and IPv6 slices both count; FQDN slices are
//   skipped with a warning. The same address and port in two slices (a pod moving between
//   slices) is kept once, with the healthier conditions.
import { API_VERSION } from '@trellis/config';
import type { ConfigIssue, ParsedDocument, Protocol } from '@trellis/config';
import { readEndpointSlice, readService } from './k8s-objects.js';
import type {
  EndpointSliceView,
  ServicePortView,
  ServiceView,
  SliceEndpointView,
} from './k8s-objects.js';

/** appProtocol values Trellis understands, and the protocol each one means. */
export const APP_PROTOCOLS: Readonly<Record<string, Protocol>> = Object.freeze({
  http: 'http1',
  'kubernetes.io/ws': 'http1',
  'kubernetes.io/h2c': 'h2c',
  grpc: 'grpc',
});

export interface Translation {
  readonly documents: ParsedDocument[];
  readonly issues: ConfigIssue[];
}

interface EndpointEntry {
  address: string;
  port: number;
  weight: number;
  zone?: string;
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
}

/** `k8s:<namespace>/<kind>/<name>`: the `file` of a document that came from the cluster. */
export function documentFile(kind: string, namespace: string, name: string): string {
  return `k8s:${namespace}/${kind}/${name}`;
}

export function translateServices(
  services: readonly unknown[],
  slices: readonly unknown[],
): Translation {
  const documents: ParsedDocument[] = [];
  const issues: ConfigIssue[] = [];
  const slicesByService = new Map<string, EndpointSliceView[]>();
  for (const object of slices) {
    const slice = readEndpointSlice(object);
    if (slice?.serviceName === undefined) continue;
    const key = `${slice.meta.namespace}/${slice.serviceName}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  const views = services.flatMap((object) => readService(object) ?? []);
  views.sort((a, b) => compareKeys(a.meta, b.meta));
  for (const service of views) {
    const { name, namespace } = service.meta;
    if (service.type === 'ExternalName') {
      issues.push({
        severity: 'warning',
        code: 'TRL_K8S_UNSUPPORTED',
        message: `Service ${namespace}/${name} is of type ExternalName (${service.externalName ?? 'no externalName'}): it names a DNS host, not endpoints, so Trellis skips it`,
      });
      continue;
    }
    const tcpPorts = service.ports.filter((p) => p.protocol === 'TCP');
    if (tcpPorts.length === 0) continue;
    const serviceSlices = (slicesByService.get(`${namespace}/${name}`) ?? []).sort((a, b) =>
      a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0,
    );
    documents.push(serviceDocument(service, tcpPorts, serviceSlices, issues));
    documents.push(endpointsDocument(service, tcpPorts, serviceSlices, issues));
  }
  return { documents, issues };
}

function serviceDocument(
  service: ServiceView,
  tcpPorts: readonly ServicePortView[],
  slices: readonly EndpointSliceView[],
  issues: ConfigIssue[],
): ParsedDocument {
  const { name, namespace, labels } = service.meta;
  const ports = tcpPorts.map((port) => {
    const targetPort = resolveTargetPort(service, port, slices, issues);
    return {
      ...(port.name === undefined ? {} : { name: port.name }),
      port: port.port,
      ...(targetPort === undefined || targetPort === port.port ? {} : { targetPort }),
      protocol: protocolOf(service, port, issues),
    };
  });
  return {
    file: documentFile('Service', namespace, name),
    index: 0,
    value: {
      apiVersion: API_VERSION,
      kind: 'Service',
      metadata: {
        name,
        namespace,
        ...(Object.keys(labels).length === 0 ? {} : { labels: { ...labels } }),
      },
      spec: { ports },
    },
  };
}

function protocolOf(service: ServiceView, port: ServicePortView, issues: ConfigIssue[]): Protocol {
  if (port.appProtocol === undefined) return 'http1';
  const known = APP_PROTOCOLS[port.appProtocol];
  if (known !== undefined) return known;
  issues.push({
    severity: 'warning',
    code: 'TRL_K8S_APP_PROTOCOL',
    message: `Service ${service.meta.namespace}/${service.meta.name} port ${port.port}: appProtocol ${JSON.stringify(port.appProtocol)} is not one of ${Object.keys(APP_PROTOCOLS).join(', ')}; treated as http1`,
  });
  return 'http1';
}

function resolveTargetPort(
  service: ServiceView,
  port: ServicePortView,
  slices: readonly EndpointSliceView[],
  issues: ConfigIssue[],
): number | undefined {
  if (typeof port.targetPort !== 'string') return port.targetPort;
  // The EndpointSlice controller resolves the name per pod and files the number under the
  // Service port's name; pods of one Service may disagree, so count endpoints per number.
  const counts = new Map<number, number>();
  for (const slice of slices) {
    for (const slicePort of slice.ports) {
      if (slicePort.name !== (port.name ?? '') || slicePort.port === undefined) continue;
      counts.set(slicePort.port, (counts.get(slicePort.port) ?? 0) + slice.endpoints.length);
    }
  }
  const ranked = [...counts].sort(([a, na], [b, nb]) => nb - na || a - b);
  const best = ranked[0];
  if (best === undefined) return undefined;
  if (ranked.length > 1) {
    issues.push({
      severity: 'warning',
      code: 'TRL_K8S_TARGET_PORT',
      message: `Service ${service.meta.namespace}/${service.meta.name} port ${port.port}: targetPort ${JSON.stringify(port.targetPort)} resolves to ${ranked.map(([n]) => n).join(', ')} on different pods; using ${best[0]}`,
    });
  }
  return best[0];
}

function endpointsDocument(
  service: ServiceView,
  tcpPorts: readonly ServicePortView[],
  slices: readonly EndpointSliceView[],
  issues: ConfigIssue[],
): ParsedDocument {
  const { name, namespace } = service.meta;
  const portNames = new Set(tcpPorts.map((p) => p.name ?? ''));
  const byKey = new Map<string, EndpointEntry>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') {
      issues.push({
        severity: 'warning',
        code: 'TRL_K8S_UNSUPPORTED',
        message: `EndpointSlice ${namespace}/${slice.meta.name} of Service ${name} has addressType ${slice.addressType}: Trellis needs IP addresses, so it is skipped`,
      });
      continue;
    }
    const ports = slice.ports.flatMap((p) =>
      p.protocol === 'TCP' && p.port !== undefined && portNames.has(p.name) ? [p.port] : [],
    );
    for (const endpoint of slice.endpoints) {
      for (const address of endpoint.addresses) {
        for (const port of ports) {
          const entry = endpointEntry(address, port, endpoint);
          const key = `${address.toLowerCase()}|${entry.port}`;
          const seen = byKey.get(key);
          if (seen === undefined || health(entry) > health(seen)) byKey.set(key, entry);
        }
      }
    }
  }
  const endpoints = [...byKey.values()].sort(
    (a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) || a.port - b.port,
  );
  return {
    file: documentFile('Endpoints', namespace, name),
    index: 0,
    value: {
      apiVersion: API_VERSION,
      kind: 'Endpoints',
      metadata: { name, namespace },
      spec: { service: name, endpoints },
    },
  };
}

function endpointEntry(address: string, port: number, endpoint: SliceEndpointView): EndpointEntry {
  return {
    address,
    port,
    weight: 1,
    ...(endpoint.zone === undefined ? {} : { zone: endpoint.zone }),
    conditions: {
      ready: endpoint.ready ?? true,
      serving: endpoint.serving ?? true,
      terminating: endpoint.terminating ?? false,
    },
  };
}

/** Ready beats serving beats terminating, for duplicates across slices. */
function health(entry: EndpointEntry): number {
  const { ready, serving, terminating } = entry.conditions;
  return (ready ? 4 : 0) + (serving ? 2 : 0) + (terminating ? 0 : 1);
}

function compareKeys(
  a: { readonly namespace: string; readonly name: string },
  b: { readonly namespace: string; readonly name: string },
): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}
