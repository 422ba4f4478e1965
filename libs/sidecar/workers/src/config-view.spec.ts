import { buildSnapshot, ConfigError } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import { ConfigHolder } from '@trellis/sidecar-runtime';
import { describe, expect, it } from 'vitest';
import { configView } from './config-view.js';
import type { WorkerStatus } from './worker-fleet.js';

const service = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'Service',
  metadata: { name: 'a', namespace: 'default' },
  spec: { ports: [{ port: 8080, protocol: 'http1' }] },
} as Resource;

const worker: WorkerStatus = {
  worker: 1,
  state: 'running',
  listening: true,
  version: 1,
  restarts: 2,
  lastExit: { code: null, signal: 'SIGKILL' },
  lastRejection: null,
};

describe('configView', () => {
  it('is 503 with empty fields before any config', () => {
    const holder = new ConfigHolder((s: Snapshot) => s.version);
    expect(configView(holder, () => ['x'], [])).toEqual({
      status: 503,
      body: {
        version: null,
        hash: null,
        appliedAt: null,
        lastRejection: null,
        workers: [],
        hosts: [],
        resources: [],
      },
    });
  });

  it("shows the config in force, the last rejection and each worker's version", () => {
    const holder = new ConfigHolder((s: Snapshot) => {
      if (s.version === 2) throw new ConfigError('bad', []);
      return s.version;
    });
    const snapshot = buildSnapshot([service], 1);
    holder.apply(snapshot);
    holder.apply(buildSnapshot([service], 2));
    const { status, body } = configView(holder, (v) => [`host-${v}`], [worker]);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      version: 1,
      hash: snapshot.hash,
      lastRejection: { version: 2, issues: ['bad'] },
      workers: [{ worker: 1, state: 'running', version: 1, restarts: 2, lastRejection: null }],
      hosts: ['host-1'],
      resources: snapshot.resources,
    });
  });
});
