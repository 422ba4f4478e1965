// Building blocks shared by the per-kind schemas: names, ports, durations, enums, metadata, envelope.
//
// Why TypeBox: a TypeBox schema *is* a JSON Schema object. One definition per kind therefore gives
// (1) the TypeScript types via `Static<>`, (2) Ajv runtime validation, and (3) the JSON Schema /
// OpenAPI v3 emitted for Kubernetes CRDs and Helm values — no second source of truth to drift.
//
// Conventions that keep the emitted schemas usable as Kubernetes structural schemas:
// - no `$ref`, `patternProperties`, `anyOf`/`oneOf`/`const`: enums are `{type: 'string', enum}`,
//   maps are `additionalProperties: <schema>`, and "exactly one of" rules live in the semantic
//   validator (src/validate);
// - every field has a `description`, its `default` where one applies, and bounds; the reference
//   docs are rendered from these;
// - a property that has a `default` is required in the TypeScript type (resources come out of
//   validation with defaults applied) but optional in the emitted schema (see input-schema.ts);
// - what JSON Schema cannot say about a string (duration bounds, regex syntax, IP literals, host
//   ports, map keys) is attached under the `FieldFormat` symbol, which JSON never serialises, and
//   checked by src/validate/formats.ts.
import { Type } from '@sinclair/typebox';
import type {
  TInteger,
  TNumber,
  TObject,
  TProperties,
  TSchema,
  TString,
  TUnsafe,
} from '@sinclair/typebox';
import { DURATION_MESSAGE, DURATION_PATTERN } from '../duration.js';
import { API_VERSION } from '../kinds.js';
import type { Kind } from '../kinds.js';

/** Key of the extra, non-JSON-Schema checks on a field. */
export const FieldFormat: unique symbol = Symbol.for('trellis.config.fieldFormat');

export type FieldFormatSpec =
  /** Duration string whose value must lie within [min, max] (both durations, inclusive). */
  | { readonly type: 'duration'; readonly min: string; readonly max: string }
  /** ECMAScript regular expression, compiled with the `u` flag. */
  | { readonly type: 'regex' }
  /** IPv4 or IPv6 literal (no zone). */
  | { readonly type: 'ip-address' }
  /** Host pattern with an optional `:port`; the port must be 1-65535. */
  | { readonly type: 'authority' }
  /** Map whose keys are HTTP header names. */
  | { readonly type: 'header-map' }
  /** Map whose keys are Kubernetes qualified names; `values: true` also checks label values. */
  | { readonly type: 'label-map'; readonly values: boolean };

export type WithFormat<T extends TSchema> = T & { readonly [FieldFormat]: FieldFormatSpec };

function withFormat<T extends TSchema>(schema: T, format: FieldFormatSpec): WithFormat<T> {
  return Object.assign(schema, { [FieldFormat]: format });
}

export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const HOSTNAME_PATTERN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const AUTHORITY_PATTERN =
  '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$';
/** RFC 9110 token characters. */
export const HEADER_NAME_PATTERN = "^[-!#$%&'*+.^_`|~0-9A-Za-z]+$";
export const HEADER_VALUE_PATTERN = '^[^\\r\\n\\x00]*$';
export const HTTP_PATH_PATTERN = '^/[^\\s]*$';
export const IP_CHARS_PATTERN = '^[0-9A-Fa-f:.]+$';
export const ZONE_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';

export const IP_ADDRESS_MESSAGE = 'must be an IPv4 or IPv6 address';

/** Friendly messages for `pattern` failures, keyed by the pattern; the value is appended `(got …)`. */
export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [DURATION_PATTERN]: DURATION_MESSAGE,
  [DNS_LABEL_PATTERN]:
    'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit',
  [HOSTNAME_PATTERN]: 'must be a lowercase DNS name like catalog or shop.example.com',
  [AUTHORITY_PATTERN]:
    'must be a host like catalog, catalog.shop, shop.example.com, *.example.com or catalog:8080',
  [HEADER_NAME_PATTERN]: "must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
  [HEADER_VALUE_PATTERN]: 'must not contain CR, LF or NUL characters',
  [HTTP_PATH_PATTERN]: 'must be a path starting with "/" and without whitespace',
  [IP_CHARS_PATTERN]: IP_ADDRESS_MESSAGE,
  [ZONE_PATTERN]:
    'must be a zone name: letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
};

interface Described {
  readonly description: string;
}

