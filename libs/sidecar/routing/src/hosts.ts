// Host names of the mesh: which names reach which service. A Kubernetes-style service
// `catalog` in namespace `shop` answers to `catalog.shop`, `catalog.shop.svc`,
// `catalog.shop.svc.cluster.local`, its aliases, and — for clients in the same namespace —
// plain `catalog`.
import type { ServiceResource } from '@trellis/config';

export const CLUSTER_DOMAIN = 'svc.cluster.local';

export interface AuthorityParts {
  readonly host: string;
  readonly port: number | undefined;
}

/** The last authority split and its parts: most requests name the authority the last one did. */
let lastAuthority: string | undefined;
let lastParts: AuthorityParts = Object.freeze({ host: '', port: undefined });

/**
 * Splits `host[:port]` or `[v6]:port`, lowercasing the host. Port is undefined when absent. The
 * parts are frozen: the same object answers a repeat of the last authority (routing split the
 * authority of every request anew).
 */
export function splitAuthority(authority: string): AuthorityParts {
  if (authority === lastAuthority) return lastParts;
  let host = authority;
  let port: number | undefined;
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && authority.indexOf(']') < colon) {
    const digits = authority.slice(colon + 1);
    if (/^\d{1,5}$/.test(digits)) {
      port = Number(digits);
      host = authority.slice(0, colon);
    }
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  lastParts = Object.freeze({ host: host.toLowerCase(), port });
  lastAuthority = authority;
  return lastParts;
}

/** Every host name a service answers to, seen from a client in `localNamespace`. */
export function serviceHostNames(service: ServiceResource, localNamespace: string): string[] {
  const { name, namespace } = service.metadata;
  const names = [
    `${name}.${namespace}`,
    `${name}.${namespace}.svc`,
    `${name}.${namespace}.${CLUSTER_DOMAIN}`,
  ];
  if (namespace === localNamespace) names.unshift(name);
  for (const alias of service.spec.aliases ?? []) names.push(alias.toLowerCase());
  return names;
}

/**
 * Resolves a route's host pattern (written relative to the route's namespace) to the service it
 * names, if any: `catalog` → catalog in the route's namespace, `catalog.shop[.svc[.cluster.local]]`,
 * or an alias.
 */
export function serviceForHost(
  host: string,
  routeNamespace: string,
  services: ReadonlyMap<string, ServiceResource>,
  aliases: ReadonlyMap<string, ServiceResource>,
): ServiceResource | undefined {
  const lower = host.toLowerCase();
  const byAlias = aliases.get(lower);
  if (byAlias) return byAlias;
  const labels = lower.split('.');
  if (labels.length === 1) return services.get(`${lower}.${routeNamespace}`);
  const rest = labels.slice(2).join('.');
  if (labels.length === 2 || rest === 'svc' || rest === CLUSTER_DOMAIN) {
    return services.get(`${labels[0]}.${labels[1]}`);
  }
  return undefined;
}
