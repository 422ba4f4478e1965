// Multi-document YAML → plain data per document, remembering where each node was for issue positions.
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigIssue, PathSegment, SourcePosition } from './issues.js';

/** Which end of a `key: value` pair an issue is about. */
export type NodePart = 'key' | 'value';

export interface ParsedDocument {
  /** File the document came from (any label for in-memory documents). */
  readonly file: string;
  /** 0-based position of the document in its file. */
  readonly index: number;
  /** The document as plain JSON-like data. */
  readonly value: unknown;
  /**
   * Where the node at `path` is; falls back to the nearest existing parent. Absent for documents
   * that were not parsed from text.
   */
  readonly positionOf?: (path: readonly PathSegment[], part: NodePart) => SourcePosition;
}

/** Aliases beyond this many are treated as an attack (billion laughs), not as config. */
const MAX_ALIAS_COUNT = 100;

/**
 * Splits `text` into documents. Never throws: syntax errors become TRL_CFG_YAML issues (with the
 * position), the broken documents are dropped and the others kept. Empty documents are skipped.
 */
export function parseDocuments(
  text: string,
  file: string,
): { documents: ParsedDocument[]; issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const documents: ParsedDocument[] = [];
  const issues: ConfigIssue[] = [];
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  parsed.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        issues.push({
          severity: 'error',
          code: 'TRL_CFG_YAML',
          message: error.message,
          source: at(error.pos[0]),
        });
      }
      return;
    }
    for (const warning of doc.warnings) {
      issues.push({
        severity: 'warning',
        code: 'TRL_CFG_YAML',
        message: warning.message,
        source: at(warning.pos[0]),
      });
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      issues.push({
        severity: 'error',
        code: 'TRL_CFG_YAML',
        message: error instanceof Error ? error.message : String(error),
        source: at(contents.range?.[0] ?? 0),
      });
      return;
    }
    documents.push({
      file,
      index,
      value,
      positionOf: (path, part) => at(locate(doc, path, part)),
    });
  });
  return { documents, issues };
}

/** Offset of the node at `path`, or of the nearest parent that exists. */
function locate(doc: Document.Parsed, path: readonly PathSegment[], part: NodePart): number {
  let node: unknown = doc.contents;
  let offset = start(node) ?? doc.range[0];
  let keyOffset: number | undefined;
  for (const segment of path) {
    node = isAlias(node) ? node.resolve(doc) : node;
    let next: unknown;
    keyOffset = undefined;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (pair === undefined) return offset;
      keyOffset = start(pair.key);
      next = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
      if (next === undefined) return offset;
    } else {
      return offset;
    }
    // A missing child falls back to where its key is; `key:` with no value has no node of its own.
    offset = keyOffset ?? start(next) ?? offset;
    node = next;
  }
  if (part === 'key' && keyOffset !== undefined) return keyOffset;
  return start(node) ?? offset;
}

function start(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}
