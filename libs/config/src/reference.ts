// Renders the config reference (Markdown) from the schemas: every kind and field with its type,
// default, bounds and meaning, so the docs cannot drift from what validation enforces.
import type { TSchema } from '@sinclair/typebox';
import { OptionalKind } from '@sinclair/typebox';
import { DURATION_PATTERN } from './duration.js';
import { ISSUE_CODES } from './issues.js';
import { API_VERSION, KINDS } from './kinds.js';
import type { FieldFormatSpec } from './schema/common.js';
import {
  AUTHORITY_PATTERN,
  DNS_LABEL_PATTERN,
  FieldFormat,
  HEADER_NAME_PATTERN,
  HEADER_VALUE_PATTERN,
  HOSTNAME_PATTERN,
  HTTP_PATH_PATTERN,
  IP_CHARS_PATTERN,
  Metadata,
  StringEnum,
  ZONE_PATTERN,
} from './schema/common.js';
import { RESOURCE_SCHEMAS } from './schema/resources.js';

/** Short names of the patterns for the Bounds column. */
const PATTERN_NAMES: Readonly<Record<string, string>> = {
  [DURATION_PATTERN]: 'duration',
  [DNS_LABEL_PATTERN]: 'DNS label',
  [HOSTNAME_PATTERN]: 'DNS name',
  [AUTHORITY_PATTERN]: 'host pattern',
  [HEADER_NAME_PATTERN]: 'header name',
  [HEADER_VALUE_PATTERN]: 'no CR, LF or NUL',
  [HTTP_PATH_PATTERN]: 'path starting with /',
  [IP_CHARS_PATTERN]: 'IPv4 or IPv6 literal',
  [ZONE_PATTERN]: 'zone name',
};

interface Row {
  readonly field: string;
  readonly schema: TSchema;
  readonly required: boolean;
}

export function renderConfigReference(): string {
  const lines = [
    '# Trellis config reference',
    '',
    '<!-- Generated from libs/config/src/schema by `npm run docs:config`; do not edit. -->',
    '',
    `Every document is YAML with \`apiVersion: ${API_VERSION}\`, a \`kind\`, \`metadata\` and a \`spec\`;`,
    'files may hold several documents separated by `---`. Unknown fields are errors. The JSON Schema',
    'of each kind is in `libs/config/generated/json-schema/<kind>.json`.',
    '',
    '- **Names** (of resources, namespaces, and references to them) are DNS labels: at most 63 of',
    '  `a-z`, `0-9` and `-`, starting and ending with a letter or digit.',
    '- **Durations** are strings of `<number><unit>` terms with units `ms`, `s`, `m`, `h`:',
    '  `250ms`, `1.5s`, `2m`, `1h`, `1m30s`. Each duration field has its own bounds.',
    '- **Regular expressions** use ECMAScript syntax (compiled with the `u` flag) and must compile.',
    '- **Defaults** are filled in by validation; a field with a default may be left out.',
    '- References to services, routes and ports must resolve: a reference without a namespace',
    "  means the referring document's namespace.",
    '',
    '## Common fields',
    '',
    ...table([
      {
        field: 'apiVersion',
        schema: StringEnum([API_VERSION], { description: `Always ${API_VERSION}.` }),
        required: true,
      },
      {
        field: 'kind',
        schema: StringEnum(KINDS, { description: 'The resource kind (sections below).' }),
        required: true,
      },
      ...rows(Metadata, 'metadata', true),
    ]),
  ];
  for (const kind of KINDS) {
    const schema = RESOURCE_SCHEMAS[kind];
    const spec = (schema['properties'] as Record<string, TSchema>)['spec'] as TSchema;
    lines.push(
      '',
      `## ${kind}`,
      '',
      String(schema['description']),
      '',
      ...table(rows(spec, 'spec', true)),
    );
  }
  lines.push('', '## Issue codes', '', '| Code | Meaning |', '| --- | --- |');
  for (const [code, meaning] of Object.entries(ISSUE_CODES))
    lines.push(`| \`${code}\` | ${cell(meaning)} |`);
  return `${lines.join('\n')}\n`;
}

