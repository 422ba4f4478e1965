// Checks that need the whole config: duplicates, references between documents, one-per-target
// policies, alias clashes and overlapping routes.
import { canonicalJson } from '../canonical-json.js';
import type { PathSegment } from '../issues.js';
import type { Kind } from '../kinds.js';
import type { Resource, ResourceOfKind } from '../schema/resources.js';
import type { RouteMatch } from '../schema/route.js';
import type { CheckedDocument } from './document.js';

type Valid<K extends Kind> = CheckedDocument & { readonly resource: ResourceOfKind<K> };

interface ServiceEntry {
  readonly checked: CheckedDocument;
  /** Known only when the Service document itself is valid. */
  readonly ports?: readonly number[];
}

export function checkAcrossDocuments(documents: readonly CheckedDocument[]): void {
  const duplicates = checkDuplicates(documents);
  const originals = documents.filter((d) => !duplicates.has(d));
  const services = indexServices(documents);
  const routes = new Set(
    documents.flatMap((d) =>
      d.kind === 'Route' && d.name !== undefined ? [`${d.namespace}/${d.name}`] : [],
    ),
  );
  checkAliases(documents);
  for (const checked of documents) {
    const resource = checked.resource;
    if (resource === undefined) continue;
    checkReferences(checked, resource, services, routes);
  }
  // A duplicate document is already reported; comparing it again would only repeat the news.
  checkOnePerTarget(originals);
  checkOverlaps(originals.filter((d): d is Valid<'Route'> => d.resource?.kind === 'Route'));
}

/** `route/checkout.shop (at routes.yaml:3)` */
function describe(checked: CheckedDocument): string {
  return `${checked.sink.documentId ?? 'document'} (at ${checked.sink.where(['metadata', 'name'])})`;
}

/** Reports and returns the documents whose kind, namespace and name repeat an earlier one's. */
function checkDuplicates(documents: readonly CheckedDocument[]): Set<CheckedDocument> {
  const first = new Map<string, CheckedDocument>();
  const duplicates = new Set<CheckedDocument>();
  for (const checked of documents) {
    if (checked.kind === undefined || checked.name === undefined) continue;
    const key = `${checked.kind}/${checked.namespace}/${checked.name}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, checked);
    else {
      duplicates.add(checked);
      checked.sink.error(
        'TRL_CFG_DUPLICATE',
        ['metadata', 'name'],
        `duplicate ${checked.kind} ${JSON.stringify(checked.name)} in namespace ${JSON.stringify(checked.namespace)} (also at ${earlier.sink.where(['metadata', 'name'])})`,
      );
    }
  }
  return duplicates;
}

function indexServices(documents: readonly CheckedDocument[]): Map<string, ServiceEntry> {
  const services = new Map<string, ServiceEntry>();
  for (const checked of documents) {
    if (checked.kind !== 'Service' || checked.name === undefined) continue;
    const key = `${checked.namespace}/${checked.name}`;
    if (services.has(key)) continue;
    const resource = checked.resource;
    const valid = resource?.kind === 'Service' && !checked.sink.hasErrors;
    services.set(
      key,
      valid ? { checked, ports: resource.spec.ports.map((p) => p.port) } : { checked },
    );
  }
  return services;
}

/** An alias may not be another service's name, nor an alias another service already claimed. */
function checkAliases(documents: readonly CheckedDocument[]): void {
  const valid = documents.filter((d): d is Valid<'Service'> => d.resource?.kind === 'Service');
  const claimed = new Map<string, CheckedDocument>();
  for (const checked of valid)
    claimed.set(`${checked.namespace}/${checked.resource.metadata.name}`, checked);
  for (const checked of valid) {
    checked.resource.spec.aliases?.forEach((alias, index) => {
      const key = `${checked.namespace}/${alias}`;
      const owner = claimed.get(key);
      if (owner === undefined) claimed.set(key, checked);
      else if (owner !== checked) {
        checked.sink.error(
          'TRL_CFG_DUPLICATE',
          ['spec', 'aliases', index],
          `alias ${JSON.stringify(alias)} is already a name of ${describe(owner)}`,
        );
      }
    });
  }
}

function checkReferences(
  checked: CheckedDocument,
  resource: Resource,
  services: ReadonlyMap<string, ServiceEntry>,
  routes: ReadonlySet<string>,
): void {
  const namespace = resource.metadata.namespace;
  const service = (
    path: PathSegment[],
    name: string,
    ns = namespace,
    port?: number,
    portPath?: PathSegment[],
  ) => {
    const entry = services.get(`${ns}/${name}`);
    const where = `service ${JSON.stringify(name)} in namespace ${JSON.stringify(ns)}`;
    if (entry === undefined) {
      checked.sink.error('TRL_CFG_REFERENCE', path, `refers to unknown ${where}`);
      return;
    }
    const ports = entry.ports;
    if (ports === undefined || portPath === undefined) return;
    if (port !== undefined && !ports.includes(port)) {
      checked.sink.error(
        'TRL_CFG_REFERENCE',
        portPath,
        `${where} has no port ${port} (ports: ${ports.join(', ')})`,
      );
    } else if (port === undefined && ports.length > 1) {
      checked.sink.error(
        'TRL_CFG_REFERENCE',
        portPath,
        `is required because ${where} has several ports (${ports.join(', ')})`,
      );
    }
  };
  switch (resource.kind) {
    case 'Endpoints':
    case 'DestinationPolicy':
    case 'RetryBudget':
      service(['spec', 'service'], resource.spec.service);
      return;
    case 'Telemetry':
    case 'RateLimit':
      if (resource.spec.service !== undefined) service(['spec', 'service'], resource.spec.service);
      if (resource.kind === 'RateLimit' && resource.spec.route !== undefined) {
        if (!routes.has(`${namespace}/${resource.spec.route}`)) {
          checked.sink.error(
            'TRL_CFG_REFERENCE',
            ['spec', 'route'],
            `refers to unknown route ${JSON.stringify(resource.spec.route)} in namespace ${JSON.stringify(namespace)}`,
          );
        }
      }
      return;
    case 'Route': {
      resource.spec.destinations?.forEach((d, index) => {
        const path = ['spec', 'destinations', index];
        service([...path, 'service'], d.service, d.namespace, d.port, [...path, 'port']);
      });
      const mirror = resource.spec.mirror;
      if (mirror !== undefined) {
        service(['spec', 'mirror', 'service'], mirror.service, mirror.namespace, mirror.port, [
          'spec',
          'mirror',
          'port',
        ]);
      }
      return;
    }
    case 'Service':
      return;
  }
}

/** Endpoints, DestinationPolicy, RetryBudget and Telemetry: one per service; RateLimit: per target. */
function checkOnePerTarget(documents: readonly CheckedDocument[]): void {
  const first = new Map<string, CheckedDocument>();
  for (const checked of documents) {
    const target = targetOf(checked.resource);
    if (target === undefined) continue;
    const key = `${checked.kind ?? ''}|${target.key}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, checked);
    else {
      checked.sink.error(
        'TRL_CFG_DUPLICATE',
        target.path,
        `${target.label} already has ${/^[AEIOU]/.test(checked.kind ?? '') ? 'an' : 'a'} ${checked.kind ?? ''} (${describe(earlier)})`,
      );
    }
  }
}

