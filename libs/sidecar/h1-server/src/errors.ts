// Typed errors of the HTTP/1.1 downstream server: one class, stable string codes. A refused
// request also carries the HTTP status it is answered with and a stable reason id (the value
// handed to `onBadRequest`), so logs and metrics can count smuggling attempts by shape.

export const H1ServerErrorCodes = [
  /** The client's bytes are not an acceptable HTTP/1.1 request (see `reason`, `status`). */
  'TRL_H1S_BAD_REQUEST',
  /** The client closed the connection before its request body ended. */
  'TRL_H1S_CLIENT_ABORTED',
  /** The response API was used out of order or with unusable values (a caller bug). Thrown. */
  'TRL_H1S_INVALID_RESPONSE',
  /** Server options out of range. Thrown by the constructor. */
  'TRL_H1S_INVALID_OPTIONS',
] as const;

export type H1ServerErrorCode = (typeof H1ServerErrorCodes)[number];

/** Statuses a refused request is answered with. */
export type RefusalStatus = 400 | 408 | 413 | 431 | 501 | 505;

export class H1ServerError extends Error {
  override readonly name = 'H1ServerError';
  readonly code: H1ServerErrorCode;
  /** For TRL_H1S_BAD_REQUEST: a stable kebab-case id of the defect (`bare-lf`, `obs-fold`, …). */
  readonly reason: string;
  /** For TRL_H1S_BAD_REQUEST: the status the client is answered with; 0 otherwise. */
  readonly status: RefusalStatus | 0;

  constructor(
    code: H1ServerErrorCode,
    message: string,
    reason = '',
    status: RefusalStatus | 0 = 0,
  ) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.status = status;
  }
}

export function isH1ServerError(value: unknown): value is H1ServerError {
  return value instanceof H1ServerError;
}

/** A request refused by the parser: `reason` is the stable id, `message` the human text. */
export function badRequest(reason: string, message: string, status: RefusalStatus = 400): never {
  throw new H1ServerError('TRL_H1S_BAD_REQUEST', message, reason, status);
}
