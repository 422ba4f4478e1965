// Typed errors of the test helpers: stable codes let suites tell "nats-server is not installed"
// from "it started but never became ready" without parsing messages.

export type TestingErrorCode =
  /** An option is out of range or cannot be written into a nats-server config. */
  | 'TRL_TESTING_INVALID_OPTION'
  /** A bounded wait (port, health, cluster leader, test condition) ran out of time. */
  | 'TRL_TESTING_WAIT_TIMEOUT'
  /** No nats-server binary was found (NATS_SERVER_BIN, PATH, /usr/sbin). */
  | 'TRL_TESTING_NATS_NOT_INSTALLED'
  /** nats-server exited or never became ready; the message carries its log tail. */
  | 'TRL_TESTING_NATS_START_FAILED'
  /** restart() on a handle whose stop() already removed its directory. */
  | 'TRL_TESTING_NATS_STOPPED'
  /** One or more servers failed to stop; see `cause` (an AggregateError). */
  | 'TRL_TESTING_NATS_STOP_FAILED';

export class TestingError extends Error {
  readonly code: TestingErrorCode;

  constructor(code: TestingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TestingError';
    this.code = code;
  }
}
