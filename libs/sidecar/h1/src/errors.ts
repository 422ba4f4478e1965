// Typed errors of the HTTP/1.1 upstream pool: one class, stable string codes, and the facts a
// retry layer needs (was the request possibly seen by the upstream? did the response start?).

export const H1ErrorCodes = [
  /** The TCP connect did not complete within `connectTimeoutMs`. Request never sent. */
  'TRL_H1_CONNECT_TIMEOUT',
  /** The upstream refused the connection (ECONNREFUSED). Request never sent. */
  'TRL_H1_CONNECT_REFUSED',
  /** Any other failure while connecting (unreachable, DNS, …). Request never sent. */
  'TRL_H1_CONNECT_FAILED',
  /** The connection closed or reset while a request was in flight. */
  'TRL_H1_CONNECTION_RESET',
  /** The upstream sent nothing for `responseTimeoutMs` while a response was owed. */
  'TRL_H1_RESPONSE_TIMEOUT',
  /** The upstream's bytes are not a valid HTTP/1.1 response; the connection was discarded. */
  'TRL_H1_PARSE_ERROR',
  /** All connections are busy and the wait queue is at `maxQueued`. Thrown by `request()`. */
  'TRL_H1_POOL_QUEUE_FULL',
  /** The pool is closing or destroyed. Thrown by `request()`, or delivered by `destroy()`. */
  'TRL_H1_POOL_CLOSED',
  /** The request head or the handler is unusable (bad method, header, framing). Thrown. */
  'TRL_H1_INVALID_REQUEST',
  /** The body written differs from the declared Content-Length. Thrown by write()/end(). */
  'TRL_H1_BODY_LENGTH_MISMATCH',
  /** The pool options are out of range. Thrown by the constructor. */
  'TRL_H1_INVALID_OPTIONS',
] as const;

export type H1ErrorCode = (typeof H1ErrorCodes)[number];

export interface H1ErrorDetails {
  /** See H1Error.retriable. */
  readonly retriable?: boolean;
  /** The request went out on a connection that had already served a request. */
  readonly reusedConnection?: boolean;
  /** See H1Error.requestWritten. */
  readonly requestWritten?: boolean;
  /** At least one byte of the response had arrived before the failure. */
  readonly responseStarted?: boolean;
  readonly cause?: unknown;
}

export class H1Error extends Error {
  override readonly name = 'H1Error';
  readonly code: H1ErrorCode;
  /**
   * True for connect failures (nothing was sent) and for a reset on a reused keep-alive
   * connection before any response byte (the upstream closed the idle connection as the
   * request arrived). In that second case the request may have reached the upstream unless
   * requestWritten is false. The caller still decides whether the method and body can be replayed.
   */
  readonly retriable: boolean;
  readonly reusedConnection: boolean;
  /**
   * The socket took at least one byte of the request. False when the connection failed before
   * the request's first write, or that write failed at once (the upstream's reset had already
   * arrived, so the kernel took nothing): then no byte of it can have reached the upstream,
   * whatever the method. True whenever a write was accepted, even if the upstream then dropped
   * it unread (a connection it had already closed): from here that cannot be told apart.
   */
  readonly requestWritten: boolean;
  readonly responseStarted: boolean;

  constructor(code: H1ErrorCode, message: string, details: H1ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retriable = details.retriable ?? false;
    this.reusedConnection = details.reusedConnection ?? false;
    this.requestWritten = details.requestWritten ?? false;
    this.responseStarted = details.responseStarted ?? false;
  }
}

export function isH1Error(value: unknown): value is H1Error {
  return value instanceof H1Error;
}
