import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { PodTracker, readPod, samePod } from './pod-index.js';
import { fixtureObject } from './testing/harness.js';

function pod(name: string, status: object, spec: object = {}): KubernetesObject {
  return {
    metadata: { name, namespace: 'demo', labels: { app: 'x' } },
    spec,
    status,
  } as KubernetesObject;
}

describe('readPod', () => {
  it('reads labels, readiness, both pod IPs and the node of a recorded pod', () => {
    expect(readPod(fixtureObject('pods', 'shop', 'catalog-6d5f7c9b8-4xq2m'))).toEqual({
      namespace: 'shop',
      name: 'catalog-6d5f7c9b8-4xq2m',
      addresses: ['10.244.1.12', 'fd00:10:244:1::c'],
      labels: {
        'app.kubernetes.io/name': 'catalog',
        'app.kubernetes.io/part-of': 'shop',
        'pod-template-hash': '6d5f7c9b8',
      },
      ready: true,
      phase: 'Running',
      nodeName: 'kind-worker',
      hostNetwork: false,
    });
  });

  it('falls back to status.podIP, and reads a pending pod without IPs or conditions', () => {
    expect(readPod(pod('old', { podIP: '10.0.0.1', phase: 'Running' }))?.addresses).toEqual([
      '10.0.0.1',
    ]);
    expect(readPod(pod('new', { phase: 'Pending' }))).toMatchObject({
      addresses: [],
      ready: false,
      phase: 'Pending',
      nodeName: undefined,
    });
  });
});

describe('samePod', () => {
  it('sees a label change but not a change of fields the index does not hold', () => {
    const base = readPod(pod('a', { phase: 'Running', podIP: '10.0.0.1', startTime: 'x' }));
    const restarted = readPod(pod('a', { phase: 'Running', podIP: '10.0.0.1', startTime: 'y' }));
    const relabelled = readPod({
      metadata: { name: 'a', namespace: 'demo', labels: { app: 'y' } },
      status: { phase: 'Running', podIP: '10.0.0.1' },
    });
    expect(samePod(base, restarted)).toBe(true);
    expect(samePod(base, relabelled)).toBe(false);
    expect(samePod(base, undefined)).toBe(false);
  });
});

describe('PodTracker', () => {
  it('reports whether a change altered the index', () => {
    const tracker = new PodTracker();
    const running = pod('a', { phase: 'Running', podIP: '10.0.0.1' });
    expect(tracker.apply('add', running)).toBe(true);
    expect(tracker.apply('update', running)).toBe(false);
    expect(tracker.apply('update', pod('a', { phase: 'Succeeded', podIP: '10.0.0.1' }))).toBe(true);
    expect(tracker.apply('delete', running)).toBe(true);
    expect(tracker.apply('delete', running)).toBe(false);
  });

  it('leaves finished and host-network pods out of the address index but keeps them by name', () => {
    const tracker = new PodTracker();
    tracker.apply('add', pod('done', { phase: 'Succeeded', podIP: '10.0.0.1' }));
    tracker.apply(
      'add',
      pod('node-agent', { phase: 'Running', podIP: '172.18.0.3' }, { hostNetwork: true }),
    );
    tracker.apply('add', pod('web', { phase: 'Running', podIP: '10.0.0.1' }));
    const index = tracker.index();
    expect([...index.byName.keys()]).toEqual(['demo/done', 'demo/node-agent', 'demo/web']);
    expect([...index.byAddress].map(([address, p]) => [address, p.name])).toEqual([
      ['10.0.0.1', 'web'],
    ]);
  });
});