/** An object that rejects unknown fields (every object in the model does). */
export function Obj<T extends TProperties>(
  properties: T,
  options: Described & { readonly default?: object },
): TObject<T> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/** `{type: 'string', enum}`: the enum form Kubernetes structural schemas accept. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Described & { readonly default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export function IntegerEnum<const T extends readonly number[]>(
  values: T,
  options: Described & { readonly default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'integer', enum: [...values], ...options });
}

/** A map from string keys to string values (`additionalProperties`, never `patternProperties`). */
export function StringMap(
  options: Described & { readonly maxProperties: number; readonly valueMaxLength: number },
  format: FieldFormatSpec,
  valuePattern?: string,
): WithFormat<TUnsafe<Record<string, string>>> {
  const { maxProperties, valueMaxLength, description } = options;
  const values = {
    type: 'string',
    maxLength: valueMaxLength,
    ...(valuePattern === undefined ? {} : { pattern: valuePattern }),
  };
  return withFormat(
    Type.Unsafe<Record<string, string>>({
      type: 'object',
      description,
      maxProperties,
      additionalProperties: values,
    }),
    format,
  );
}

export function Name(description: string): TString {
  return Type.String({ description, pattern: DNS_LABEL_PATTERN, maxLength: 63 });
}

export function Hostname(description: string): TString {
  return Type.String({ description, pattern: HOSTNAME_PATTERN, maxLength: 253 });
}

export function HeaderName(description: string): TString {
  return Type.String({ description, pattern: HEADER_NAME_PATTERN, maxLength: 256 });
}

export function HttpPath(description: string): TString {
  return Type.String({ description, pattern: HTTP_PATH_PATTERN, maxLength: 2048 });
}

export function Port(description: string): TInteger {
  return Type.Integer({ description, minimum: 1, maximum: 65535 });
}

export function Percent(options: Described & { readonly default?: number }): TNumber {
  return Type.Number({ ...options, minimum: 0, maximum: 100 });
}

export function Regex(description: string): WithFormat<TString> {
  return withFormat(
    Type.String({
      description: `${description} ECMAScript syntax (\`u\` flag); must compile.`,
      minLength: 1,
      maxLength: 1024,
    }),
    { type: 'regex' },
  );
}

export function Authority(description: string): WithFormat<TString> {
  return withFormat(Type.String({ description, pattern: AUTHORITY_PATTERN, maxLength: 259 }), {
    type: 'authority',
  });
}

export function IpAddress(description: string): WithFormat<TString> {
  return withFormat(Type.String({ description, pattern: IP_CHARS_PATTERN, maxLength: 45 }), {
    type: 'ip-address',
  });
}

/** A duration string, bounded to [min, max] by the semantic validator. */
export function Duration(
  options: Described & { readonly default?: string; readonly min: string; readonly max: string },
): WithFormat<TString> {
  const { min, max, ...rest } = options;
  return withFormat(Type.String({ ...rest, pattern: DURATION_PATTERN, maxLength: 32 }), {
    type: 'duration',
    min,
    max,
  });
}

export function HeaderMap(description: string): WithFormat<TUnsafe<Record<string, string>>> {
  return StringMap(
    { description, maxProperties: 64, valueMaxLength: 4096 },
    { type: 'header-map' },
    HEADER_VALUE_PATTERN,
  );
}

export const Metadata = Obj(
  {
    name: Name('Name of the resource, unique per kind and namespace (a DNS label).'),
    namespace: Type.String({
      description: 'Namespace of the resource (a DNS label).',
      pattern: DNS_LABEL_PATTERN,
      maxLength: 63,
      default: 'default',
    }),
    labels: Type.Optional(
      StringMap(
        {
          description: 'Kubernetes-style labels, for selection by tools.',
          maxProperties: 64,
          valueMaxLength: 63,
        },
        { type: 'label-map', values: true },
      ),
    ),
    annotations: Type.Optional(
      StringMap(
        {
          description: 'Free-form notes for tools; Trellis ignores them.',
          maxProperties: 64,
          valueMaxLength: 65536,
        },
        { type: 'label-map', values: false },
      ),
    ),
  },
  { description: 'Identity of the resource.' },
);

/** The Kubernetes-style envelope around one kind's spec. */
export function ResourceSchema<K extends Kind, S extends TSchema>(
  kind: K,
  description: string,
  spec: S,
) {
  return Type.Object(
    {
      apiVersion: StringEnum([API_VERSION], { description: `Always ${API_VERSION}.` }),
      kind: StringEnum([kind], { description: `Always ${kind}.` }),
      metadata: Metadata,
      spec,
    },
    { title: kind, description, additionalProperties: false },
  );
}
