// Errors of the control plane's delivery, with stable codes: callers branch on `code`, logs
// carry it, and nothing here is ever thrown for a bad message from a sidecar (those are
// ProtocolErrors, answered and counted).

export type DeliveryErrorCode =
  /** An option is out of range (lease time, replicas, limits). */
  | 'TRL_DELIVERY_INVALID_OPTION'
  /** The value under the config key is not a stored snapshot. */
  | 'TRL_DELIVERY_STORE_INVALID'
  /** A write would not move the stored version forward. */
  | 'TRL_DELIVERY_STALE_WRITE'
  /** A snapshot is too large to travel in one message. */
  | 'TRL_DELIVERY_TOO_LARGE'
  /** start() was called twice, or a method that needs a connection ran before start(). */
  | 'TRL_DELIVERY_STATE';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly code: DeliveryErrorCode;

  constructor(code: DeliveryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
