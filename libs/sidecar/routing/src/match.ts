// Route matches compiled once into predicates, plus the precedence used to order routes that
// share a host: the more specific match wins, as in Gateway API — exact path, then the longest
// prefix, then regex, then method, header and query constraints by count.
import type { HeaderMatch, QueryMatch, RouteMatch } from '@trellis/config';
import { matchesPathPrefix } from './path.js';
import type { RequestView } from './request-view.js';

export interface MatchInput {
  readonly request: RequestView;
  /** Normalised path without the query. */
  readonly path: string;
  readonly query: string;
}

export type MatchPredicate = (input: MatchInput) => boolean;

export interface CompiledMatch {
  readonly test: MatchPredicate;
  /** Larger sorts first. Tuple compared element by element. */
  readonly precedence: readonly number[];
  /** The prefix of a prefix path match, for prefix rewrites and redirects. */
  readonly pathPrefix: string | undefined;
}

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);

function valueTest(m: {
  exact?: string;
  prefix?: string;
  regex?: string;
  present?: boolean;
}): (v: string | undefined) => boolean {
  if (m.exact !== undefined) {
    const exact = m.exact;
    return (v) => v === exact;
  }
  if (m.prefix !== undefined) {
    const prefix = m.prefix;
    return (v) => v !== undefined && v.startsWith(prefix);
  }
  if (m.regex !== undefined) {
    const re = anchored(m.regex);
    return (v) => v !== undefined && re.test(v);
  }
  const present = m.present ?? true;
  return (v) => (v !== undefined) === present;
}

function headerTest(m: HeaderMatch): MatchPredicate {
  const name = m.name.toLowerCase();
  const test = valueTest(m);
  return m.invert ? (i) => !test(i.request.header(name)) : (i) => test(i.request.header(name));
}

function queryTest(m: QueryMatch): MatchPredicate {
  const test = valueTest(m);
  return (i) => {
    if (!i.query) return test(undefined);
    const value = new URLSearchParams(i.query).get(m.name);
    return test(value ?? undefined);
  };
}

export function compileMatch(match: RouteMatch | undefined): CompiledMatch {
  const tests: MatchPredicate[] = [];
  let pathRank = 0;
  let pathLength = 0;
  let pathPrefix: string | undefined;
  const path = match?.path;
  if (path?.exact !== undefined) {
    const exact = path.exact;
    tests.push((i) => i.path === exact);
    pathRank = 3;
    pathLength = exact.length;
  } else if (path?.prefix !== undefined) {
    const prefix = path.prefix;
    pathPrefix = prefix;
    if (prefix !== '/') tests.push((i) => matchesPathPrefix(i.path, prefix));
    pathRank = 2;
    pathLength = prefix.length;
  } else if (path?.regex !== undefined) {
    const re = anchored(path.regex);
    tests.push((i) => re.test(i.path));
    pathRank = 1;
    pathLength = path.regex.length;
  }
  if (match?.methods) {
    const methods = new Set<string>(match.methods);
    tests.push((i) => methods.has(i.request.method));
  }
  for (const h of match?.headers ?? []) tests.push(headerTest(h));
  for (const q of match?.query ?? []) tests.push(queryTest(q));
  const protocol = match?.protocol;
  if (protocol) tests.push((i) => i.request.protocol === protocol);

  const precedence = [
    pathRank,
    pathLength,
    match?.methods ? 1 : 0,
    match?.headers?.length ?? 0,
    match?.query?.length ?? 0,
    protocol ? 1 : 0,
  ];
  const test: MatchPredicate =
    tests.length === 0
      ? () => true
      : tests.length === 1
        ? (tests[0] as MatchPredicate)
        : (i) => tests.every((t) => t(i));
  return { test, precedence, pathPrefix };
}

export function comparePrecedence(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < Math.max(a.length, b.length); k++) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
