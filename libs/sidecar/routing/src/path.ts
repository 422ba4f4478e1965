// Request-target handling for routing: split path and query, and normalise the path the way
// RFC 3986 §5.2.4 removes dot segments, so `/public/../admin` cannot slip past a prefix route
// meant to keep `/admin` out. Percent-encoded bytes are left as they are.

export interface SplitTarget {
  readonly path: string;
  /** The query without `?`, or '' when absent. */
  readonly query: string;
}

export function splitTarget(target: string): SplitTarget {
  const q = target.indexOf('?');
  return q < 0
    ? { path: target, query: '' }
    : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** Removes `.` and `..` segments; returns the input unchanged (same string) when it has none. */
export function normalizePath(path: string): string {
  if (!path.includes('/.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      if (out.length > 1) out.pop();
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

/**
 * Path-element prefix match (as Gateway API's PathPrefix): `/foo` matches `/foo`, `/foo/` and
 * `/foo/bar`, never `/foobar`. A prefix ending in `/` matches anything under it.
 */
export function matchesPathPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix.endsWith('/')) return path.startsWith(prefix);
  return (
    path.startsWith(prefix) &&
    (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)
  );
}
