// Checks JSON Schema cannot express, driven by the FieldFormat annotations on the TypeBox schemas.
import type { TSchema } from '@sinclair/typebox';
import { parseDuration } from '../duration.js';
import type { PathSegment } from '../issues.js';
import type { FieldFormatSpec } from '../schema/common.js';
import { FieldFormat, HEADER_NAME_PATTERN, IP_ADDRESS_MESSAGE } from '../schema/common.js';
import type { IssueSink } from './issue-sink.js';
import { isIpAddress } from './ip-address.js';

const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);
const QUALIFIED_NAME =
  /^(?:([a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)\/)?([A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Visits every value of a schema-valid document together with its subschema and checks the
 * FieldFormat annotations found on the way.
 */
export function checkFormats(schema: TSchema, value: unknown, sink: IssueSink): void {
  walk(schema, value, [], sink);
}

function walk(schema: TSchema, value: unknown, path: PathSegment[], sink: IssueSink): void {
  const format = (schema as { [FieldFormat]?: FieldFormatSpec })[FieldFormat];
  if (format !== undefined) checkFormat(format, value, path, sink);
  const properties = schema['properties'] as Record<string, TSchema> | undefined;
  if (properties !== undefined && typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childSchema = properties[key];
      if (childSchema !== undefined) walk(childSchema, child, [...path, key], sink);
    }
  }
  const items = schema['items'] as TSchema | undefined;
  if (items !== undefined && Array.isArray(value)) {
    value.forEach((item: unknown, index) => walk(items, item, [...path, index], sink));
  }
}

function checkFormat(
  format: FieldFormatSpec,
  value: unknown,
  path: PathSegment[],
  sink: IssueSink,
): void {
  switch (format.type) {
    case 'duration': {
      const ms = parseDuration(value as string);
      if (ms < parseDuration(format.min))
        sink.error('TRL_CFG_SCHEMA', path, `must be ≥ ${format.min} (got ${String(value)})`);
      else if (ms > parseDuration(format.max))
        sink.error('TRL_CFG_SCHEMA', path, `must be ≤ ${format.max} (got ${String(value)})`);
      return;
    }
    case 'regex': {
      const problem = regexProblem(value as string);
      if (problem !== undefined)
        sink.error('TRL_CFG_REGEX', path, `is not a valid regular expression (${problem})`);
      return;
    }
    case 'ip-address':
      if (!isIpAddress(value as string))
        sink.error('TRL_CFG_SCHEMA', path, `${IP_ADDRESS_MESSAGE} (got ${JSON.stringify(value)})`);
      return;
    case 'authority': {
      const port = /:([0-9]+)$/.exec(value as string)?.[1];
      if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
        sink.error('TRL_CFG_SCHEMA', path, `port must be 1-65535 (got ${JSON.stringify(value)})`);
      }
      return;
    }
    case 'header-map':
      for (const key of Object.keys(value as object)) {
        if (!HEADER_NAME.test(key))
          sink.error('TRL_CFG_SCHEMA', [...path, key], 'is not a valid HTTP header name', 'key');
      }
      return;
    case 'label-map':
      for (const [key, text] of Object.entries(value as Record<string, string>)) {
        const match = QUALIFIED_NAME.exec(key);
        if (match === null || (match[1]?.length ?? 0) > 253 || (match[2]?.length ?? 0) > 63) {
          sink.error(
            'TRL_CFG_SCHEMA',
            [...path, key],
            'is not a valid key: an optional DNS prefix and "/", then a name of up to 63 letters, digits, "-", "_" and "."',
            'key',
          );
        } else if (format.values && !LABEL_VALUE.test(text)) {
          sink.error(
            'TRL_CFG_SCHEMA',
            [...path, key],
            `must be a label value: letters, digits, "-", "_" and ".", starting and ending with a letter or digit (got ${JSON.stringify(text)})`,
          );
        }
      }
      return;
  }
}

/** Why `pattern` does not compile as an ECMAScript `u` regex, or undefined when it does. */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    // V8 says "Invalid regular expression: /(/u: Unterminated group"; keep the reason.
    return text.slice(text.lastIndexOf(': ') + 2) || text;
  }
}
