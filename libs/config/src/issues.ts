// Config issues: the one shape every parse and validation problem is reported in, and its text form.

/** Stable issue codes; tools may switch on them. */
export type ConfigIssueCode =
  /** YAML syntax error, or a YAML construct that cannot become data. */
  | 'TRL_CFG_YAML'
  /** A value of the wrong type, out of bounds, malformed, missing or unknown. */
  | 'TRL_CFG_SCHEMA'
  /** `kind` names no Trellis resource kind. */
  | 'TRL_CFG_KIND'
  /** `apiVersion` is not trellis.dev/v1alpha1. */
  | 'TRL_CFG_API_VERSION'
  /** A regular expression that does not compile. */
  | 'TRL_CFG_REGEX'
  /** Fields that contradict each other inside one document (exactly-one-of, requires, ordering). */
  | 'TRL_CFG_CONSTRAINT'
  /** Route destination weights that do not add up to 100. */
  | 'TRL_CFG_WEIGHTS'
  /** A reference to a service, route or port that does not exist. */
  | 'TRL_CFG_REFERENCE'
  /** The same resource, port, host, destination or per-service policy defined twice. */
  | 'TRL_CFG_DUPLICATE'
  /** Warning: a route whose host and match repeat an earlier route's. */
  | 'TRL_CFG_OVERLAP';

export interface SourcePosition {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface ConfigIssue {
  readonly severity: 'error' | 'warning';
  readonly code: ConfigIssueCode;
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
