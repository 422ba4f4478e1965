// Property tests: generated valid configs survive a YAML round trip unchanged; corrupted configs
// and garbage text produce well-formed issues and never an exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duration, validConfig } from '../testing/arbitraries.js';
import { parseDuration } from './duration.js';
import type { ConfigIssue } from './issues.js';
import { formatIssue } from './issues.js';
import { loadConfig } from './load.js';
import { parseDocuments } from './parse.js';
import { resourceJsonSchemas } from './schema/resources.js';
import { serializeResources } from './serialize.js';
import { buildSnapshot } from './snapshot.js';
import { validateDocuments } from './validate/validate-documents.js';

type Doc = Record<string, unknown>;

const asDocuments = (docs: readonly unknown[]) =>
  docs.map((value, index) => ({ file: 'gen', index, value }));

function errorsOf(issues: readonly ConfigIssue[]): string[] {
  return issues.filter((i) => i.severity === 'error').map(formatIssue);
}

/** Issues must be printable and carry sane positions, whatever the input. */
function expectWellFormed(issues: readonly ConfigIssue[]): void {
  for (const issue of issues) {
    expect(issue.code).toMatch(/^TRL_CFG_[A-Z_]+$/);
    expect(['error', 'warning']).toContain(issue.severity);
    expect(issue.message.length).toBeGreaterThan(0);
    if (issue.source !== undefined) {
      expect(issue.source.line).toBeGreaterThanOrEqual(1);
      expect(issue.source.column).toBeGreaterThanOrEqual(1);
    }
    expect(typeof formatIssue(issue)).toBe('string');
  }
}

/** Paths of every value inside a document (objects and arrays included). */
function pathsOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const here = [path];
  if (Array.isArray(value))
    return [...here, ...value.flatMap((item, i) => pathsOf(item, [...path, i]))];
  if (typeof value === 'object' && value !== null) {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...path, k]))];
  }
  return here;
}

/** Paths of fields the JSON Schema requires (no default) that are present in the document. */
function requiredPaths(
  schema: Doc,
  value: unknown,
  path: (string | number)[] = [],
): (string | number)[][] {
  if (Array.isArray(value) && typeof schema['items'] === 'object') {
    return value.flatMap((item, i) => requiredPaths(schema['items'] as Doc, item, [...path, i]));
  }
  const properties = schema['properties'] as Record<string, Doc> | undefined;
  if (properties === undefined || typeof value !== 'object' || value === null) return [];
  const required = new Set((schema['required'] ?? []) as string[]);
  return Object.entries(value as Doc).flatMap(([key, child]) => [
    ...(required.has(key) ? [[...path, key]] : []),
    ...(properties[key] === undefined ? [] : requiredPaths(properties[key], child, [...path, key])),
  ]);
}

function setAt(
  root: unknown,
  path: readonly (string | number)[],
  replace: (parent: Doc, key: string | number) => void,
): unknown {
  const copy = structuredClone(root);
  let node = copy as Doc;
  for (const key of path.slice(0, -1)) node = node[key as string] as Doc;
  replace(node, path[path.length - 1] as string | number);
  return copy;
}

