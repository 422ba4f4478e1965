import { describe, expect, it } from 'vitest';
import { validateDocuments } from '@trellis/config';
import { fixture } from './testing/harness.js';
import { translateCustomObject } from './translate-custom-objects.js';

describe('translateCustomObject', () => {
  it('keeps apiVersion, kind, name, namespace, labels and spec of a recorded Route, and nothing else', () => {
    const route = fixture('routes').items[0];
    expect(translateCustomObject(route, 'Route')).toEqual({
      file: 'k8s:shop/Route/catalog',
      index: 0,
      value: {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'Route',
        metadata: {
          name: 'catalog',
          namespace: 'shop',
          labels: { 'app.kubernetes.io/part-of': 'shop' },
        },
        spec: {
          hosts: ['catalog', 'catalog.shop'],
          match: { path: { prefix: '/' } },
          destinations: [{ service: 'catalog', port: 80 }],
          timeout: '3s',
          retries: {
            attempts: 2,
            perTryTimeout: '1s',
            retryOn: ['gateway-error', 'connect-failure', 'refused-stream'],
          },
        },
      },
    });
  });

  it('copies the spec, so the state does not share objects with the informer cache', () => {
    const route = structuredClone(fixture('routes').items[0]) as unknown as {
      spec: { timeout: string };
    };
    const document = translateCustomObject(route, 'Route');
    route.spec.timeout = '9s';
    expect((document?.value as { spec: { timeout: string } }).spec.timeout).toBe('3s');
  });

  it('leaves an invalid spec for @trellis/config to report with its usual message and file', () => {
    const document = translateCustomObject(
      {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'RetryBudget',
        metadata: { name: 'catalog', namespace: 'shop' },
        spec: { service: 'catalog', ratio: 2 },
      },
      'RetryBudget',
    );
    expect(document?.file).toBe('k8s:shop/RetryBudget/catalog');
    const { issues } = validateDocuments(document === undefined ? [] : [document]);
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_SCHEMA',
        document: 'retrybudget/catalog.shop',
        path: 'spec.ratio',
        message: 'must be ≤ 1 (got 2)',
      },
    ]);
  });

  it('falls back to the informer kind when an object lacks kind and apiVersion, and skips nameless ones', () => {
    expect(
      translateCustomObject({ metadata: { name: 'm', namespace: 'shop' }, spec: {} }, 'Telemetry')
        ?.value,
    ).toEqual({
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'Telemetry',
      metadata: { name: 'm', namespace: 'shop' },
      spec: {},
    });
    expect(translateCustomObject({ metadata: {} }, 'Route')).toBeUndefined();
  });
});
