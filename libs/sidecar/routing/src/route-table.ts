// Compiles the Service and Route resources of a snapshot into a lookup table keyed by host:
// exact names in a map, wildcard suffixes longest first, and within a host the routes in
// precedence order with each service's implicit route last. Built once per config version;
// `lookup` allocates only the small strings of the split request target.
import { parseDuration } from '@trellis/config';
import type { Resource, RouteResource, ServiceResource } from '@trellis/config';
import type {
  CompiledRoute,
  FaultSettings,
  HeaderEdits,
  RetrySettings,
  RouteAction,
  ServicePortRef,
  WeightedDestination,
} from './compiled-route.js';
import { serviceForHost, serviceHostNames, splitAuthority } from './hosts.js';
import { comparePrecedence, compileMatch } from './match.js';
import type { CompiledMatch } from './match.js';
import { normalizePath, splitTarget } from './path.js';
import type { RequestView } from './request-view.js';

export interface RouteTableOptions {
  /** Namespace of the workload this sidecar serves: short service names resolve in it. */
  readonly localNamespace: string;
}

export interface RouteLookup {
  readonly route: CompiledRoute;
  /** Normalised path, without the query. */
  readonly path: string;
  /** Query without `?`, '' when absent. */
  readonly query: string;
}

interface HostEntry {
  readonly routes: CompiledRoute[];
}

export class RouteTable {
  readonly #exact = new Map<string, HostEntry>();
  /** `[".example.com", entry]`, longest suffix first. */
  readonly #wildcards: [string, HostEntry][] = [];
  readonly #services: ReadonlyMap<string, ServiceResource>;
  readonly routes: readonly CompiledRoute[];

  private constructor(
    services: ReadonlyMap<string, ServiceResource>,
    routes: readonly CompiledRoute[],
  ) {
    this.#services = services;
    this.routes = routes;
  }

  static compile(resources: readonly Resource[], options: RouteTableOptions): RouteTable {
    const services = new Map<string, ServiceResource>();
    const aliases = new Map<string, ServiceResource>();
    for (const r of resources) {
      if (r.kind !== 'Service') continue;
      services.set(`${r.metadata.name}.${r.metadata.namespace}`, r);
      for (const alias of r.spec.aliases ?? []) aliases.set(alias.toLowerCase(), r);
    }
    const refs = new ServicePortRefs();
    const compiled: { route: CompiledRoute; hosts: string[] }[] = [];
    for (const r of resources) {
      if (r.kind !== 'Route') continue;
      const match = compileMatch(r.spec.match);
      for (const [port, hosts] of groupHostsByPort(r, services, aliases, options.localNamespace)) {
        compiled.push({ route: compileRoute(r, match, port, services, refs), hosts });
      }
    }
    for (const service of services.values()) {
      const hosts = serviceHostNames(service, options.localNamespace);
      const single = service.spec.ports.length === 1;
      for (const p of service.spec.ports) {
        const target = refs.get(service, p.port);
        compiled.push({ route: implicitRoute(target, p.port), hosts });
        if (single) compiled.push({ route: implicitRoute(target, undefined), hosts });
      }
    }
    const table = new RouteTable(
      services,
      compiled.map((c) => c.route),
    );
    for (const { route, hosts } of compiled) {
      for (const host of hosts) table.#entry(host).routes.push(route);
    }
    for (const entry of [...table.#exact.values(), ...table.#wildcards.map(([, e]) => e)]) {
      entry.routes.sort(compareRoutes);
      Object.freeze(entry.routes);
    }
    table.#wildcards.sort((a, b) => b[0].length - a[0].length);
    Object.freeze(table);
    return table;
  }

  /** Host names and wildcard patterns the table answers for (admin view). */
  hosts(): string[] {
    return [...this.#exact.keys(), ...this.#wildcards.map(([suffix]) => `*${suffix}`)].sort();
  }

  /** The service a `name.namespace` key names, if it is in the config. */
  service(key: string): ServiceResource | undefined {
    return this.#services.get(key);
  }

  lookup(request: RequestView): RouteLookup | undefined {
    const { host, port } = splitAuthority(request.authority);
    const entry = this.#exact.get(host) ?? this.#wildcardEntry(host);
    if (!entry) return undefined;
    const { path: rawPath, query } = splitTarget(request.target);
    const path = normalizePath(rawPath);
    const effectivePort = port ?? 80;
    const input = { request, path, query };
    for (const route of entry.routes) {
      if (route.port !== undefined && route.port !== effectivePort) continue;
      if (route.test(input)) return { route, path, query };
    }
    return undefined;
  }

  #wildcardEntry(host: string): HostEntry | undefined {
    for (const [suffix, entry] of this.#wildcards) {
      if (host.length > suffix.length && host.endsWith(suffix)) return entry;
    }
    return undefined;
  }

  #entry(host: string): HostEntry {
    if (host.startsWith('*.')) {
      const suffix = host.slice(1);
      let found = this.#wildcards.find(([s]) => s === suffix);
      if (!found) {
        found = [suffix, { routes: [] }];
        this.#wildcards.push(found);
      }
      return found[1];
    }
    let entry = this.#exact.get(host);
    if (!entry) {
      entry = { routes: [] };
      this.#exact.set(host, entry);
    }
    return entry;
  }
}

