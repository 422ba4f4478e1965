// Test fixtures: small valid documents to start from, and helpers to validate YAML or objects.
import { stringify } from 'yaml';
import { formatIssue } from '../src/issues.js';
import type { ConfigIssue } from '../src/issues.js';
import { loadConfig } from '../src/load.js';
import type { Resource } from '../src/schema/resources.js';
import { validateDocuments } from '../src/validate/validate-documents.js';

export type Doc = Record<string, unknown>;

export function doc(kind: string, name: string, spec: unknown, namespace = 'shop'): Doc {
  return { apiVersion: 'trellis.dev/v1alpha1', kind, metadata: { name, namespace }, spec };
}

export const service = (name: string, ports: number[] = [80], namespace = 'shop'): Doc =>
  doc('Service', name, { ports: ports.map((port) => ({ port })) }, namespace);

/** catalog, catalog-v2 and pricing in namespace shop, each on port 80. */
export function services(): Doc[] {
  return [service('catalog'), service('catalog-v2'), service('pricing')];
}

export function route(spec: Doc, name = 'catalog'): Doc {
  return doc('Route', name, {
    hosts: ['catalog'],
    destinations: [{ service: 'catalog' }],
    ...spec,
  });
}

/** Validates plain objects as documents of an in-memory file `test`. */
export function validate(...docs: unknown[]): { resources: Resource[]; issues: ConfigIssue[] } {
  return validateDocuments(docs.map((value, index) => ({ file: 'test', index, value })));
}

/** The formatted issues of validating `docs` (with the usual services) as YAML in `test.yaml`. */
export function issuesOf(...docs: unknown[]): string[] {
  return loadConfig([{ file: 'test.yaml', text: yaml(...docs) }]).issues.map(formatIssue);
}

/** Issues of `docs` next to the usual services, without positions: `document: path: message`. */
export function problems(...docs: unknown[]): string[] {
  return validate(...services(), ...docs).issues.map(formatIssue);
}

export function yaml(...docs: unknown[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}
