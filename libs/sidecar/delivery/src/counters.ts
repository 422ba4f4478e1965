// Every counter the delivery client keeps, listed once: the admin endpoint and metrics read
// them by these names.

export const DELIVERY_COUNTERS = [
  /** Config updates decoded from trellis.v1.config.updates. */
  'updatesReceived',
  /** Updates applied and accepted by the config target. */
  'updatesApplied',
  /** Duplicates and older versions, ignored. */
  'updatesStale',
  /** Updates whose base was not the version in force (each one starts or extends a resync). */
  'gaps',
  /** Updates that did not produce their announced hash (each one starts or extends a resync). */
  'hashMismatches',
  /** Updates held back for after a sync (arrived during one, or not following the version in force). */
  'updatesQueued',
  /** Queued updates dropped because the queue was full (the sync in progress covers them). */
  'queueOverflows',
  /** SyncRequests sent. */
  'syncRequests',
  /** Syncs asked for because of a gap, a hash mismatch or a reconnect (one per cause seen). */
  'resyncs',
  /** Sync attempts that failed: timeout, no responders, unavailable, error, bad reply. */
  'syncFailures',
  /** Full snapshots received in sync replies. */
  'fullSyncs',
  'acks',
  'nacks',
  /** Messages that failed strict decoding (size, JSON, shape), ignored. */
  'badMessages',
  'heartbeats',
  /** NATS reconnects of the same connection. */
  'reconnects',
  /** Reconnects settled by the control plane's head announcement, without a SyncRequest. */
  'headConfirmations',
  /** Persisted snapshot files written. */
  'persistWrites',
  'persistFailures',
] as const;

export type DeliveryCounterName = (typeof DELIVERY_COUNTERS)[number];
export type DeliveryCounters = Record<DeliveryCounterName, number>;

export function zeroCounters(): DeliveryCounters {
  return Object.fromEntries(DELIVERY_COUNTERS.map((name) => [name, 0])) as DeliveryCounters;
}
