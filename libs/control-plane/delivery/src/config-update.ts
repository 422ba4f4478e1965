// The one message announcing a new version. Normally the increment over the version before it;
// when that base is unknown to this replica (it took over as writer) or the increment would not
// fit in one message, a resync marker instead: no changes and `baseVersion` 0, which no sidecar
// holds, so every sidecar behind sees a gap and fetches the full snapshot with a SyncRequest,
// and sidecars already on the version ignore it as a duplicate (docs/protocol.md, Semantics 2).
import type { Snapshot } from '@trellis/config';
import { encodeMessage, makeConfigUpdate } from '@trellis/mesh-protocol';
import type { ConfigUpdate } from '@trellis/mesh-protocol';

export type UpdateKind = 'increment' | 'resync';

export interface EncodedUpdate {
  readonly kind: UpdateKind;
  readonly update: ConfigUpdate;
  readonly bytes: Uint8Array;
}

export function resyncMarker(next: Snapshot, publishedAt: Date): ConfigUpdate {
  return {
    version: next.version,
    baseVersion: 0,
    hash: next.hash,
    added: [],
    changed: [],
    removed: [],
    publishedAt: publishedAt.toISOString(),
  };
}

/** The update announcing `next`: the increment over `previous` when known and small enough. */
export function encodeConfigUpdate(
  previous: Snapshot | undefined,
  next: Snapshot,
  publishedAt: Date,
  maxBytes: number,
): EncodedUpdate {
  if (previous && previous.version < next.version) {
    const update = makeConfigUpdate(previous, next, publishedAt);
    const bytes = encodeMessage(update);
    if (bytes.byteLength <= maxBytes) return { kind: 'increment', update, bytes };
  }
  const update = resyncMarker(next, publishedAt);
  return { kind: 'resync', update, bytes: encodeMessage(update) };
}
