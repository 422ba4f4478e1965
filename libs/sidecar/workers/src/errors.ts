// Stable codes of the sidecar's worker processes (--concurrency > 1): a malformed message on the
// primary↔worker channel, a snapshot that does not match its hash, a fleet that could not start,
// a telemetry round no worker answered.

export type WorkersErrorCode =
  /** A message on the cluster channel is not one of the typed messages, or is malformed. */
  | 'TRL_WORKERS_BAD_MESSAGE'
  /** A snapshot from the primary does not hash to the hash it announces. */
  | 'TRL_WORKERS_HASH_MISMATCH'
  /** A worker failed before it ever listened while no worker had started yet: startup failed. */
  | 'TRL_WORKERS_START_FAILED'
  /** No worker answered the primary's telemetry request in time: no summary this round. */
  | 'TRL_WORKERS_NO_TELEMETRY'
  /** An option is out of range (fleet size, backoff, timeouts). */
  | 'TRL_WORKERS_INVALID_OPTION';

export class WorkersError extends Error {
  override readonly name = 'WorkersError';
  readonly code: WorkersErrorCode;

  constructor(code: WorkersErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
