// validateDocuments: every check over a set of parsed documents, all issues reported at once.
import type { ConfigIssue } from '../issues.js';
import type { ParsedDocument } from '../parse.js';
import type { Resource } from '../schema/resources.js';
import { checkAcrossDocuments } from './cross-references.js';
import { checkDocument } from './document.js';

/**
 * Schema, semantic and cross-reference checks. Returns the resources (defaults applied, keys in
 * schema order) of the documents without errors, in input order, and every issue found, grouped
 * by document in input order and within a document by position. Never throws.
 */
export function validateDocuments(docs: readonly ParsedDocument[]): {
  resources: Resource[];
  issues: ConfigIssue[];
} {
  const checked = docs.map(checkDocument);
  checkAcrossDocuments(checked);
  return {
    resources: checked.flatMap((c) =>
      c.resource !== undefined && !c.sink.hasErrors ? [c.resource] : [],
    ),
    issues: checked.flatMap((c) => inSourceOrder(c.sink.issues)),
  };
}

/** A document's issues in the order of their YAML nodes (stable; unpositioned ones keep theirs). */
function inSourceOrder(issues: readonly ConfigIssue[]): ConfigIssue[] {
  if (issues.some((issue) => issue.source === undefined)) return [...issues];
  return [...issues].sort(
    (a, b) =>
      (a.source?.line ?? 0) - (b.source?.line ?? 0) ||
      (a.source?.column ?? 0) - (b.source?.column ?? 0),
  );
}
