// Answers `trellis.v1.sync.<namespace>.<pod>` (queue group `control-plane`: one replica answers
// each request) from the newest stored snapshot: `full`, `current`, `unavailable` before any
// config was stored, or `error` with the ProtocolError code for a request it cannot read or that
// names another proxy than its subject (TRL_PROTO_IDENTITY_MISMATCH, as for statuses). A bad
// request is answered and counted, never thrown; a good one announces its proxy to the tracker.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Snapshot } from '@trellis/config';
import {
  CONTROL_PLANE_QUEUE,
  ProtocolError,
  decodeSyncRequest,
  encodeMessage,
  readProxyMessage,
  subjects,
} from '@trellis/mesh-protocol';
import type { SyncReply, SyncRequest } from '@trellis/mesh-protocol';
import type { DeliveryLogger } from './logger.js';
import type { DeliveryMetrics } from './metrics.js';
import type { SyncTracker } from './sync-tracker.js';

export const UNAVAILABLE_REASON = 'no valid config has been compiled and stored yet';

export type ReadRequest =
  | { readonly request: SyncRequest; readonly error?: undefined }
  | { readonly request?: undefined; readonly error: ProtocolError };

/** Pure: the request in a message on `subject`, or the ProtocolError refusing it. */
export function readSyncRequest(subject: string, data: Uint8Array, maxBytes: number): ReadRequest {
  const read = readProxyMessage('sync', subject, data, (bytes) =>
    decodeSyncRequest(bytes, maxBytes),
  );
  return read instanceof ProtocolError ? { error: read } : { request: read };
}

/** Pure: the reply to a readable request, given the newest stored snapshot. */
export function syncReplyFor(request: SyncRequest, latest: Snapshot | undefined): SyncReply {
  if (!latest) return { kind: 'unavailable', reason: UNAVAILABLE_REASON };
  if (request.version === latest.version && request.hash === latest.hash) {
    return { kind: 'current', version: latest.version, hash: latest.hash };
  }
  const { version, hash, resources } = latest;
  return { kind: 'full', snapshot: { version, hash, resources } };
}

export function errorReply(error: ProtocolError): SyncReply {
  return { kind: 'error', code: error.code, message: error.message };
}

export interface SyncResponderOptions {
  /** The snapshot to answer from (a follower reads the store first: see ConfigStore.freshLatest). */
  readonly latest: () => Snapshot | undefined | Promise<Snapshot | undefined>;
  readonly tracker: SyncTracker;
  readonly metrics: DeliveryMetrics;
  readonly log: DeliveryLogger;
  readonly maxBytes: number;
  /** Told the version every readable request says its sidecar holds. */
  readonly onVersionSeen?: (version: number) => void;
}

/** Subscribes in the control-plane queue group; unsubscribe (or drain) the result to stop. */
export function serveSyncRequests(nc: NatsConnection, options: SyncResponderOptions): Subscription {
  const { tracker, metrics, log, maxBytes } = options;
  // A large snapshot is encoded once per version, not once per sidecar asking for it.
  let fullCache: { readonly snapshot: Snapshot; readonly bytes: Uint8Array } | undefined;
  const encodeFull = (latest: Snapshot, reply: SyncReply): Uint8Array => {
    if (fullCache?.snapshot !== latest)
      fullCache = { snapshot: latest, bytes: encodeMessage(reply) };
    return fullCache.bytes;
  };

  const answer = async (msg: Msg): Promise<void> => {
    const read = readSyncRequest(msg.subject, msg.data, maxBytes);
    if (read.error) {
      metrics.syncRequests.inc({ reply: 'error' });
      metrics.reject('sync', read.error.code);
      log.warn(
        { code: read.error.code, subject: msg.subject, reason: read.error.message },
        'sync request refused',
      );
      msg.respond(encodeMessage(errorReply(read.error)));
      return;
    }
    const { proxy, version, hash } = read.request;
    options.onVersionSeen?.(version);
    const latest = await options.latest();
    const reply = syncReplyFor(read.request, latest);
    metrics.syncRequests.inc({ reply: reply.kind });
    if (version > 0 && reply.kind === 'full') metrics.resyncRequests.inc();
    tracker.announce(proxy, version, hash);
    log.debug(
      { proxy: `${proxy.namespace}/${proxy.pod}`, version, reply: reply.kind },
      'sync request answered',
    );
    msg.respond(reply.kind === 'full' && latest ? encodeFull(latest, reply) : encodeMessage(reply));
  };

  return nc.subscribe(subjects.allSync, {
    queue: CONTROL_PLANE_QUEUE,
    callback: (err, msg: Msg) => {
      if (err) {
        log.error({ err }, 'sync subscription failed');
        return;
      }
      if (!msg.reply) {
        metrics.reject('sync', 'TRL_PROTO_NO_REPLY');
        log.warn(
          { code: 'TRL_PROTO_NO_REPLY', bytes: msg.data.byteLength },
          'sync request without a reply subject ignored',
        );
        return;
      }
      answer(msg).catch((error: unknown) =>
        log.error({ err: error }, 'answering a sync request failed'),
      );
    },
  });
}