/** The field itself, then its fields (objects) or its items' fields (arrays of objects). */
function rows(schema: TSchema, field: string, required: boolean): Row[] {
  const result: Row[] = [{ field, schema, required }];
  const target = schema['type'] === 'array' ? (schema['items'] as TSchema) : schema;
  const prefix = schema['type'] === 'array' ? `${field}[]` : field;
  const properties = target['properties'] as Record<string, TSchema> | undefined;
  if (properties === undefined) return result;
  const requiredNames = new Set((target['required'] as string[] | undefined) ?? []);
  for (const [name, child] of Object.entries(properties)) {
    const isRequired =
      requiredNames.has(name) &&
      child[OptionalKind] === undefined &&
      child['default'] === undefined;
    result.push(...rows(child, `${prefix}.${name}`, isRequired));
  }
  return result;
}

function table(items: readonly Row[]): string[] {
  return [
    '| Field | Type | Default | Bounds | Description |',
    '| --- | --- | --- | --- | --- |',
    ...items.map(
      (row) =>
        `| \`${row.field}\` | ${typeOf(row.schema)} | ${defaultOf(row)} | ${cell(boundsOf(row.schema))} | ${cell(describe(row.schema))} |`,
    ),
  ];
}

/** Arrays of scalars also show what each item must be. */
function scalarItems(schema: TSchema): TSchema | undefined {
  const items = schema['items'] as TSchema | undefined;
  return items !== undefined && items['type'] !== 'object' ? items : undefined;
}

function describe(schema: TSchema): string {
  const own = String(schema['description'] ?? '');
  const item = scalarItems(schema)?.['description'];
  return item === undefined ? own : `${own} Each: ${String(item)}`;
}

function formatOf(schema: TSchema): FieldFormatSpec | undefined {
  return (schema as { [FieldFormat]?: FieldFormatSpec })[FieldFormat];
}

function typeOf(schema: TSchema): string {
  const type = String(schema['type']);
  if (type === 'array') return `${typeOf(schema['items'] as TSchema)}[]`;
  if (formatOf(schema)?.type === 'duration') return 'duration';
  if (schema['enum'] !== undefined) return type === 'string' ? 'enum' : `${type} enum`;
  if (type === 'object' && schema['properties'] === undefined) return 'map of string';
  return type;
}

function defaultOf(row: Row): string {
  const value: unknown = row.schema['default'];
  if (value !== undefined) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'see fields';
    return `\`${Array.isArray(value) ? value.join(', ') : String(value)}\``;
  }
  return row.required ? 'required' : '—';
}

function boundsOf(schema: TSchema): string {
  const bounds: string[] = [];
  const allowed = schema['enum'] as unknown[] | undefined;
  if (allowed !== undefined && allowed.length > 1) bounds.push(`one of ${allowed.join(', ')}`);
  const min = schema['minimum'] as number | undefined;
  const max = schema['maximum'] as number | undefined;
  if (min !== undefined && max !== undefined) bounds.push(`${min}–${max}`);
  else if (min !== undefined) bounds.push(`≥ ${min}`);
  else if (max !== undefined) bounds.push(`≤ ${max}`);
  const format = formatOf(schema);
  if (format?.type === 'duration') bounds.push(`${format.min}–${format.max}`);
  else if (format?.type === 'regex') bounds.push('regex');
  const pattern = schema['pattern'] as string | undefined;
  if (pattern !== undefined && format?.type !== 'duration')
    bounds.push(PATTERN_NAMES[pattern] ?? `pattern \`${pattern}\``);
  if (format?.type !== 'duration') {
    bounds.push(...range(schema['minLength'], schema['maxLength'], 'chars'));
  }
  bounds.push(...range(schema['minItems'], schema['maxItems'], 'items'));
  const maxProperties = schema['maxProperties'] as number | undefined;
  if (maxProperties !== undefined) bounds.push(`≤ ${maxProperties} entries`);
  const items = scalarItems(schema);
  if (items !== undefined && boundsOf(items) !== '') bounds.push(`each: ${boundsOf(items)}`);
  const values = schema['additionalProperties'];
  if (typeof values === 'object' && values !== null) {
    bounds.push(`values: ${boundsOf(values as TSchema)}`);
  }
  return bounds.join('; ');
}

function range(min: unknown, max: unknown, unit: string): string[] {
  if (typeof min === 'number' && min > 0 && typeof max === 'number')
    return [`${min}–${max} ${unit}`];
  if (typeof min === 'number' && min > 0) return [`≥ ${min} ${unit}`];
  if (typeof max === 'number') return [`≤ ${max} ${unit}`];
  return [];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
