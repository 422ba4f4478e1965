// Assembles one complete SourceState from what the informers hold: the documents translated
// from Services, EndpointSlices and Trellis custom objects, the source's own issues (failing
// lists and watches, skipped objects), and the Pod index.
import { KINDS } from '@trellis/config';
import type { ConfigIssue, Kind, ParsedDocument } from '@trellis/config';
import type { SourceState } from '@trellis/control-plane-sources';
import type { KubernetesObject } from '@kubernetes/client-node';
import { failureIssue } from './api-failure.js';
import type { ReflectorFailure } from './reflector.js';
import type { PodIndex } from './pod-index.js';
import { translateCustomObject } from './translate-custom-objects.js';
import { translateServices } from './translate-services.js';
import type { WatchedResource } from './watched-resources.js';

export interface KubernetesSourceState extends SourceState {
  /** Pods of the watched namespaces; not turned into documents, kept for identity and zones. */
  readonly pods: PodIndex;
}

/** What one informer contributes. */
export interface ResourceSnapshot {
  readonly resource: WatchedResource;
  readonly namespace: string | undefined;
  readonly synced: boolean;
  readonly failure: ReflectorFailure | undefined;
  readonly objects: readonly KubernetesObject[];
}

export function assembleState(
  source: string,
  snapshots: readonly ResourceSnapshot[],
  pods: PodIndex,
): KubernetesSourceState {
  const objectsOf = (key: WatchedResource['key']) =>
    snapshots.filter((s) => s.resource.key === key).flatMap((s) => s.objects);
  const services = translateServices(objectsOf('services'), objectsOf('endpointslices'));
  const custom: ParsedDocument[] = [];
  for (const snapshot of snapshots) {
    const kind = snapshot.resource.crdKind;
    if (kind === undefined) continue;
    for (const object of snapshot.objects) {
      const document = translateCustomObject(object, kind);
      if (document !== undefined) custom.push(document);
    }
  }
  const documents = [...services.documents, ...custom].sort(compareDocuments);
  const issues: ConfigIssue[] = [];
  for (const snapshot of snapshots) {
    if (snapshot.failure === undefined) continue;
    issues.push(
      failureIssue({
        resource: snapshot.resource,
        namespace: snapshot.namespace,
        phase: snapshot.failure.phase,
        synced: snapshot.synced,
        failure: snapshot.failure.failure,
      }),
    );
  }
  issues.push(...services.issues);
  return { source, documents, issues, pods };
}

/** Kind order first (a kind only refers to kinds before it), then namespace and name. */
function compareDocuments(a: ParsedDocument, b: ParsedDocument): number {
  const [ka, na, ma] = identity(a);
  const [kb, nb, mb] = identity(b);
  return ka - kb || (na < nb ? -1 : na > nb ? 1 : 0) || (ma < mb ? -1 : ma > mb ? 1 : 0);
}

function identity(document: ParsedDocument): [number, string, string] {
  const value = document.value as {
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const rank = KINDS.indexOf(value.kind as Kind);
  return [
    rank === -1 ? KINDS.length : rank,
    String(value.metadata?.namespace ?? ''),
    String(value.metadata?.name ?? ''),
  ];
}
