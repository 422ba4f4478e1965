// Canonical JSON: the same data always gives the same text, whatever order its keys were set in.

/**
 * JSON with object keys sorted (by UTF-16 code units, locale-free) at every depth. Properties whose
 * value is undefined are left out, as JSON.stringify does. Throws TypeError on cycles.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (ancestors.has(value)) throw new TypeError('canonicalJson: value contains a cycle');
  ancestors.add(value);
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((item: unknown) => write(item, ancestors)).join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const fields = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${write(record[key], ancestors)}`);
    text = `{${fields.join(',')}}`;
  }
  ancestors.delete(value);
  return text;
}