function targetOf(
  resource: Resource | undefined,
): { key: string; label: string; path: PathSegment[] } | undefined {
  if (resource === undefined || resource.kind === 'Service' || resource.kind === 'Route')
    return undefined;
  const ns = resource.metadata.namespace;
  if (resource.kind === 'RateLimit' && resource.spec.route !== undefined) {
    const name = resource.spec.route;
    return {
      key: `route/${ns}/${name}`,
      label: `route ${JSON.stringify(name)} in namespace ${JSON.stringify(ns)}`,
      path: ['spec', 'route'],
    };
  }
  const service = resource.spec.service;
  if (service === undefined) {
    return resource.kind === 'Telemetry'
      ? { key: 'mesh', label: 'the mesh', path: ['spec'] }
      : undefined;
  }
  return {
    key: `service/${ns}/${service}`,
    label: `service ${JSON.stringify(service)} in namespace ${JSON.stringify(ns)}`,
    path: ['spec', 'service'],
  };
}

/** A later route with the same host and the same match as an earlier one can never win. */
function checkOverlaps(routes: readonly Valid<'Route'>[]): void {
  const first = new Map<string, CheckedDocument>();
  for (const checked of routes) {
    const route = checked.resource;
    const match = matchKey(route.spec.match);
    route.spec.hosts.forEach((host, index) => {
      const key = `${route.metadata.namespace}|${host}|${match}`;
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, checked);
      else if (earlier !== checked) {
        checked.sink.warning(
          'TRL_CFG_OVERLAP',
          ['spec', 'hosts', index],
          `same host ${JSON.stringify(host)} and match as ${describe(earlier)}; only one of them can apply`,
        );
      }
    });
  }
}

/** The match in a form where order of methods, headers and query terms does not matter. */
function matchKey(match: RouteMatch | undefined): string {
  const sorted = (items: readonly unknown[] | undefined) =>
    items === undefined || items.length === 0 ? undefined : items.map(canonicalJson).sort();
  return canonicalJson({
    path: match?.path,
    methods: sorted(match?.methods),
    headers: sorted(match?.headers),
    query: sorted(match?.query),
    protocol: match?.protocol,
  });
}
