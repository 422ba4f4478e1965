// ValidateDocuments: the files are parsed and validated together, exactly as `meshctl validate`
// does with files read from disk, so cross-file references resolve.
import { parseDocuments, validateDocuments } from '@trellis/config';
import type { ConfigIssue, ParsedDocument } from '@trellis/config';
import { issueMessage } from './convert.js';
import type { FileMessage, ValidateResponse } from './messages.js';

export function validateFiles(files: readonly FileMessage[]): ValidateResponse {
  const issues: ConfigIssue[] = [];
  const documents: ParsedDocument[] = [];
  for (const { name, content } of files) {
    const parsed = parseDocuments(content, name);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  issues.push(...validateDocuments(documents).issues);
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  return {
    ok: errors.length === 0,
    documents: documents.length,
    issues: [...errors, ...warnings].map(issueMessage),
  };
}
