import { describe, expect, it } from 'vitest';
import { PodTracker } from './pod-index.js';
import { assembleState } from './source-state.js';
import type { ResourceSnapshot } from './source-state.js';
import { fixture } from './testing/harness.js';
import { WATCHED_RESOURCES } from './watched-resources.js';

function snapshots(
  overrides: Partial<Record<string, Partial<ResourceSnapshot>>>,
): ResourceSnapshot[] {
  return WATCHED_RESOURCES.map((resource) => ({
    resource,
    namespace: undefined,
    synced: true,
    failure: undefined,
    objects: [],
    ...overrides[resource.key],
  }));
}

describe('assembleState', () => {
  it('orders documents by kind, namespace and name, whatever order the caches hold them in', () => {
    const state = assembleState(
      'k8s:test',
      snapshots({
        services: { objects: [...fixture('services').items].reverse() },
        routes: { objects: fixture('routes').items },
        telemetries: { objects: fixture('telemetries').items },
      }),
      new PodTracker().index(),
    );
    expect(state.documents.map((d) => d.file)).toEqual([
      'k8s:default/Service/kubernetes',
      'k8s:kube-system/Service/kube-dns',
      'k8s:shop/Service/catalog',
      'k8s:shop/Service/frontend',
      'k8s:shop/Service/pricing',
      'k8s:default/Endpoints/kubernetes',
      'k8s:kube-system/Endpoints/kube-dns',
      'k8s:shop/Endpoints/catalog',
      'k8s:shop/Endpoints/frontend',
      'k8s:shop/Endpoints/pricing',
      'k8s:shop/Route/catalog',
      'k8s:shop/Telemetry/mesh',
    ]);
    expect(state.source).toBe('k8s:test');
  });

  it('puts failure issues, in resource order, before the translation issues', () => {
    const failure = {
      phase: 'list' as const,
      failure: { status: 403, text: 'HTTP 403 Forbidden' },
    };
    const state = assembleState(
      'k8s:test',
      snapshots({
        services: { objects: fixture('services').items },
        ratelimits: { synced: false, failure },
        endpointslices: { synced: false, failure },
      }),
      new PodTracker().index(),
    );
    expect(state.issues.map((i) => [i.severity, i.code, i.message.slice(0, 40)])).toEqual([
      ['error', 'TRL_K8S_API', 'cannot list endpointslices.discovery.k8s'],
      ['error', 'TRL_K8S_API', 'cannot list ratelimits.trellis.dev in al'],
      ['warning', 'TRL_K8S_UNSUPPORTED', 'Service shop/payments is of type Externa'],
    ]);
  });
});
