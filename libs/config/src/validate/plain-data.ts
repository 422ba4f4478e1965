// Copies and reorders untrusted document data without ever executing it or tripping on its shape.
import type { TSchema } from '@sinclair/typebox';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of arrays and objects (own enumerable string keys; other objects such as Dates become
 * plain objects), so validation can fill in defaults without touching the caller's data. Shared
 * and cyclic references are preserved rather than followed forever.
 */
export function cloneData(value: unknown, copies = new Map<object, unknown>()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const existing = copies.get(value);
  if (existing !== undefined) return existing;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value) copy.push(cloneData(item, copies));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  for (const key of Object.keys(value)) {
    define(copy, key, cloneData((value as Record<string, unknown>)[key], copies));
  }
  return copy;
}

/**
 * `value` rebuilt with object keys in schema order (maps: sorted), so that validated resources read
 * and serialise the same however their source was written. `value` must be schema-valid.
 */
export function orderKeys(schema: TSchema, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = schema['items'] as TSchema | undefined;
    return value.map((item: unknown) => (items === undefined ? item : orderKeys(items, item)));
  }
  if (!isRecord(value)) return value;
  const ordered: Record<string, unknown> = {};
  const properties = schema['properties'] as Record<string, TSchema> | undefined;
  if (properties === undefined) {
    for (const key of Object.keys(value).sort()) define(ordered, key, value[key]);
    return ordered;
  }
  for (const [key, child] of Object.entries(properties)) {
    if (value[key] !== undefined) define(ordered, key, orderKeys(child, value[key]));
  }
  return ordered;
}

/** Assignment that treats `__proto__` as an ordinary key. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
