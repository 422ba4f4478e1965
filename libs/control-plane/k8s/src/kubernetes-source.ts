// kubernetesSource(): the ConfigSource that reads the mesh config from a Kubernetes cluster —
// Services and EndpointSlices become Service and Endpoints documents, the Trellis CRDs' objects
// are documents as they are, Pods are indexed — and emits a complete state after every change,
// the first one only once every informer has either listed its resource or failed to.
import { Observable } from 'rxjs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ConfigSource } from '@trellis/control-plane-sources';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';
import type { BackoffOptions } from './backoff.js';
import { Backoff } from './backoff.js';
import { KubernetesSourceError } from './errors.js';
import { kubernetesLister } from './lister.js';
import { PodTracker } from './pod-index.js';
import { Reflector } from './reflector.js';
import type { ReflectorLogger } from './reflector.js';
import { assembleState } from './source-state.js';
import type { KubernetesSourceState } from './source-state.js';
import { WATCHED_RESOURCES } from './watched-resources.js';

/** pino-compatible; the source logs failures and recoveries of its lists and watches. */
export type KubernetesSourceLogger = ReflectorLogger;

export interface KubernetesSourceOptions {
  /** Which cluster, and the credentials (in-cluster: `kubeConfig.loadFromCluster()`). */
  readonly kubeConfig: KubeConfig;
  /** Namespaces to read (one list and watch per namespace and resource); default: all. */
  readonly namespaces?: readonly string[];
  /** Backoff timers, watch watchdogs and list timeouts run on it (default: systemClock). */
  readonly clock?: Clock;
  readonly logger?: KubernetesSourceLogger;
  /** Delay between retries of a failed list or watch (default 500 ms doubling to 30 s, ±50 %). */
  readonly relistBackoff?: BackoffOptions;
  /** Objects per list page (`limit`; default 500, as client-go). */
  readonly listPageSize?: number;
}

export interface KubernetesSource extends ConfigSource {
  /** Each subscription runs its own informers; subscribe once (or share()) in production. */
  states(): Observable<KubernetesSourceState>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const silentLogger: KubernetesSourceLogger = { info: () => undefined, warn: () => undefined };

export function kubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const { kubeConfig } = options;
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) {
    throw new KubernetesSourceError(
      'TRL_K8S_NO_CLUSTER',
      `the kubeconfig has no current cluster (current context: ${JSON.stringify(kubeConfig.getCurrentContext())})`,
    );
  }
  const namespaces = namespacesOf(options.namespaces);
  const pageSize = options.listPageSize ?? 500;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new KubernetesSourceError(
      'TRL_K8S_INVALID_OPTION',
      `listPageSize must be a positive integer (got ${pageSize})`,
    );
  }
  const backoff = options.relistBackoff ?? {};
  new Backoff(backoff); // validates the options now rather than at the first failure
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const lister = kubernetesLister(kubeConfig);
  const name = `k8s:${cluster.server}`;

  return {
    name,
    states: () =>
      new Observable<KubernetesSourceState>((subscriber) => {
        const pods = new PodTracker();
        let closed = false;
        let scheduled = false;
        // Informer callbacks come in bursts (a relist applies every object synchronously, a
        // chunk of watch events too): one state per burst, built after it.
        const changed = () => {
          if (scheduled || closed) return;
          scheduled = true;
          queueMicrotask(() => {
            scheduled = false;
            if (closed || !reflectors.every((r) => r.synced || r.failure !== undefined)) return;
            subscriber.next(
              assembleState(
                name,
                reflectors.map((r) => ({
                  resource: r.resource,
                  namespace: r.namespace,
                  synced: r.synced,
                  failure: r.failure,
                  objects: r.objects(),
                })),
                pods.index(),
              ),
            );
          });
        };
        const reflectors = WATCHED_RESOURCES.flatMap((resource) =>
          namespaces.map(
            (namespace) =>
              new Reflector({
                resource,
                namespace,
                kubeConfig,
                lister,
                clock,
                logger,
                backoff,
                pageSize,
                onChange: changed,
                filter: resource.key === 'pods' ? (c, o) => pods.apply(c, o) : undefined,
              }),
          ),
        );
        for (const reflector of reflectors) reflector.start();
        return () => {
          closed = true;
          for (const reflector of reflectors) reflector.stop();
        };
      }),
  };
}

function namespacesOf(namespaces: readonly string[] | undefined): readonly (string | undefined)[] {
  if (namespaces === undefined) return [undefined];
  const unique = [...new Set(namespaces)];
  const invalid = unique.filter((n) => !DNS_LABEL.test(n) || n.length > 63);
  if (unique.length === 0 || invalid.length > 0) {
    throw new KubernetesSourceError(
      'TRL_K8S_INVALID_OPTION',
      unique.length === 0
        ? 'namespaces must name at least one namespace (leave it out to read all)'
        : `namespaces must be DNS labels (got ${invalid.map((n) => JSON.stringify(n)).join(', ')})`,
    );
  }
  return unique;
}
