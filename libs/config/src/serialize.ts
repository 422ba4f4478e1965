// Canonical YAML for resources: one document each, keys in schema order, no anchors.
import { Document } from 'yaml';
import type { Resource } from './schema/resources.js';
import { RESOURCE_SCHEMAS } from './schema/resources.js';
import { orderKeys } from './validate/plain-data.js';

/**
 * Multi-document YAML of `resources`, in the given order, such that parsing and validating it
 * gives the same resources back.
 */
export function serializeResources(resources: readonly Resource[]): string {
  return resources
    .map((resource) => {
      const ordered = orderKeys(RESOURCE_SCHEMAS[resource.kind], resource);
      return new Document(ordered, { aliasDuplicateObjects: false }).toString({ lineWidth: 0 });
    })
    .join('---\n');
}
