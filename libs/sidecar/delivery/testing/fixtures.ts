// Test fixtures: small valid (and one invalid) resource sets and their snapshots, an identity,
// and a logger that records its lines.
import { buildSnapshot } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import type { DeliveryLogger } from '../src/logger.js';

export const identity: ProxyIdentity = {
  namespace: 'shop',
  pod: 'checkout-7d9f-abcde',
  service: 'checkout',
  role: 'sidecar',
  labels: { app: 'checkout' },
  startedAt: '2025-01-01T00:00:00.000Z',
};

export function service(name: string, port = 8080): Resource {
  return {
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { ports: [{ port, protocol: 'http1' }] },
  } as Resource;
}

/** A route to a service that does not exist: fails validation with TRL_CFG_REFERENCE. */
export function danglingRoute(): Resource {
  return {
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'Route',
    metadata: { name: 'to-ghost', namespace: 'shop' },
    spec: { hosts: ['ghost'], destinations: [{ service: 'ghost' }] },
  } as Resource;
}

/** Version n holds services s1..sn: each version adds one. */
export function snapshotV(n: number): Snapshot {
  return buildSnapshot(
    Array.from({ length: n }, (_, i) => service(`s${i + 1}`)),
    n,
  );
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function recordingLogger(): DeliveryLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A deterministic [0, 1) source: always the middle, so backoff delays are exactly 3/4 of a step. */
export const midRandom = (): number => 0.5;
