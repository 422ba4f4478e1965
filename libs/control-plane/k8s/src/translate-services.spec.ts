import { describe, expect, it } from 'vitest';
import { validateDocuments } from '@trellis/config';
import { fixture } from './testing/harness.js';
import { APP_PROTOCOLS, translateServices } from './translate-services.js';

const services = fixture('services').items;
const slices = fixture('endpointslices').items;

function valueOf(result: ReturnType<typeof translateServices>, file: string): unknown {
  return result.documents.find((d) => d.file === file)?.value;
}

function service(name: string, spec: object, namespace = 'demo'): object {
  return { metadata: { name, namespace }, spec };
}

function slice(
  name: string,
  serviceName: string | undefined,
  body: { addressType?: string; endpoints?: object[]; ports?: object[] },
): object {
  const labels = serviceName === undefined ? {} : { 'kubernetes.io/service-name': serviceName };
  return { metadata: { name, namespace: 'demo', labels }, addressType: 'IPv4', ...body };
}

const ready = { ready: true, serving: true, terminating: false };

describe('translateServices on the recorded cluster', () => {
  const result = translateServices(services, slices);

  it('turns the two-port dual-stack Service into a Service with mapped protocols and resolved targetPorts', () => {
    expect(valueOf(result, 'k8s:shop/Service/catalog')).toEqual({
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'Service',
      metadata: {
        name: 'catalog',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/name': 'catalog', 'app.kubernetes.io/part-of': 'shop' },
      },
      spec: {
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'h2c' },
          { name: 'grpc', port: 9090, targetPort: 9091, protocol: 'grpc' },
        ],
      },
    });
  });

  it('merges its IPv4 and IPv6 slices into one Endpoints: every address on every port, with zones and conditions', () => {
    const value = valueOf(result, 'k8s:shop/Endpoints/catalog') as {
      metadata: object;
      spec: { service: string; endpoints: object[] };
    };
    expect(value.metadata).toEqual({ name: 'catalog', namespace: 'shop' });
    expect(value.spec.service).toBe('catalog');
    expect(value.spec.endpoints).toHaveLength(12);
    expect(value.spec.endpoints.slice(0, 2)).toEqual([
      { address: '10.244.1.12', port: 8080, weight: 1, zone: 'europe-west1-b', conditions: ready },
      { address: '10.244.1.12', port: 9091, weight: 1, zone: 'europe-west1-b', conditions: ready },
    ]);
    expect(value.spec.endpoints).toContainEqual({
      address: 'fd00:10:244:3::9',
      port: 9091,
      weight: 1,
      zone: 'europe-west1-d',
      conditions: { ready: false, serving: false, terminating: false },
    });
  });

  it('resolves a named targetPort of a single-port Service through its slice and defaults the protocol to http1', () => {
    expect(valueOf(result, 'k8s:shop/Service/pricing')).toMatchObject({
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'http1' }] },
    });
  });

  it('keeps a selector-less Service with the endpoints of its hand-made slice', () => {
    expect(valueOf(result, 'k8s:default/Endpoints/kubernetes')).toEqual({
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default' },
      spec: {
        service: 'kubernetes',
        endpoints: [{ address: '172.18.0.2', port: 6443, weight: 1, conditions: ready }],
      },
    });
  });

  it('keeps only the TCP ports of a Service that also has UDP ones, in the Service and its Endpoints', () => {
    expect(valueOf(result, 'k8s:kube-system/Service/kube-dns')).toMatchObject({
      spec: {
        ports: [
          { name: 'dns-tcp', port: 53, protocol: 'http1' },
          { name: 'metrics', port: 9153, protocol: 'http1' },
        ],
      },
    });
    const endpoints = valueOf(result, 'k8s:kube-system/Endpoints/kube-dns') as {
      spec: { endpoints: { address: string; port: number }[] };
    };
    expect(endpoints.spec.endpoints.map((e) => `${e.address}:${e.port}`)).toEqual([
      '10.244.0.2:53',
      '10.244.0.2:9153',
      '10.244.0.3:53',
      '10.244.0.3:9153',
    ]);
  });

  it('skips the ExternalName Service with a warning and validates the rest without issues', () => {
    expect(result.documents.map((d) => d.file)).not.toContain('k8s:shop/Service/payments');
    expect(result.issues).toEqual([
      {
        severity: 'warning',
        code: 'TRL_K8S_UNSUPPORTED',
        message:
          'Service shop/payments is of type ExternalName (payments.example.com): it names a DNS host, not endpoints, so Trellis skips it',
      },
    ]);
    expect(validateDocuments(result.documents).issues).toEqual([]);
  });
});

