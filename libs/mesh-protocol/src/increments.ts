// Config increments: the control plane turns a new snapshot into the changes since the last
// one; a sidecar applies them only on top of exactly the base version, and only keeps the
// result when its hash equals the one announced — anything else means "resync".
import { buildSnapshot, diffSnapshots, resourceKey } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import type { ConfigUpdate } from './messages.js';

export function makeConfigUpdate(
  previous: Snapshot,
  next: Snapshot,
  publishedAt: Date,
): ConfigUpdate {
  const diff = diffSnapshots(previous, next);
  return {
    version: next.version,
    baseVersion: previous.version,
    hash: next.hash,
    added: diff.added,
    changed: diff.changed,
    removed: diff.removed,
    publishedAt: publishedAt.toISOString(),
  };
}

export type UpdateOutcome =
  | { readonly kind: 'applied'; readonly snapshot: Snapshot }
  /** Version already in force or older (a duplicate, or a replay after a resync). */
  | { readonly kind: 'stale' }
  /** Versions between the one in force and the update's base were missed. */
  | { readonly kind: 'gap'; readonly have: number; readonly base: number }
  /** The increment does not produce the announced content. */
  | { readonly kind: 'hash-mismatch'; readonly expected: string; readonly got: string }
  /**
   * The increment's resources do not form a valid config (the sidecar NACKs it). `resources`
   * is the content the update describes: the next increment is based on it, so a receiver
   * that keeps it can apply that one without a full resync.
   */
  | { readonly kind: 'invalid'; readonly error: Error; readonly resources: readonly Resource[] };

export function applyConfigUpdate(
  current: Snapshot | undefined,
  update: ConfigUpdate,
): UpdateOutcome {
  const have = current?.version ?? 0;
  if (update.version <= have) return { kind: 'stale' };
  if (!current || update.baseVersion !== have)
    return { kind: 'gap', have, base: update.baseVersion };
  const removed = new Set(update.removed.map((k) => resourceKey(k)));
  const replaced = new Map<string, Resource>();
  for (const r of [...update.added, ...update.changed]) replaced.set(resourceKey(r), r);
  const resources: Resource[] = [];
  for (const r of current.resources) {
    const key = resourceKey(r);
    if (removed.has(key)) continue;
    const next = replaced.get(key);
    if (next) replaced.delete(key);
    resources.push(next ?? r);
  }
  resources.push(...replaced.values());
  let snapshot: Snapshot;
  try {
    snapshot = buildSnapshot(resources, update.version);
  } catch (error) {
    return { kind: 'invalid', error: error as Error, resources };
  }
  if (snapshot.hash !== update.hash)
    return { kind: 'hash-mismatch', expected: update.hash, got: snapshot.hash };
  return { kind: 'applied', snapshot };
}