describe('generated valid configs', () => {
  it('validate cleanly and round-trip through serializeResources, parseDocuments and validateDocuments unchanged', () => {
    fc.assert(
      fc.property(validConfig, (docs) => {
        const { resources, issues } = validateDocuments(asDocuments(docs));
        expect(issues.map(formatIssue)).toEqual([]);
        expect(resources).toHaveLength(docs.length);
        const text = serializeResources(resources);
        const parsed = parseDocuments(text, 'round-trip.yaml');
        expect(parsed.issues).toEqual([]);
        expect(validateDocuments(parsed.documents)).toEqual({ resources, issues: [] });
      }),
      { numRuns: 100 },
    );
  });

  it('hash the same in any order', () => {
    fc.assert(
      fc.property(
        validConfig.chain((docs) =>
          fc.tuple(fc.constant(docs), fc.shuffledSubarray(docs, { minLength: docs.length })),
        ),
        ([docs, shuffled]) => {
          const a = buildSnapshot(validateDocuments(asDocuments(docs)).resources, 1);
          const b = buildSnapshot(validateDocuments(asDocuments(shuffled)).resources, 2);
          expect(b.hash).toBe(a.hash);
          expect(b.resources).toEqual(a.resources);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('corrupted configs', () => {
  it('never throw when a field is replaced by any JSON value', () => {
    fc.assert(
      fc.property(
        validConfig.chain((docs) =>
          fc.tuple(
            fc.constant(docs),
            fc.nat({ max: docs.length - 1 }),
            fc.nat(),
            fc.jsonValue({ maxDepth: 2 }),
          ),
        ),
        ([docs, which, pick, replacement]) => {
          const paths = pathsOf(docs[which]).filter((p) => p.length > 0);
          const target = paths[pick % paths.length] ?? ['spec'];
          const corrupted = [...docs];
          corrupted[which] = setAt(docs[which], target, (parent, key) => {
            (parent as Record<string | number, unknown>)[key] = replacement;
          }) as Doc;
          const { resources, issues } = validateDocuments(asDocuments(corrupted));
          expectWellFormed(issues);
          if (errorsOf(issues).length === 0) expect(resources).toHaveLength(docs.length);
          else expect(resources.length).toBeLessThan(docs.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('report a deleted required field as required', () => {
    fc.assert(
      fc.property(
        validConfig.chain((docs) =>
          fc.tuple(fc.constant(docs), fc.nat({ max: docs.length - 1 }), fc.nat()),
        ),
        ([docs, which, pick]) => {
          const doc = docs[which] as Doc;
          const schema = resourceJsonSchemas[
            doc['kind'] as keyof typeof resourceJsonSchemas
          ] as Doc;
          const candidates = requiredPaths(schema, doc);
          const target = candidates[pick % candidates.length] as (string | number)[];
          const corrupted = [...docs];
          corrupted[which] = setAt(doc, target, (parent, key) => {
            delete (parent as Record<string | number, unknown>)[key];
          }) as Doc;
          const { issues } = validateDocuments(asDocuments(corrupted));
          expectWellFormed(issues);
          const printed = target
            .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
            .join('')
            .slice(1);
          expect(issues.map((i) => `${i.path ?? ''}: ${i.message}`)).toContain(
            `${printed}: is required`,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never throw when garbage is spliced into the YAML', () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(
        ':',
        '- ',
        '{',
        ']',
        '&a',
        '*b',
        '!!int',
        '\t',
        '---\n',
        '"',
        "'",
        '? ',
        '|\n',
        '%YAML 1.1\n',
        '\n  x: 1\n',
      ),
    );
    fc.assert(
      fc.property(
        validConfig.chain((docs) => fc.tuple(fc.constant(docs), fc.nat(), garbage)),
        ([docs, at, junk]) => {
          const text = serializeResources(validateDocuments(asDocuments(docs)).resources);
          const offset = at % (text.length + 1);
          const result = loadConfig([
            { file: 'junk.yaml', text: text.slice(0, offset) + junk + text.slice(offset) },
          ]);
          expectWellFormed(result.issues);
          const lines = text.split('\n').length + junk.split('\n').length;
          for (const issue of result.issues)
            expect(issue.source?.line ?? 1).toBeLessThanOrEqual(lines);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('never throw on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expectWellFormed(loadConfig([{ file: 'any.yaml', text }]).issues);
      }),
      { numRuns: 200 },
    );
  });

  it('never throw on arbitrary values as documents', () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ maxDepth: 3 }), { maxLength: 3 }), (values) => {
        expectWellFormed(validateDocuments(asDocuments(values)).issues);
      }),
      { numRuns: 200 },
    );
  });
});

describe('generated durations', () => {
  it('parse back to a value within their bounds', () => {
    fc.assert(
      fc.property(duration(1, 86_400_000), (text) => {
        const ms = parseDuration(text);
        expect(ms).toBeGreaterThanOrEqual(1);
        expect(ms).toBeLessThanOrEqual(86_400_000);
      }),
    );
  });
});
