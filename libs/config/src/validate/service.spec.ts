import { describe, expect, it } from 'vitest';
import { doc, problems, service, validate } from '../../testing/fixtures.js';

describe('Service', () => {
  it('accepts ports and aliases and defaults the protocol to http1', () => {
    const { resources, issues } = validate(
      doc('Service', 'api', {
        ports: [
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'grpc', port: 9090, protocol: 'grpc' },
        ],
        aliases: ['api.example.com'],
      }),
    );
    expect(issues).toEqual([]);
    expect(resources[0]?.spec).toEqual({
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'http1' },
        { name: 'grpc', port: 9090, protocol: 'grpc' },
      ],
      aliases: ['api.example.com'],
    });
  });

  it('rejects a repeated port', () => {
    expect(problems(service('api', [80, 81, 80]))).toEqual([
      'service/api.shop: spec.ports[2].port: duplicate port 80 (also at spec.ports[0].port)',
    ]);
  });

  it('rejects a repeated port name', () => {
    expect(
      problems(
        doc('Service', 'api', {
          ports: [{ name: 'http', port: 80 }, { port: 81 }, { name: 'http', port: 82 }],
        }),
      ),
    ).toEqual([
      'service/api.shop: spec.ports[2].name: duplicate port name "http" (also at spec.ports[0].name)',
    ]);
  });

  it('rejects a repeated alias', () => {
    expect(
      problems(doc('Service', 'api', { ports: [{ port: 80 }], aliases: ['a.b', 'a.b'] })),
    ).toEqual([
      'service/api.shop: spec.aliases[1]: duplicate alias "a.b" (also at spec.aliases[0])',
    ]);
  });

  it('rejects aliases that are not DNS names', () => {
    expect(
      problems(doc('Service', 'api', { ports: [{ port: 80 }], aliases: ['*.example.com'] })),
    ).toEqual([
      'service/api.shop: spec.aliases[0]: must be a lowercase DNS name like catalog or shop.example.com (got "*.example.com")',
    ]);
  });

  it('bounds ports to 1-65535', () => {
    expect(problems(doc('Service', 'api', { ports: [{ port: 0, targetPort: 65536 }] }))).toEqual([
      'service/api.shop: spec.ports[0].port: must be ≥ 1 (got 0)',
      'service/api.shop: spec.ports[0].targetPort: must be ≤ 65535 (got 65536)',
    ]);
  });

  it('rejects unknown protocols', () => {
    expect(problems(doc('Service', 'api', { ports: [{ port: 80, protocol: 'http3' }] }))).toEqual([
      'service/api.shop: spec.ports[0].protocol: must be one of http1, h2c, grpc (got "http3")',
    ]);
  });
});

describe('metadata', () => {
  it('accepts Kubernetes-style labels and annotations', () => {
    const { issues } = validate({
      ...service('api'),
      metadata: {
        name: 'api',
        labels: { app: 'api', 'trellis.dev/track': 'stable', empty: '' },
        annotations: { 'example.com/note': 'anything: at all\nreally' },
      },
    });
    expect(issues).toEqual([]);
  });

  it('rejects malformed label keys and values', () => {
    expect(
      problems({
        ...service('api'),
        metadata: { name: 'api', namespace: 'shop', labels: { 'bad key': 'x', ok: 'not ok!' } },
      }),
    ).toEqual([
      'service/api.shop: metadata.labels["bad key"]: is not a valid key: an optional DNS prefix and "/", then a name of up to 63 letters, digits, "-", "_" and "."',
      'service/api.shop: metadata.labels.ok: must be a label value: letters, digits, "-", "_" and ".", starting and ending with a letter or digit (got "not ok!")',
    ]);
  });

  it('rejects a malformed namespace', () => {
    expect(problems({ ...service('api'), metadata: { name: 'api', namespace: 'Shop' } })).toEqual([
      'service/api.Shop: metadata.namespace: must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit (got "Shop")',
    ]);
  });
});
