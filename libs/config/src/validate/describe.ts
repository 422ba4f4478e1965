// Short renderings of values and types for issue messages: `(got number)`, `(got "fast")`.

/** JSON type name of a value as a reader thinks of it: null, array, object, string, number… */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const SHOWN_MAX = 60;

/** A value as it would be written in config, shortened when long. */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = typeName(value);
  return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX - 1)}…` : text;
}