function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  if (a.implicit !== b.implicit) return a.implicit ? 1 : -1;
  // A route pinned to a port is more specific than one for any port.
  if ((a.port === undefined) !== (b.port === undefined)) return a.port === undefined ? 1 : -1;
  return comparePrecedence(a.precedence, b.precedence) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Expands a route's host patterns: names of services become every name of that service. */
function groupHostsByPort(
  route: RouteResource,
  services: ReadonlyMap<string, ServiceResource>,
  aliases: ReadonlyMap<string, ServiceResource>,
  localNamespace: string,
): Map<number | undefined, string[]> {
  const byPort = new Map<number | undefined, string[]>();
  for (const pattern of route.spec.hosts) {
    const { host, port } = pattern.startsWith('*.')
      ? { host: pattern.toLowerCase(), port: undefined }
      : splitAuthority(pattern);
    const service = host.startsWith('*.')
      ? undefined
      : serviceForHost(host, route.metadata.namespace, services, aliases);
    const names = service ? serviceHostNames(service, localNamespace) : [host];
    const list = byPort.get(port) ?? [];
    for (const name of names) if (!list.includes(name)) list.push(name);
    byPort.set(port, list);
  }
  return byPort;
}

class ServicePortRefs {
  readonly #cache = new Map<string, ServicePortRef>();

  get(service: ServiceResource, port: number): ServicePortRef {
    const { name, namespace } = service.metadata;
    const key = `${name}.${namespace}:${port}`;
    let ref = this.#cache.get(key);
    if (!ref) {
      const spec = service.spec.ports.find((p) => p.port === port) ?? service.spec.ports[0];
      ref = Object.freeze({
        key,
        name,
        namespace,
        port,
        targetPort: spec?.targetPort ?? port,
        protocol: spec?.protocol ?? 'http1',
      });
      this.#cache.set(key, ref);
    }
    return ref;
  }

  /** A destination's port: as written, or the service's only (or first) port. */
  resolve(service: ServiceResource, port: number | undefined): ServicePortRef {
    return this.get(service, port ?? (service.spec.ports[0]?.port as number));
  }
}

function implicitRoute(target: ServicePortRef, port: number | undefined): CompiledRoute {
  return Object.freeze({
    id: `service/${target.name}.${target.namespace}:${target.port}`,
    name: target.name,
    namespace: target.namespace,
    implicit: true,
    port,
    test: () => true,
    precedence: [],
    action: Object.freeze({
      kind: 'forward',
      destinations: Object.freeze([Object.freeze({ target, weight: 100 })]),
      totalWeight: 100,
      pathRewrite: undefined,
      hostRewrite: undefined,
    }),
    timeoutMs: undefined,
    retries: undefined,
    fault: undefined,
    requestHeaders: undefined,
    responseHeaders: undefined,
    mirror: undefined,
  } satisfies CompiledRoute);
}

