// Typed errors of the h2c client. Every failure a stream or session reports is an H2Error with a
// stable `code`, the HTTP/2 error code when one was on the wire, and `retriable`: true only when
// the server cannot have processed the request (refused, above a GOAWAY's last stream id, never
// sent), so a proxy may replay it on another connection without risk.
import { H2ErrorCode, h2ErrorName } from './constants.js';

export type H2ErrorCodeName =
  /** The server refused the stream (RST_STREAM REFUSED_STREAM); it did no work. */
  | 'TRL_H2_REFUSED_STREAM'
  /** The server reset the stream with another code (CANCEL, INTERNAL_ERROR, …). */
  | 'TRL_H2_STREAM_RESET'
  /** The server's GOAWAY excluded this stream (id above last-stream-id, or not yet sent). */
  | 'TRL_H2_GOAWAY'
  /** The peer broke the protocol (bad frame, flow-control or HPACK violation, bad headers). */
  | 'TRL_H2_PROTOCOL_ERROR'
  /** TCP connect plus the server's first SETTINGS took longer than connectTimeoutMs. */
  | 'TRL_H2_CONNECT_TIMEOUT'
  /** TCP connect failed (refused, unreachable, reset before SETTINGS). */
  | 'TRL_H2_CONNECT_FAILED'
  /** The connection closed or failed while the stream was open. */
  | 'TRL_H2_CONNECTION_CLOSED'
  /** The server session ended a connection for abuse (rapid reset, floods): ENHANCE_YOUR_CALM. */
  | 'TRL_H2_ABUSE'
  /** The session is closing or closed locally and takes no new streams. */
  | 'TRL_H2_SESSION_CLOSED'
  /** The session used up its stream ids; open a new session. */
  | 'TRL_H2_STREAM_IDS_EXHAUSTED'
  /** The pool was closed before the stream could be sent. */
  | 'TRL_H2_POOL_CLOSED'
  /** A request header list is invalid (caller error, thrown synchronously). */
  | 'TRL_H2_INVALID_HEADER'
  /** A stream method was called in a state that does not allow it (caller error, thrown). */
  | 'TRL_H2_INVALID_STATE';

const H2_ERROR_BRAND = Symbol.for('trellis.sidecar-h2.error');

export interface H2ErrorOptions {
  /** HTTP/2 error code seen on or sent to the wire, if any. */
  readonly h2Code?: number;
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class H2Error extends Error {
  readonly code: H2ErrorCodeName;
  /** HTTP/2 error code (RST_STREAM/GOAWAY) involved, or -1 when none was on the wire. */
  readonly h2Code: number;
  /** True when the request was certainly not processed by the server and may be replayed. */
  readonly retriable: boolean;

  constructor(code: H2ErrorCodeName, message: string, options: H2ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'H2Error';
    this.code = code;
    this.h2Code = options.h2Code ?? -1;
    this.retriable = options.retriable ?? false;
    Object.defineProperty(this, H2_ERROR_BRAND, { value: true });
  }

  /** Brand check that survives duplicate copies of this module (unlike instanceof). */
  static is(value: unknown): value is H2Error {
    return typeof value === 'object' && value !== null && H2_ERROR_BRAND in value;
  }
}

/** The error a stream gets when the peer (the server, unless said) resets it with `h2Code`. */
export function streamResetError(
  streamId: number,
  h2Code: number,
  peer: 'server' | 'client' = 'server',
): H2Error {
  if (h2Code === H2ErrorCode.REFUSED_STREAM && peer === 'server') {
    return new H2Error('TRL_H2_REFUSED_STREAM', `stream ${streamId} refused by the server`, {
      h2Code,
      retriable: true,
    });
  }
  return new H2Error(
    'TRL_H2_STREAM_RESET',
    `stream ${streamId} reset by the ${peer} (${h2ErrorName(h2Code)})`,
    { h2Code },
  );
}

/** A protocol violation by the peer, carrying the HTTP/2 error code we answer with. */
export function protocolError(message: string, h2Code: number): H2Error {
  return new H2Error('TRL_H2_PROTOCOL_ERROR', `${message} (${h2ErrorName(h2Code)})`, { h2Code });
}
