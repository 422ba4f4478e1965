// Snapshots: a validated, sorted, frozen and content-hashed set of resources with a version.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from './canonical-json.js';
import { ConfigError } from './errors.js';
import { formatIssue } from './issues.js';
import { KINDS } from './kinds.js';
import type { Kind } from './kinds.js';
import type { Resource } from './schema/resources.js';
import { deepFreeze } from './schema/json-schema.js';
import { validateDocuments } from './validate/validate-documents.js';

export interface Snapshot {
  readonly version: number;
  /** `sha256:<hex>` of the canonical JSON of the sorted resources: same content, same hash. */
  readonly hash: string;
  /** Sorted by kind (in KINDS order), namespace, name; deeply frozen. */
  readonly resources: readonly Resource[];
}

export interface ResourceKey {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
}

export function keyOf(resource: Resource): ResourceKey {
  return {
    kind: resource.kind,
    namespace: resource.metadata.namespace,
    name: resource.metadata.name,
  };
}

/** `Route/shop/checkout`, for a resource or a key. */
export function resourceKey(resource: Resource | ResourceKey): string {
  const key = 'metadata' in resource ? keyOf(resource) : resource;
  return `${key.kind}/${key.namespace}/${key.name}`;
}

/** Kind (KINDS order), then namespace, then name (code-unit order: no locale involved). */
export function compareResources(a: Resource, b: Resource): number {
  return (
    KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) ||
    compareText(a.metadata.namespace, b.metadata.namespace) ||
    compareText(a.metadata.name, b.metadata.name)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Validates `resources` (applying defaults), sorts, freezes and hashes them. Throws ConfigError
 * TRL_CFG_INVALID when they have errors (warnings are fine) or `version` is not a positive safe
 * integer.
 */
export function buildSnapshot(resources: readonly Resource[], version: number): Snapshot {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new ConfigError(
      `snapshot version must be a positive safe integer (got ${String(version)})`,
    );
  }
  const validated = validateDocuments(
    resources.map((value, index) => ({ file: 'resources', index, value })),
  );
  const errors = validated.issues.filter((issue) => issue.severity === 'error');
  const first = errors[0];
  if (first !== undefined) {
    throw new ConfigError(
      `resources do not validate (${errors.length} error${errors.length === 1 ? '' : 's'}; first: ${formatIssue(first)})`,
      errors,
    );
  }
  const sorted = validated.resources.sort(compareResources);
  const hash = `sha256:${bytesToHex(sha256(utf8ToBytes(canonicalJson(sorted))))}`;
  return deepFreeze({ version, hash, resources: sorted });
}
