// Mesh config for the integration tests: resources written as plain objects (JSON is YAML),
// validated and snapshotted the way the sidecar's config sources do it, so a typo in a test's
// config fails loudly instead of silently routing nowhere.
import { buildSnapshot, formatIssue, loadConfig } from '@trellis/config';
import type { Snapshot } from '@trellis/config';

export const NAMESPACE = 'test';

export type Protocol = 'http1' | 'h2c' | 'grpc';

/** One resource document; `spec` is written as the config reference describes it. */
export function doc(kind: string, name: string, spec: object): string {
  return JSON.stringify({
    apiVersion: 'trellis.dev/v1alpha1',
    kind,
    metadata: { name, namespace: NAMESPACE },
    spec,
  });
}

/** A single-port service (port 80) and its endpoints, all on 127.0.0.1. */
export function service(
  name: string,
  endpointPorts: readonly number[],
  options: { protocol?: Protocol; aliases?: string[] } = {},
): string {
  return [
    doc('Service', name, {
      ports: [{ name: 'main', port: 80, protocol: options.protocol ?? 'http1' }],
      ...(options.aliases ? { aliases: options.aliases } : {}),
    }),
    doc('Endpoints', name, {
      service: name,
      endpoints: endpointPorts.map((port) => ({ address: '127.0.0.1', port })),
    }),
  ].join('\n---\n');
}

export function config(...documents: string[]): string {
  return documents.join('\n---\n');
}

/** Validates and snapshots `text`; throws with every error issue when it is not valid. */
export function snapshotOf(text: string, version: number): Snapshot {
  const { resources, issues } = loadConfig([{ file: 'int-test.yaml', text }]);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(`invalid test config:\n${errors.map(formatIssue).join('\n')}`);
  return buildSnapshot(resources, version);
}
