// The Kubernetes resources the source watches: where each lives in the API, what it becomes, and
// whether the Trellis documents depend on it.
import type { Kind } from '@trellis/config';

export type ResourceKey =
  | 'services'
  | 'endpointslices'
  | 'pods'
  | 'routes'
  | 'destinationpolicies'
  | 'ratelimits'
  | 'retrybudgets'
  | 'telemetries';

export interface WatchedResource {
  readonly key: ResourceKey;
  /** API group; '' is the core group (served under /api). */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** For the Trellis CRDs: the document kind their objects are. */
  readonly crdKind?: Kind;
  /**
   * Whether documents are built from it. Until such a resource has been listed once, a failure
   * is an error (publishing without it would drop its documents from the mesh); for the others
   * (Pods, only indexed) a warning.
   */
  readonly feedsDocuments: boolean;
}

export const TRELLIS_GROUP = 'trellis.dev';
export const TRELLIS_VERSION = 'v1alpha1';

function crd(key: ResourceKey, crdKind: Kind): WatchedResource {
  return {
    key,
    group: TRELLIS_GROUP,
    version: TRELLIS_VERSION,
    plural: key,
    crdKind,
    feedsDocuments: true,
  };
}

/** Every watched resource, in the order the state lists their issues. */
export const WATCHED_RESOURCES: readonly WatchedResource[] = Object.freeze([
  { key: 'services', group: '', version: 'v1', plural: 'services', feedsDocuments: true },
  {
    key: 'endpointslices',
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    feedsDocuments: true,
  },
  { key: 'pods', group: '', version: 'v1', plural: 'pods', feedsDocuments: false },
  crd('routes', 'Route'),
  crd('destinationpolicies', 'DestinationPolicy'),
  crd('ratelimits', 'RateLimit'),
  crd('retrybudgets', 'RetryBudget'),
  crd('telemetries', 'Telemetry'),
]);

/** `/api/v1/services`, `/apis/trellis.dev/v1alpha1/namespaces/shop/routes`, ... */
export function collectionPath(resource: WatchedResource, namespace: string | undefined): string {
  const root =
    resource.group === ''
      ? `/api/${resource.version}`
      : `/apis/${resource.group}/${resource.version}`;
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${scope}/${resource.plural}`;
}

/** How people name it: `services`, `endpointslices.discovery.k8s.io`, `routes.trellis.dev`. */
export function resourceName(resource: WatchedResource): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

/** `in all namespaces` or `in namespace shop`, for messages. */
export function scopeName(namespace: string | undefined): string {
  return namespace === undefined ? 'in all namespaces' : `in namespace ${namespace}`;
}
