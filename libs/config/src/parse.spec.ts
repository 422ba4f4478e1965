import { describe, expect, it } from 'vitest';
import { parseDocuments } from './parse.js';

const text = `# first
a: 1
list:
  - x: 1
  - x: 2
---
b: two
`;

describe('parseDocuments', () => {
  it('splits multi-document YAML into plain values', () => {
    const { documents, issues } = parseDocuments(text, 'f.yaml');
    expect(issues).toEqual([]);
    expect(documents.map((d) => d.value)).toEqual([
      { a: 1, list: [{ x: 1 }, { x: 2 }] },
      { b: 'two' },
    ]);
    expect(documents.map((d) => [d.file, d.index])).toEqual([
      ['f.yaml', 0],
      ['f.yaml', 1],
    ]);
  });

  it('skips empty and comment-only documents but keeps counting them', () => {
    const { documents } = parseDocuments('---\n# nothing\n---\na: 1\n---\n', 'f.yaml');
    expect(documents.map((d) => [d.index, d.value])).toEqual([[1, { a: 1 }]]);
  });

  it('returns nothing for empty text', () => {
    expect(parseDocuments('', 'f.yaml')).toEqual({ documents: [], issues: [] });
  });

  it('reports a syntax error with its position and keeps the other documents', () => {
    const { documents, issues } = parseDocuments('a: [1, 2\n---\nb: 2\n', 'bad.yaml');
    expect(documents.map((d) => d.value)).toEqual([{ b: 2 }]);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      severity: 'error',
      code: 'TRL_CFG_YAML',
      source: { file: 'bad.yaml', line: 2, column: 1 },
    });
  });

  it('reports duplicate keys', () => {
    const { documents, issues } = parseDocuments('a: 1\na: 2\n', 'dup.yaml');
    expect(documents).toEqual([]);
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_YAML',
        message: 'Map keys must be unique',
        source: { file: 'dup.yaml', line: 2, column: 1 },
      },
    ]);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    const { documents, issues } = parseDocuments(`${levels.join('\n')}\n`, 'bomb.yaml');
    expect(documents).toEqual([]);
    expect(issues.map((i) => [i.code, i.source?.line])).toEqual([['TRL_CFG_YAML', 1]]);
  });

  it('resolves plain aliases', () => {
    const { documents } = parseDocuments('a: &x {k: 1}\nb: *x\n', 'f.yaml');
    expect(documents[0]?.value).toEqual({ a: { k: 1 }, b: { k: 1 } });
  });

  it('reports unknown tags as warnings and keeps the document', () => {
    const { documents, issues } = parseDocuments('a: !custom 1\n', 'f.yaml');
    expect(documents).toHaveLength(1);
    expect(issues.map((i) => [i.severity, i.code])).toEqual([['warning', 'TRL_CFG_YAML']]);
  });

  it('never throws on garbage', () => {
    for (const garbage of [
      '{{{',
      ']]',
      ': :',
      '\t- x',
      '"unterminated',
      '&a *a',
      '%YAML 9\n---\n',
      '\u0000',
    ]) {
      expect(() => parseDocuments(garbage, 'g.yaml')).not.toThrow();
    }
  });
});

describe('ParsedDocument.positionOf', () => {
  const [first, second] = parseDocuments(text, 'f.yaml').documents;

  it('points at the value of a path', () => {
    expect(first?.positionOf?.(['list', 1, 'x'], 'value')).toEqual({
      file: 'f.yaml',
      line: 5,
      column: 8,
    });
  });

  it('points at the key when asked for it', () => {
    expect(first?.positionOf?.(['list', 1, 'x'], 'key')).toEqual({
      file: 'f.yaml',
      line: 5,
      column: 5,
    });
  });

  it('falls back to the key of the nearest existing parent', () => {
    expect(first?.positionOf?.(['list', 0, 'missing', 'deeper'], 'value')).toEqual({
      file: 'f.yaml',
      line: 4,
      column: 5,
    });
    expect(first?.positionOf?.(['list', 7], 'value')).toEqual({
      file: 'f.yaml',
      line: 3,
      column: 1,
    });
  });

  it('points at the document start for the root', () => {
    expect(second?.positionOf?.([], 'value')).toEqual({ file: 'f.yaml', line: 7, column: 1 });
  });
});
