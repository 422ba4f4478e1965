// Stable codes of the sidecar's delivery client: thrown for misuse (bad options, double start),
// and carried as `code` in its log lines so operators can search for them.

export type DeliveryErrorCode =
  /** An option is out of range or an identity is not a valid subject token. */
  | 'TRL_DELIVERY_INVALID_OPTION'
  /** start() called twice, or after close(). */
  | 'TRL_DELIVERY_ALREADY_STARTED'
  /** A sync request was attempted while no NATS connection is up. */
  | 'TRL_DELIVERY_NOT_CONNECTED'
  /** The persisted snapshot is unreadable, corrupt, truncated or invalid: ignored. */
  | 'TRL_DELIVERY_PERSISTED_INVALID'
  /** Writing the persisted snapshot failed: the config in force is unaffected. */
  | 'TRL_DELIVERY_PERSIST_FAILED'
  /** Connecting to NATS failed; retried with backoff. */
  | 'TRL_DELIVERY_CONNECT_FAILED'
  /** The NATS connection closed for good (e.g. repeated auth failures); a new one is dialled. */
  | 'TRL_DELIVERY_CONNECTION_CLOSED'
  /** A sync request got no usable answer; retried with backoff. */
  | 'TRL_DELIVERY_SYNC_FAILED'
  /** A sync reply offered a snapshot not newer than the one in force: kept what it has. */
  | 'TRL_DELIVERY_OLDER_SNAPSHOT'
  /** A full snapshot whose content does not hash to the hash it announces (NACK issue code). */
  | 'TRL_DELIVERY_HASH_MISMATCH'
  /** The config target's apply() threw instead of returning a result (NACK issue code). */
  | 'TRL_DELIVERY_APPLY_FAILED'
  /** A version was refused (NACK published). */
  | 'TRL_DELIVERY_NACK'
  /** NATS refused a subscription or a publish (permissions) or reported an async error. */
  | 'TRL_DELIVERY_NATS_ERROR';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly code: DeliveryErrorCode;

  constructor(code: DeliveryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