describe('translateServices edge cases', () => {
  it('maps each known appProtocol, treats a missing one as http1 and warns about unknown ones', () => {
    const ports = [
      { name: 'a', port: 1, protocol: 'TCP', appProtocol: 'http' },
      { name: 'b', port: 2, protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
      { name: 'c', port: 3, protocol: 'TCP', appProtocol: 'grpc' },
      { name: 'd', port: 4, protocol: 'TCP', appProtocol: 'kubernetes.io/ws' },
      { name: 'e', port: 5, protocol: 'TCP' },
      { name: 'f', port: 6, protocol: 'TCP', appProtocol: 'kubernetes.io/wss' },
    ];
    const result = translateServices([service('mixed', { ports })], []);
    expect(
      (valueOf(result, 'k8s:demo/Service/mixed') as { spec: { ports: object[] } }).spec.ports,
    ).toEqual([
      { name: 'a', port: 1, protocol: 'http1' },
      { name: 'b', port: 2, protocol: 'h2c' },
      { name: 'c', port: 3, protocol: 'grpc' },
      { name: 'd', port: 4, protocol: 'http1' },
      { name: 'e', port: 5, protocol: 'http1' },
      { name: 'f', port: 6, protocol: 'http1' },
    ]);
    expect(result.issues).toEqual([
      {
        severity: 'warning',
        code: 'TRL_K8S_APP_PROTOCOL',
        message:
          'Service demo/mixed port 6: appProtocol "kubernetes.io/wss" is not one of http, kubernetes.io/ws, kubernetes.io/h2c, grpc; treated as http1',
      },
    ]);
    expect(Object.keys(APP_PROTOCOLS)).toHaveLength(4);
  });

  it('leaves out a named targetPort that no slice resolves yet, and gives the Service an empty Endpoints', () => {
    const result = translateServices(
      [service('idle', { ports: [{ port: 80, protocol: 'TCP', targetPort: 'http' }] })],
      [],
    );
    expect(result.documents.map((d) => d.value)).toEqual([
      {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'Service',
        metadata: { name: 'idle', namespace: 'demo' },
        spec: { ports: [{ port: 80, protocol: 'http1' }] },
      },
      {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'Endpoints',
        metadata: { name: 'idle', namespace: 'demo' },
        spec: { service: 'idle', endpoints: [] },
      },
    ]);
    expect(result.issues).toEqual([]);
  });

  it('uses the targetPort most endpoints resolve to when pods disagree, with a warning', () => {
    const endpoint = (address: string) => ({ addresses: [address], conditions: { ready: true } });
    const result = translateServices(
      [service('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }] })],
      [
        slice('web-a', 'web', {
          endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2')],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        }),
        slice('web-b', 'web', {
          endpoints: [endpoint('10.0.0.3')],
          ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
        }),
      ],
    );
    expect(valueOf(result, 'k8s:demo/Service/web')).toMatchObject({
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    expect(result.issues).toEqual([
      {
        severity: 'warning',
        code: 'TRL_K8S_TARGET_PORT',
        message:
          'Service demo/web port 80: targetPort "web" resolves to 8080, 9090 on different pods; using 8080',
      },
    ]);
  });

  it('leaves out a numeric targetPort equal to the port', () => {
    const result = translateServices(
      [service('same', { ports: [{ port: 8080, protocol: 'TCP', targetPort: 8080 }] })],
      [],
    );
    expect(valueOf(result, 'k8s:demo/Service/same')).toMatchObject({
      spec: { ports: [{ port: 8080, protocol: 'http1' }] },
    });
  });

  it('skips Services without TCP ports silently', () => {
    const result = translateServices(
      [
        service('syslog', { ports: [{ port: 514, protocol: 'UDP' }] }),
        service('headless', { clusterIP: 'None' }),
      ],
      [],
    );
    expect(result).toEqual({ documents: [], issues: [] });
  });

  it('reads unset conditions as kube-proxy does: ready and serving, not terminating', () => {
    const result = translateServices(
      [service('bare', { ports: [{ port: 80, protocol: 'TCP' }] })],
      [
        slice('bare-1', 'bare', {
          endpoints: [{ addresses: ['10.0.0.9'] }],
          ports: [{ name: '', port: 80, protocol: 'TCP' }],
        }),
      ],
    );
    expect(valueOf(result, 'k8s:demo/Endpoints/bare')).toMatchObject({
      spec: { endpoints: [{ address: '10.0.0.9', port: 80, weight: 1, conditions: ready }] },
    });
  });

  it('keeps an address seen in two slices once, with the healthier conditions', () => {
    const ports = [{ name: '', port: 80, protocol: 'TCP' }];
    const result = translateServices(
      [service('moving', { ports: [{ port: 80, protocol: 'TCP' }] })],
      [
        slice('moving-a', 'moving', {
          endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: false, serving: false } }],
          ports,
        }),
        slice('moving-b', 'moving', {
          endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true, serving: true } }],
          ports,
        }),
      ],
    );
    expect(valueOf(result, 'k8s:demo/Endpoints/moving')).toMatchObject({
      spec: { endpoints: [{ address: '10.0.0.5', port: 80, conditions: ready }] },
    });
  });

  it('skips FQDN slices with a warning, slice ports without a number, and slices of no Service', () => {
    const result = translateServices(
      [service('legacy', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] })],
      [
        slice('legacy-fqdn', 'legacy', {
          addressType: 'FQDN',
          endpoints: [{ addresses: ['legacy.example.com'] }],
          ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
        }),
        slice('legacy-all-ports', 'legacy', {
          endpoints: [{ addresses: ['10.0.0.7'] }],
          ports: [{ name: 'http', protocol: 'TCP' }],
        }),
        slice('orphan', undefined, {
          endpoints: [{ addresses: ['10.0.0.8'] }],
          ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
        }),
      ],
    );
    expect(valueOf(result, 'k8s:demo/Endpoints/legacy')).toMatchObject({
      spec: { endpoints: [] },
    });
    expect(result.issues).toEqual([
      {
        severity: 'warning',
        code: 'TRL_K8S_UNSUPPORTED',
        message:
          'EndpointSlice demo/legacy-fqdn of Service legacy has addressType FQDN: Trellis needs IP addresses, so it is skipped',
      },
    ]);
  });
});
