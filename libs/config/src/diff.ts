// What changed between two snapshots, by resource identity (kind, namespace, name).
import { canonicalJson } from './canonical-json.js';
import type { Resource } from './schema/resources.js';
import { keyOf, resourceKey } from './snapshot.js';
import type { ResourceKey, Snapshot } from './snapshot.js';

export interface SnapshotDiff {
  /** In `next` only. */
  readonly added: Resource[];
  /** In `previous` only. */
  readonly removed: ResourceKey[];
  /** In both, with different content (the `next` version). */
  readonly changed: Resource[];
  /** How many resources are in both with the same content. */
  readonly unchanged: number;
}

/** Compares two snapshots; no previous snapshot means everything was added. Snapshot order kept. */
export function diffSnapshots(previous: Snapshot | undefined, next: Snapshot): SnapshotDiff {
  if (previous !== undefined && previous.hash === next.hash) {
    return { added: [], removed: [], changed: [], unchanged: next.resources.length };
  }
  const before = new Map((previous?.resources ?? []).map((r) => [resourceKey(r), r]));
  const after = new Set(next.resources.map((r) => resourceKey(r)));
  const added: Resource[] = [];
  const changed: Resource[] = [];
  let unchanged = 0;
  for (const resource of next.resources) {
    const old = before.get(resourceKey(resource));
    if (old === undefined) added.push(resource);
    else if (canonicalJson(old) !== canonicalJson(resource)) changed.push(resource);
    else unchanged += 1;
  }
  const removed = (previous?.resources ?? []).filter((r) => !after.has(resourceKey(r))).map(keyOf);
  return { added, removed, changed, unchanged };
}
