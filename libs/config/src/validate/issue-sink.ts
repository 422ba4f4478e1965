// Collects the issues of one document, turning field paths into printable paths and YAML positions.
import type { ConfigIssue, ConfigIssueCode, PathSegment } from '../issues.js';
import { formatPath } from '../issues.js';
import type { NodePart, ParsedDocument } from '../parse.js';

export interface IssueSink {
  error(
    code: ConfigIssueCode,
    path: readonly PathSegment[],
    message: string,
    part?: NodePart,
  ): void;
  warning(
    code: ConfigIssueCode,
    path: readonly PathSegment[],
    message: string,
    part?: NodePart,
  ): void;
}

export class DocumentIssues implements IssueSink {
  readonly issues: ConfigIssue[] = [];
  /** Set once the document's kind and name are known; issues before that carry no document id. */
  documentId: string | undefined;
  private readonly seenPaths = new Set<string>();

  constructor(private readonly doc: ParsedDocument) {}

  get hasErrors(): boolean {
    return this.issues.some((issue) => issue.severity === 'error');
  }

  error(
    code: ConfigIssueCode,
    path: readonly PathSegment[],
    message: string,
    part: NodePart = 'value',
  ): void {
    this.add('error', code, path, message, part);
  }

  warning(
    code: ConfigIssueCode,
    path: readonly PathSegment[],
    message: string,
    part: NodePart = 'value',
  ): void {
    this.add('warning', code, path, message, part);
  }

  /** Like error(), but keeps only the first issue per path (one field, one complaint). */
  firstError(
    code: ConfigIssueCode,
    path: readonly PathSegment[],
    message: string,
    part: NodePart = 'value',
  ): void {
    const key = formatPath(path);
    if (this.seenPaths.has(key)) return;
    this.seenPaths.add(key);
    this.error(code, path, message, part);
  }

  /** Where the node at `path` is, as `file:line`, or `file[index]` for in-memory documents. */
  where(path: readonly PathSegment[]): string {
    const source = this.doc.positionOf?.(path, 'value');
    return source === undefined
      ? `${this.doc.file}[${this.doc.index}]`
      : `${source.file}:${source.line}`;
  }

  private add(
    severity: ConfigIssue['severity'],
    code: ConfigIssueCode,
    path: readonly PathSegment[],
    message: string,
    part: NodePart,
  ): void {
    const source = this.doc.positionOf?.(path, part);
    this.issues.push({
      severity,
      code,
      ...(this.documentId === undefined ? {} : { document: this.documentId }),
      ...(path.length === 0 ? {} : { path: formatPath(path) }),
      message,
      ...(source === undefined ? {} : { source }),
    });
  }
}
