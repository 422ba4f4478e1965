// Follows `trellis.v1.status.>` (every replica, no queue group: each keeps its own sync state).
// A status is decoded strictly and must come from the proxy it names: the subject's namespace
// and pod equal `proxy.namespace`/`proxy.pod`, else TRL_PROTO_IDENTITY_MISMATCH. Refused
// messages are logged and counted and change nothing.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  ProtocolError,
  decodeProxyStatus,
  readProxyMessage,
  subjects,
} from '@trellis/mesh-protocol';
import type { ProxyStatus } from '@trellis/mesh-protocol';
import type { DeliveryLogger } from './logger.js';
import type { DeliveryMetrics } from './metrics.js';
import type { SyncTracker } from './sync-tracker.js';

/** Pure: the status carried by a message on `subject`, or the ProtocolError refusing it. */
export function readStatusMessage(
  subject: string,
  data: Uint8Array,
  maxBytes: number,
): ProxyStatus | ProtocolError {
  return readProxyMessage('status', subject, data, (bytes) => decodeProxyStatus(bytes, maxBytes));
}

export interface StatusListenerOptions {
  readonly tracker: SyncTracker;
  readonly metrics: DeliveryMetrics;
  readonly log: DeliveryLogger;
  readonly maxBytes: number;
}

export function listenToStatus(nc: NatsConnection, options: StatusListenerOptions): Subscription {
  const { tracker, metrics, log, maxBytes } = options;
  return nc.subscribe(subjects.allStatus, {
    callback: (err, msg: Msg) => {
      if (err) {
        log.error({ err }, 'status subscription failed');
        return;
      }
      const status = readStatusMessage(msg.subject, msg.data, maxBytes);
      if (status instanceof ProtocolError) {
        metrics.reject('status', status.code);
        log.warn(
          { code: status.code, subject: msg.subject, reason: status.message },
          'status message refused',
        );
        return;
      }
      const proxy = `${status.proxy.namespace}/${status.proxy.pod}`;
      const { ackLatencyMs } = tracker.status(status);
      if (ackLatencyMs !== undefined) metrics.ackLatency.observe(ackLatencyMs / 1000);
      if (status.kind === 'nack') {
        metrics.nacks.inc();
        log.warn(
          {
            proxy,
            rejectedVersion: status.rejectedVersion,
            version: status.version,
            issues: status.issues?.length,
          },
          'sidecar refused a config version',
        );
      } else if (status.kind === 'goodbye') {
        log.info({ proxy, version: status.version }, 'sidecar said goodbye');
      }
    },
  });
}