function compileRoute(
  route: RouteResource,
  match: CompiledMatch,
  port: number | undefined,
  services: ReadonlyMap<string, ServiceResource>,
  refs: ServicePortRefs,
): CompiledRoute {
  const { name, namespace } = route.metadata;
  const spec = route.spec;
  const serviceRef = (
    service: string,
    ns: string | undefined,
    p: number | undefined,
  ): ServicePortRef => {
    const resource = services.get(`${service}.${ns ?? namespace}`);
    // Validation guarantees references resolve; a miss here is a bug, not bad input.
    if (!resource)
      throw new Error(`route/${name}.${namespace}: unknown service ${service}.${ns ?? namespace}`);
    return refs.resolve(resource, p);
  };
  let action: RouteAction;
  if (spec.redirect) {
    const r = spec.redirect;
    action = {
      kind: 'redirect',
      status: r.status,
      scheme: r.scheme,
      host: r.host,
      port: r.port,
      path: r.path,
      prefix:
        r.prefix !== undefined && match.pathPrefix !== undefined
          ? { from: match.pathPrefix, to: r.prefix }
          : undefined,
      stripQuery: r.stripQuery,
    };
  } else if (spec.directResponse) {
    const d = spec.directResponse;
    action = {
      kind: 'direct-response',
      status: d.status,
      body: d.body ?? '',
      contentType: d.contentType ?? 'text/plain; charset=utf-8',
    };
  } else {
    const destinations: WeightedDestination[] = (spec.destinations ?? []).map((d) =>
      Object.freeze({
        target: serviceRef(d.service, d.namespace, d.port),
        weight: spec.destinations?.length === 1 ? 100 : d.weight,
      }),
    );
    const rw = spec.rewrite;
    action = {
      kind: 'forward',
      destinations: Object.freeze(destinations),
      totalWeight: destinations.reduce((sum, d) => sum + d.weight, 0),
      pathRewrite:
        rw?.prefix !== undefined && match.pathPrefix !== undefined
          ? { prefix: { from: match.pathPrefix, to: rw.prefix } }
          : rw?.regex
            ? {
                regex: {
                  pattern: new RegExp(rw.regex.pattern, 'g'),
                  substitution: rw.regex.substitution,
                },
              }
            : undefined,
      hostRewrite: rw?.host,
    };
  }
  return Object.freeze({
    id: `route/${name}.${namespace}`,
    name,
    namespace,
    implicit: false,
    port,
    test: match.test,
    precedence: match.precedence,
    action: Object.freeze(action),
    timeoutMs: spec.timeout === undefined ? undefined : parseDuration(spec.timeout),
    retries: spec.retries ? compileRetries(spec.retries) : undefined,
    fault: spec.fault ? compileFault(spec.fault) : undefined,
    requestHeaders: spec.requestHeaders ? compileHeaderEdits(spec.requestHeaders) : undefined,
    responseHeaders: spec.responseHeaders ? compileHeaderEdits(spec.responseHeaders) : undefined,
    mirror: spec.mirror
      ? {
          target: serviceRef(spec.mirror.service, spec.mirror.namespace, spec.mirror.port),
          percent: spec.mirror.percent,
        }
      : undefined,
  } satisfies CompiledRoute);
}

function compileRetries(r: NonNullable<RouteResource['spec']['retries']>): RetrySettings {
  return Object.freeze({
    attempts: r.attempts,
    perTryTimeoutMs: r.perTryTimeout === undefined ? undefined : parseDuration(r.perTryTimeout),
    retryOn: new Set(r.retryOn),
    retriableStatusCodes: new Set(r.retriableStatusCodes ?? []),
    backoffBaseMs: parseDuration(r.backoff.base),
    backoffMaxMs: parseDuration(r.backoff.max),
    retryNonIdempotent: r.retryNonIdempotent,
  });
}

function compileFault(f: NonNullable<RouteResource['spec']['fault']>): FaultSettings {
  return Object.freeze({
    delay: f.delay ? { percent: f.delay.percent, ms: parseDuration(f.delay.duration) } : undefined,
    abort: f.abort
      ? { percent: f.abort.percent, httpStatus: f.abort.httpStatus, grpcStatus: f.abort.grpcStatus }
      : undefined,
  });
}

function compileHeaderEdits(h: NonNullable<RouteResource['spec']['requestHeaders']>): HeaderEdits {
  const pairs = (record: Record<string, string> | undefined) =>
    Object.freeze(
      Object.entries(record ?? {}).map(([k, v]) => Object.freeze([k.toLowerCase(), v] as const)),
    );
  return Object.freeze({
    set: pairs(h.set),
    add: pairs(h.add),
    remove: Object.freeze((h.remove ?? []).map((n) => n.toLowerCase())),
  });
}
