// Turns the TypeBox definitions into the plain JSON Schema (OpenAPI v3) that tools and CRDs consume.
import type { TSchema } from '@sinclair/typebox';

export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * A plain-JSON deep copy of `schema` (TypeBox's symbol annotations dropped) in which properties
 * that have a `default` are no longer `required`: validation fills them in, so input may omit them,
 * while the TypeScript type of a validated resource still has them.
 */
export function toJsonSchema(schema: TSchema): JsonSchema {
  return relax(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>);
}

function relax(node: Record<string, unknown>): Record<string, unknown> {
  const properties = node['properties'] as Record<string, Record<string, unknown>> | undefined;
  if (properties !== undefined) {
    for (const child of Object.values(properties)) relax(child);
    const required = (node['required'] as string[] | undefined)?.filter(
      (name) => properties[name]?.['default'] === undefined,
    );
    if (required === undefined || required.length === 0) delete node['required'];
    else node['required'] = required;
  }
  const items = node['items'];
  if (typeof items === 'object' && items !== null) relax(items as Record<string, unknown>);
  return node;
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
