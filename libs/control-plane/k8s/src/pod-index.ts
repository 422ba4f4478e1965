// Pods, reduced to what the mesh needs to know about a workload (labels, readiness, addresses,
// node) and indexed by name and by address. Documents do not use them yet; identity and zone
// lookups will (an endpoint address → its pod → its labels and node).
import type { KubernetesObject } from '@kubernetes/client-node';
import { fields, list, readMeta, text } from './k8s-objects.js';

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  /** Pod IPs (status.podIPs), IPv4 and IPv6; empty before the pod got a sandbox. */
  readonly addresses: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** Pending, Running, Succeeded, Failed or Unknown. */
  readonly phase: string;
  readonly nodeName: string | undefined;
  /** Shares the node's network: its address is the node's, not its own. */
  readonly hostNetwork: boolean;
}

export interface PodIndex {
  /** By `namespace/name`. */
  readonly byName: ReadonlyMap<string, PodInfo>;
  /**
   * By pod IP, for pods that own their address: host-network pods and finished pods (whose IP
   * the node may already have handed to a new pod) are left out.
   */
  readonly byAddress: ReadonlyMap<string, PodInfo>;
}

export function readPod(object: unknown): PodInfo | undefined {
  const meta = readMeta(object);
  if (meta === undefined) return undefined;
  const spec = fields(fields(object)?.['spec']) ?? {};
  const status = fields(fields(object)?.['status']) ?? {};
  const podIPs = list(status['podIPs']).flatMap((entry) => text(fields(entry)?.['ip']) ?? []);
  const podIP = text(status['podIP']);
  const addresses = podIPs.length > 0 ? podIPs : podIP === undefined ? [] : [podIP];
  const ready = list(status['conditions']).some((entry) => {
    const condition = fields(entry);
    return condition?.['type'] === 'Ready' && condition['status'] === 'True';
  });
  return {
    namespace: meta.namespace,
    name: meta.name,
    addresses,
    labels: meta.labels,
    ready,
    phase: text(status['phase']) ?? 'Unknown',
    nodeName: text(spec['nodeName']),
    hostNetwork: spec['hostNetwork'] === true,
  };
}

function podKey(pod: { readonly namespace: string; readonly name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

export function samePod(a: PodInfo | undefined, b: PodInfo | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.ready === b.ready &&
    a.phase === b.phase &&
    a.nodeName === b.nodeName &&
    a.hostNetwork === b.hostNetwork &&
    a.addresses.length === b.addresses.length &&
    a.addresses.every((address, i) => address === b.addresses[i]) &&
    sameLabels(a.labels, b.labels)
  );
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * Keeps PodInfo per pod from the informer's changes, so that a status update that changes
 * nothing the index holds (most of them: restarts counts, probe times) is not a state change.
 */
export class PodTracker {
  readonly #pods = new Map<string, PodInfo>();

  /** Applies a change; true when the index changed. */
  apply(change: 'add' | 'update' | 'delete', object: KubernetesObject): boolean {
    const info = readPod(object);
    if (info === undefined) return false;
    const key = podKey(info);
    if (change === 'delete') return this.#pods.delete(key);
    const previous = this.#pods.get(key);
    this.#pods.set(key, info);
    return !samePod(previous, info);
  }

  /** An immutable snapshot of the index. */
  index(): PodIndex {
    const pods = [...this.#pods.values()].sort((a, b) =>
      podKey(a) < podKey(b) ? -1 : podKey(a) > podKey(b) ? 1 : 0,
    );
    const byName = new Map<string, PodInfo>();
    const byAddress = new Map<string, PodInfo>();
    for (const pod of pods) {
      byName.set(podKey(pod), pod);
      if (pod.hostNetwork || pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
      for (const address of pod.addresses) if (!byAddress.has(address)) byAddress.set(address, pod);
    }
    return { byName, byAddress };
  }
}
