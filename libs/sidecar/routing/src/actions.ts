// What a matched route does to the request: pick a weighted destination, rewrite the target,
// or build a redirect's Location. Pure functions of the compiled action and the request.
import type { ForwardAction, RedirectAction, WeightedDestination } from './compiled-route.js';

/** Weighted pick; `random` returns [0, 1). Weight-0 destinations are never picked. */
export function pickDestination(
  action: ForwardAction,
  random: () => number,
): WeightedDestination | undefined {
  const { destinations, totalWeight } = action;
  if (destinations.length === 1) return destinations[0];
  if (totalWeight <= 0) return undefined;
  let ticket = random() * totalWeight;
  for (const d of destinations) {
    if (ticket < d.weight) return d;
    ticket -= d.weight;
  }
  // Floating-point leftovers land on the last destination with weight.
  for (let i = destinations.length - 1; i >= 0; i--)
    if ((destinations[i] as WeightedDestination).weight > 0) return destinations[i];
  return undefined;
}

function replacePrefix(path: string, from: string, to: string): string {
  const rest = path.slice(from.length);
  if (to.endsWith('/') && rest.startsWith('/')) return to + rest.slice(1);
  if (!to.endsWith('/') && rest !== '' && !rest.startsWith('/')) return `${to}/${rest}`;
  const joined = to + rest;
  return joined === '' ? '/' : joined;
}

/** The request target to send upstream after the route's path rewrite. */
export function rewriteTarget(action: ForwardAction, path: string, query: string): string {
  let out = path;
  const rewrite = action.pathRewrite;
  if (rewrite?.prefix) out = replacePrefix(path, rewrite.prefix.from, rewrite.prefix.to);
  else if (rewrite?.regex) out = path.replace(rewrite.regex.pattern, rewrite.regex.substitution);
  return query ? `${out}?${query}` : out;
}

export interface RedirectRequest {
  readonly scheme: string;
  /** Host without port. */
  readonly host: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly query: string;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

/** Absolute Location for a redirect; unset parts of the action keep the request's values. */
export function redirectLocation(action: RedirectAction, request: RedirectRequest): string {
  const scheme = action.scheme ?? request.scheme;
  const host = action.host ?? request.host;
  // A scheme change without an explicit port drops the request's port (http:8080 → https).
  const port =
    action.port ?? (action.scheme && action.scheme !== request.scheme ? undefined : request.port);
  let path = action.path ?? request.path;
  if (action.path === undefined && action.prefix)
    path = replacePrefix(request.path, action.prefix.from, action.prefix.to);
  const portPart = port === undefined || port === DEFAULT_PORTS[scheme] ? '' : `:${port}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const query = action.stripQuery || !request.query ? '' : `?${request.query}`;
  return `${scheme}://${hostPart}${portPart}${path}${query}`;
}
