// Config issues: the one shape every parse and validation problem is reported in, and its text form.

/** Stable issue codes (tools may switch on them) and what each means. */
export const ISSUE_CODES = {
  TRL_CFG_YAML: 'YAML syntax error, or YAML that cannot become data (e.g. too many aliases).',
  TRL_CFG_SCHEMA: 'A field of the wrong type, out of bounds, malformed, missing or unknown.',
  TRL_CFG_KIND: '`kind` names no Trellis resource kind.',
  TRL_CFG_API_VERSION: '`apiVersion` is not trellis.dev/v1alpha1.',
  TRL_CFG_REGEX: 'A regular expression that does not compile.',
  TRL_CFG_CONSTRAINT:
    'Fields of one document that contradict each other (exactly-one-of, requires, ordering).',
  TRL_CFG_WEIGHTS: 'Route destination weights missing or not adding up to 100.',
  TRL_CFG_REFERENCE: 'A reference to a service, route or service port that does not exist.',
  TRL_CFG_DUPLICATE:
    'The same resource, port, host, alias, destination or per-target policy defined twice.',
  TRL_CFG_OVERLAP:
    'Warning: a route with the same host and match as an earlier route, so only one can apply.',
} as const;

export type ConfigIssueCode = keyof typeof ISSUE_CODES;

export interface SourcePosition {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface ConfigIssue {
  readonly severity: 'error' | 'warning';
  /** Stable code: one of ISSUE_CODES here; other libs add their own (e.g. file reading). */
  readonly code: string;
  /** The document the issue is in, as `kind/name` (kind lowercased), plus `.namespace` outside "default". */
  readonly document?: string;
  /** Field path inside the document, e.g. `spec.destinations[1].weight`. */
  readonly path?: string;
  readonly message: string;
  /** Where the offending YAML node is, when the document came from text. */
  readonly source?: SourcePosition;
}

/** One step of a field path: a property name or an array index. */
export type PathSegment = string | number;

const PLAIN_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['spec', 'destinations', 1, 'weight']` → `spec.destinations[1].weight`; odd keys are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_SEGMENT.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** `route/checkout` in the default namespace, `route/checkout.shop` elsewhere. */
export function documentId(kind: string, name: string, namespace: string): string {
  const base = `${kind.toLowerCase()}/${name}`;
  return namespace === 'default' ? base : `${base}.${namespace}`;
}

/** `file:line:column: [warning: ]document: path: message`, leaving out the parts that are unknown. */
export function formatIssue(issue: ConfigIssue): string {
  const parts: string[] = [];
  if (issue.source !== undefined) {
    parts.push(`${issue.source.file}:${issue.source.line}:${issue.source.column}`);
  }
  if (issue.severity === 'warning') parts.push('warning');
  if (issue.document !== undefined) parts.push(issue.document);
  if (issue.path !== undefined && issue.path !== '') parts.push(issue.path);
  parts.push(issue.message);
  return parts.join(': ');
}
