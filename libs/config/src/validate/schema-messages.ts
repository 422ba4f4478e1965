// Maps Ajv's error objects to Trellis issue paths and messages (the wording tests rely on).
import type { ErrorObject } from 'ajv';
import type { NodePart } from '../parse.js';
import type { PathSegment } from '../issues.js';
import { PATTERN_MESSAGES } from '../schema/common.js';
import { show, typeName } from './describe.js';
import { closestMatch } from './suggest.js';

export interface SchemaFinding {
  readonly path: readonly PathSegment[];
  readonly part: NodePart;
  readonly message: string;
}

const ARTICLE: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** `/spec/destinations/1/weight` → `['spec', 'destinations', 1, 'weight']`. */
export function pointerToPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: PathSegment = Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key;
    path.push(segment);
    node =
      typeof node === 'object' && node !== null
        ? (node as Record<string, unknown>)[key]
        : undefined;
  }
  return path;
}

export function describeSchemaError(error: ErrorObject, root: unknown): SchemaFinding {
  const path = pointerToPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  const got = error.data;
  switch (error.keyword) {
    case 'required':
      return {
        path: [...path, String(params['missingProperty'])],
        part: 'value',
        message: 'is required',
      };
    case 'additionalProperties': {
      const field = String(params['additionalProperty']);
      const known = Object.keys(
        ((error.parentSchema as Record<string, unknown> | undefined)?.['properties'] ??
          {}) as object,
      );
      const suggestion = closestMatch(field, known);
      const hint = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`;
      return {
        path: [...path, field],
        part: 'key',
        message: `unknown field ${JSON.stringify(field)}${hint}`,
      };
    }
    case 'type': {
      const wanted = String(params['type']);
      if (typeof got === 'number' && (wanted === 'number' || wanted === 'integer')) {
        // A number that fails a number type is NaN or infinite; show it rather than "number".
        const what = wanted === 'number' ? 'a finite number' : (ARTICLE[wanted] ?? wanted);
        return { path, part: 'value', message: `must be ${what} (got ${String(got)})` };
      }
      return {
        path,
        part: 'value',
        message: `must be ${ARTICLE[wanted] ?? wanted} (got ${typeName(got)})`,
      };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String).join(', ');
      return { path, part: 'value', message: `must be one of ${allowed} (got ${show(got)})` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const comparison = { '>=': '≥', '<=': '≤', '>': '>', '<': '<' }[String(params['comparison'])];
      return {
        path,
        part: 'value',
        message: `must be ${comparison} ${String(params['limit'])} (got ${show(got)})`,
      };
    }
    case 'pattern': {
      const friendly = PATTERN_MESSAGES[String(params['pattern'])];
      const message = friendly ?? `must match the pattern ${String(params['pattern'])}`;
      return { path, part: 'value', message: `${message} (got ${show(got)})` };
    }
    case 'minLength':
      return {
        path,
        part: 'value',
        message:
          params['limit'] === 1
            ? 'must not be empty'
            : `must be at least ${String(params['limit'])} characters long (got ${lengthOf(got)})`,
      };
    case 'maxLength':
      return {
        path,
        part: 'value',
        message: `must be at most ${String(params['limit'])} characters long (got ${lengthOf(got)})`,
      };
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties': {
      const least = error.keyword.startsWith('min') ? 'at least' : 'at most';
      const noun = error.keyword.endsWith('Items') ? 'item' : 'entry';
      const limit = Number(params['limit']);
      const count = Array.isArray(got) ? got.length : Object.keys(got as object).length;
      const plural = limit === 1 ? noun : noun === 'entry' ? 'entries' : `${noun}s`;
      return {
        path,
        part: 'value',
        message: `must have ${least} ${limit} ${plural} (got ${count})`,
      };
    }
    default:
      return { path, part: 'value', message: error.message ?? `fails ${error.keyword}` };
  }
}

function lengthOf(value: unknown): number {
  return typeof value === 'string' ? [...value].length : 0;
}
