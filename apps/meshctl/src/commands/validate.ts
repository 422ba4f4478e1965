// `meshctl validate PATH...`: checks Trellis config documents the way the control plane
// will, and reports every problem at once with file, line, document, field path and reason.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssue, parseDocuments, validateDocuments } from '@trellis/config';
import type { ConfigIssue, ParsedDocument } from '@trellis/config';
import { readConfigPaths } from '@trellis/config-files';
import type { CliIo, Command } from '../cli.js';
import { UsageError } from '../cli.js';

const usage = `Usage: meshctl validate [-o text|json] PATH...

Validates Trellis config documents (YAML files, or folders of them, read recursively):
schema, field bounds, cross-references between documents, overlapping routes.

Options:
  -o, --output text|json  output format (default text)
  -h, --help              show this help

Exit status: 0 when every document is valid (warnings allowed), 1 when any is not, 2 on usage errors.`;

export interface ValidateReport {
  readonly ok: boolean;
  readonly documents: number;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/** Reads, parses and validates `paths` together, so cross-file references resolve. */
export async function validatePaths(
  paths: readonly string[],
  cwd: string,
): Promise<ValidateReport> {
  const read = await readConfigPaths(
    paths.map((p) => resolve(cwd, p)),
    cwd,
  );
  const issues: ConfigIssue[] = [...read.issues];
  const documents: ParsedDocument[] = [];
  for (const { file, text } of read.files) {
    const parsed = parseDocuments(text, file);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  issues.push(...validateDocuments(documents).issues);
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  return { ok: errors.length === 0, documents: documents.length, errors, warnings };
}

function renderText(report: ValidateReport): string {
  const lines = [...report.errors, ...report.warnings].map(formatIssue);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (report.ok) {
    const suffix = report.warnings.length ? ` (${plural(report.warnings.length, 'warning')})` : '';
    lines.push(`ok: ${plural(report.documents, 'document')}${suffix}`);
  } else {
    lines.push(
      `invalid: ${plural(report.errors.length, 'error')}, ${plural(report.warnings.length, 'warning')} in ${plural(report.documents, 'document')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'validate config documents (files or folders) and list every problem',
  usage,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { output: { type: 'string', short: 'o', default: 'text' } },
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const output = parsed.values.output;
    if (output !== 'text' && output !== 'json') {
      throw new UsageError(`--output must be text or json (got "${output}")`);
    }
    if (parsed.positionals.length === 0) throw new UsageError('give at least one file or folder');
    const report = await validatePaths(parsed.positionals, io.cwd);
    io.stdout(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    return report.ok ? 0 : 1;
  },
};
