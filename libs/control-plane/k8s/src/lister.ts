// One page of a list request per watched resource, through the typed clients of
// @kubernetes/client-node (they carry the kubeconfig's TLS and credentials).
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { WatchedResource } from './watched-resources.js';

export interface ListPage {
  readonly items: readonly KubernetesObject[];
  /** resourceVersion of the list: the point a watch resumes from. */
  readonly resourceVersion: string;
  /** Token for the next page; undefined on the last page. */
  readonly continueToken: string | undefined;
}

export interface PageRequest {
  readonly namespace: string | undefined;
  readonly limit: number;
  readonly continueToken: string | undefined;
}

export type Lister = (resource: WatchedResource, request: PageRequest) => Promise<ListPage>;

interface ListLike {
  readonly items?: readonly KubernetesObject[];
  readonly metadata?: {
    readonly resourceVersion?: string;
    /** Typed lists rename `continue` (a keyword) to `_continue`; custom object lists do not. */
    readonly _continue?: string;
    readonly continue?: string;
  };
}

export function kubernetesLister(kubeConfig: KubeConfig): Lister {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  return async (resource, { namespace, limit, continueToken }) => {
    const paging = { limit, _continue: continueToken };
    const list = await listOnce(resource, namespace, paging);
    const token = list.metadata?._continue ?? list.metadata?.continue;
    return {
      items: list.items ?? [],
      resourceVersion: list.metadata?.resourceVersion ?? '',
      continueToken: token === undefined || token === '' ? undefined : token,
    };
  };

  function listOnce(
    resource: WatchedResource,
    namespace: string | undefined,
    paging: { limit: number; _continue: string | undefined },
  ): Promise<ListLike> {
    switch (resource.key) {
      case 'services':
        return namespace === undefined
          ? core.listServiceForAllNamespaces(paging)
          : core.listNamespacedService({ ...paging, namespace });
      case 'pods':
        return namespace === undefined
          ? core.listPodForAllNamespaces(paging)
          : core.listNamespacedPod({ ...paging, namespace });
      case 'endpointslices':
        return namespace === undefined
          ? discovery.listEndpointSliceForAllNamespaces(paging)
          : discovery.listNamespacedEndpointSlice({ ...paging, namespace });
      default: {
        const { group, version, plural } = resource;
        // Custom object lists are untyped JSON; their shape is the same list envelope.
        return (
          namespace === undefined
            ? custom.listClusterCustomObject({ ...paging, group, version, plural })
            : custom.listNamespacedCustomObject({ ...paging, group, version, plural, namespace })
        ) as Promise<ListLike>;
      }
    }
  }
}
