// loadConfig: parse and validate a set of YAML files in one call.
import type { ConfigIssue } from './issues.js';
import { parseDocuments } from './parse.js';
import type { ParsedDocument } from './parse.js';
import type { Resource } from './schema/resources.js';
import { validateDocuments } from './validate/validate-documents.js';

/** Parses every file, then validates all their documents together (cross-file references work). */
export function loadConfig(files: readonly { file: string; text: string }[]): {
  resources: Resource[];
  issues: ConfigIssue[];
} {
  const documents: ParsedDocument[] = [];
  const issues: ConfigIssue[] = [];
  for (const { file, text } of files) {
    const parsed = parseDocuments(text, file);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  const validated = validateDocuments(documents);
  return { resources: validated.resources, issues: [...issues, ...validated.issues] };
}
