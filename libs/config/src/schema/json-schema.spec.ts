import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../kinds.js';
import { deepFreeze, toJsonSchema } from './json-schema.js';
import { resourceJsonSchemas } from './resources.js';

type Node = Record<string, unknown>;

/** Every subschema with its JSON path. */
function nodes(schema: Node, path = '$'): [string, Node][] {
  const found: [string, Node][] = [[path, schema]];
  for (const [name, child] of Object.entries(
    (schema['properties'] ?? {}) as Record<string, Node>,
  )) {
    found.push(...nodes(child, `${path}.${name}`));
  }
  if (typeof schema['items'] === 'object')
    found.push(...nodes(schema['items'] as Node, `${path}[]`));
  if (typeof schema['additionalProperties'] === 'object') {
    found.push(...nodes(schema['additionalProperties'] as Node, `${path}{}`));
  }
  return found;
}

const all = KINDS.flatMap((kind) => nodes(resourceJsonSchemas[kind] as Node, kind));

describe('resourceJsonSchemas', () => {
  it('has a schema per kind, titled with the kind', () => {
    expect(KINDS.map((kind) => (resourceJsonSchemas[kind] as Node)['title'])).toEqual([...KINDS]);
  });

  it('uses only keywords Kubernetes structural schemas allow', () => {
    const banned = [
      '$ref',
      'patternProperties',
      'anyOf',
      'oneOf',
      'allOf',
      'not',
      'const',
      'uniqueItems',
      '$id',
    ];
    const offenders = all
      .filter(([, node]) => banned.some((keyword) => keyword in node))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('gives every node a type', () => {
    expect(
      all.filter(([, node]) => typeof node['type'] !== 'string').map(([path]) => path),
    ).toEqual([]);
  });

  it('describes every field', () => {
    const undescribed = all
      .filter(([path, node]) => !path.endsWith('{}') && typeof node['description'] !== 'string')
      .map(([path]) => path);
    expect(undescribed).toEqual([]);
  });

  it('closes every object against unknown fields', () => {
    const open = all
      .filter(([, node]) => node['type'] === 'object' && node['additionalProperties'] === undefined)
      .map(([path]) => path);
    expect(open).toEqual([]);
  });

  it('bounds every number, string and array', () => {
    const unbounded = all
      .filter(([, node]) => {
        if (node['enum'] !== undefined) return false;
        if (node['type'] === 'integer' || node['type'] === 'number') {
          return node['minimum'] === undefined || node['maximum'] === undefined;
        }
        if (node['type'] === 'string') return node['maxLength'] === undefined;
        if (node['type'] === 'array') return node['maxItems'] === undefined;
        return false;
      })
      .map(([path]) => path);
    expect(unbounded).toEqual([]);
  });

  it('never requires a field that has a default', () => {
    const contradictions = all.flatMap(([path, node]) =>
      ((node['required'] ?? []) as string[])
        .filter(
          (name) =>
            ((node['properties'] as Record<string, Node>)[name] ?? {})['default'] !== undefined,
        )
        .map((name) => `${path}.${name}`),
    );
    expect(contradictions).toEqual([]);
  });

  it('keeps required fields that have no default', () => {
    expect((resourceJsonSchemas.Route as Node)['required']).toEqual([
      'apiVersion',
      'kind',
      'metadata',
      'spec',
    ]);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(resourceJsonSchemas)).toBe(true);
    expect(Object.isFrozen((resourceJsonSchemas.Service as Node)['properties'])).toBe(true);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(resourceJsonSchemas))).toEqual(resourceJsonSchemas);
  });
});

describe('toJsonSchema', () => {
  it('drops defaulted properties from required and removes an empty required list', () => {
    const schema = Type.Object({
      a: Type.Integer({ default: 1 }),
      b: Type.Object({ c: Type.String({ default: 'x' }) }),
    });
    expect(toJsonSchema(schema)).toEqual({
      type: 'object',
      required: ['b'],
      properties: {
        a: { type: 'integer', default: 1 },
        b: { type: 'object', properties: { c: { type: 'string', default: 'x' } } },
      },
    });
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const value = deepFreeze({ a: [{ b: 1 }] });
    expect([Object.isFrozen(value), Object.isFrozen(value.a), Object.isFrozen(value.a[0])]).toEqual(
      [true, true, true],
    );
  });
});
