// One request/response exchange on the server side of an h2c connection: the request's
// pseudo-headers and fields, its body (delivered through the shared stream core, starting
// paused: nothing is read and no window is credited until the consumer resumes), and the
// response: head, body chunks, end with optional trailers, or a reset.
import { H2Error } from './errors.js';
import { isConnectionSpecific, isValidFieldName, isValidFieldValue } from './headers.js';
import type { ReceivedRequest } from './server-headers.js';
import { StreamCore } from './stream-core.js';
import type { StreamBodyHandler, StreamHost } from './stream-core.js';

/**
 * Events of a server stream: the request body (onData, onTrailers, onEnd), onDrain when the
 * response queue emptied after write() returned false, and onError once if the client reset the
 * stream or the connection died (or, after a complete response, the request body was cut off).
 */
export type H2ServerStreamHandler = StreamBodyHandler;

/**
 * The public face of a server stream: the request as received, and the response the consumer
 * writes. Documented on the class; `Readonly` keeps the session's bookkeeping out of reach.
 */
export type H2ServerStream = Readonly<
  Pick<
    ServerStream,
    | 'id'
    | 'method'
    | 'scheme'
    | 'authority'
    | 'path'
    | 'headers'
    | 'contentLength'
    | 'hasBody'
    | 'remoteAddress'
    | 'headSent'
    | 'finished'
    | 'responseEnded'
    | 'writableLength'
    | 'receivedBytes'
    | 'isPaused'
    | 'isTerminated'
    | 'setHandler'
    | 'informational'
    | 'respond'
    | 'write'
    | 'end'
    | 'reset'
    | 'pause'
    | 'resume'
  >
>;

/** What a server stream needs from its session. */
export interface ServerStreamHost extends StreamHost<ServerStream> {
  /** Writes a response HEADERS frame (an interim one too: `endStream` false). */
  sendHead(stream: ServerStream, fields: readonly string[], endStream: boolean): void;
}

const NO_HANDLER: H2ServerStreamHandler = {};

/** `:status` values as strings, for the common ones without a conversion per response. */
const STATUS_TEXT = new Map<number, string>();
for (let status = 100; status < 600; status++) STATUS_TEXT.set(status, String(status));

export class ServerStream extends StreamCore<H2ServerStreamHandler> {
  readonly method: string;
  readonly scheme: string;
  /** :authority, or the Host field when the client sent no :authority. */
  readonly authority: string;
  readonly path: string;
  /** Regular request fields, flat [name, value, …], lowercase names, wire order. */
  readonly headers: readonly string[];
  /** Declared content-length, or -1. */
  readonly contentLength: number;
  /** False when the request ended with its HEADERS frame. */
  readonly hasBody: boolean;
  readonly remoteAddress: string;
  /** Response head sent. */
  headSent = false;
  readonly #session: ServerStreamHost;

  constructor(
    session: ServerStreamHost,
    request: ReceivedRequest,
    hasBody: boolean,
    remoteAddress: string,
    highWaterMark: number,
  ) {
    super(NO_HANDLER, highWaterMark);
    this.#session = session;
    this.method = request.method;
    this.scheme = request.scheme;
    this.authority = request.authority;
    this.path = request.path;
    this.headers = request.headers;
    this.contentLength = request.contentLength;
    this.hasBody = hasBody;
    this.remoteAddress = remoteAddress;
    // Nobody reads the body until the consumer says so: real back-pressure from the start.
    this.paused = true;
  }

  /** The response ended (END_STREAM sent) or the stream was reset or closed. */
  get finished(): boolean {
    return this.endSent || this.terminated || this.closed;
  }

  /** The whole response went out (END_STREAM sent). */
  get responseEnded(): boolean {
    return this.endSent;
  }

  setHandler(handler: H2ServerStreamHandler): void {
    this.handler = handler;
  }

  /**
   * Sends an interim (1xx) response: a HEADERS frame without END_STREAM, ahead of the head.
   * Throws TRL_H2_INVALID_STATE once the head was sent, TRL_H2_INVALID_HEADER for a status
   * outside 100–199, for 101 (RFC 9113 §8.6: no upgrades in HTTP/2) or a field as respond().
   */
  informational(status: number, headers: readonly string[]): void {
    if (this.headSent) throw new H2Error('TRL_H2_INVALID_STATE', 'response head already sent');
    if (this.terminated || this.closed) return;
    if (status < 100 || status > 199 || status === 101) {
      throw new H2Error('TRL_H2_INVALID_HEADER', `invalid interim status ${status}`);
    }
    this.#session.sendHead(this, responseFields(status, headers), false);
  }

  /**
   * Sends the response head. `headers` is a flat list of regular fields (lowercase names, not
   * connection-specific); `endStream`: no body follows. Throws TRL_H2_INVALID_HEADER or
   * TRL_H2_INVALID_STATE (head already sent).
   */
  respond(status: number, headers: readonly string[], endStream = false): void {
    if (this.headSent) throw new H2Error('TRL_H2_INVALID_STATE', 'response head already sent');
    if (this.terminated || this.closed) return;
    if (status < 200) {
      throw new H2Error('TRL_H2_INVALID_HEADER', `invalid response status ${status}`);
    }
    const fields = responseFields(status, headers);
    this.headSent = true;
    if (endStream) this.localEnd = true;
    this.#session.sendHead(this, fields, endStream);
  }

  /** Queues a response body chunk (kept by reference); false: wait for onDrain. */
  override write(chunk: Buffer): boolean {
    if (!this.headSent) throw new H2Error('TRL_H2_INVALID_STATE', 'write() before respond()');
    return super.write(chunk);
  }

  /** Ends the response, optionally with trailers. */
  override end(trailers?: readonly string[]): void {
    if (!this.headSent) throw new H2Error('TRL_H2_INVALID_STATE', 'end() before respond()');
    super.end(trailers);
  }
}

/** `:status` plus `headers`, checked: lowercase token names, no connection-specific ones. */
function responseFields(status: number, headers: readonly string[]): string[] {
  const text = STATUS_TEXT.get(status);
  if (text === undefined) {
    throw new H2Error('TRL_H2_INVALID_HEADER', `invalid response status ${status}`);
  }
  if (headers.length % 2 !== 0) {
    throw new H2Error('TRL_H2_INVALID_HEADER', 'flat header list has an odd number of entries');
  }
  const fields = new Array<string>(headers.length + 2);
  fields[0] = ':status';
  fields[1] = text;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!isValidFieldName(name) || isConnectionSpecific(name)) {
      throw new H2Error('TRL_H2_INVALID_HEADER', `invalid response header ${JSON.stringify(name)}`);
    }
    if (!isValidFieldValue(value)) {
      throw new H2Error('TRL_H2_INVALID_HEADER', `invalid value for response header ${name}`);
    }
    fields[i + 2] = name;
    fields[i + 3] = value;
  }
  return fields;
}
