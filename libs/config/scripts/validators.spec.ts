// The precompiled validators behave exactly as Ajv compiling the schemas at run time: same
// verdict, same errors (the messages are worded from them), same defaults filled in.
import fc from 'fast-check';
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import * as precompiled from '../generated/validators.js';
import { KINDS } from '../src/index.js';
import type { Kind } from '../src/index.js';
import { validConfig } from '../testing/arbitraries.js';
import type { Doc } from '../testing/fixtures.js';
import { renderValidatorsModule, validatorAjv } from './validators.js';

const ajv = validatorAjv();
const compiled = (kind: Kind): ValidateFunction => ajv.getSchema(kind) as ValidateFunction;

/** Every object and array path of `value`, the root included. */
function containerPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const children = Object.entries(value).flatMap(([key, child]) =>
    containerPaths(child, [...path, Array.isArray(value) ? Number(key) : key]),
  );
  return [path, ...children];
}

/**
 * A copy of `doc` in which the container at `path` gets `replacement`: under one of its keys
 * (`existing` picks which) or under `key`, which may be new. An array takes a new item at its
 * end instead: JSON arrays have no named keys (and `key` = "length" would resize it).
 */
function corrupt(
  doc: Doc,
  path: (string | number)[],
  existing: number | undefined,
  key: string,
  replacement: unknown,
): Doc {
  const copy = structuredClone(doc);
  let node: Record<string | number, unknown> = copy;
  for (const segment of path) node = node[segment] as Record<string | number, unknown>;
  const keys = Object.keys(node);
  const newKey = Array.isArray(node) ? node.length : key;
  const target =
    existing === undefined || keys.length === 0 ? newKey : keys[existing % keys.length];
  node[target ?? newKey] = replacement;
  return copy;
}

function outcome(validate: ValidateFunction, doc: Doc): unknown {
  const data = structuredClone(doc);
  const valid = validate(data);
  return { valid, data, errors: validate.errors ?? null };
}

const corruptedDocs = validConfig.chain((docs) =>
  fc
    .tuple(
      fc.nat({ max: docs.length - 1 }),
      fc.nat(),
      fc.option(fc.nat(), { nil: undefined }),
      fc.string({ maxLength: 6 }),
      fc.jsonValue(),
    )
    .map(([which, pick, existing, key, replacement]) => {
      const doc = docs[which] as Doc;
      const paths = containerPaths(doc);
      const kind = doc['kind'] as Kind;
      return {
        kind,
        doc: corrupt(doc, paths[pick % paths.length] ?? [], existing, key, replacement),
      };
    }),
);

describe('precompiled validators', () => {
  it('export one validator per kind', () => {
    expect(KINDS.map((kind) => typeof precompiled[kind])).toEqual(KINDS.map(() => 'function'));
  });

  it('load no module at run time (ES modules have no require)', () => {
    expect(renderValidatorsModule()).not.toMatch(/\brequire\(|^import /m);
  });

  it('accept valid configs as Ajv does, filling in the same defaults', () => {
    fc.assert(
      fc.property(validConfig, (docs) => {
        for (const doc of docs) {
          const kind = doc['kind'] as Kind;
          expect(outcome(precompiled[kind], doc)).toEqual(outcome(compiled(kind), doc));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('report the same errors as Ajv for corrupted documents', () => {
    fc.assert(
      fc.property(corruptedDocs, ({ kind, doc }) => {
        expect(outcome(precompiled[kind], doc)).toEqual(outcome(compiled(kind), doc));
      }),
      { numRuns: 300 },
    );
  });
});
