// One request on a downstream connection: the exchange, its body reader and its response writer
// in one object (their member names do not overlap), so a request costs one allocation here and
// no closures or EventEmitters. The connection feeds it body events and socket drains; it writes
// the response straight to the socket, coalescing the head with a body known by end time.
import type { Socket } from 'node:net';
import { H1ServerError } from './errors.js';
import { isSentInterimStatus } from './exchange.js';
import type {
  BodyHandlers,
  DownstreamExchange,
  FlatHeaders,
  RequestBodyReader,
  ResponseWriter,
} from './exchange.js';
import type { RequestHead } from './request-head.js';
import {
  FRAMING_CHUNKED,
  FRAMING_LENGTH,
  FRAMING_NONE,
  lastChunk,
  serializeInformationalHead,
  serializeResponseHead,
} from './response-head.js';
import type { ResponseFraming } from './response-head.js';

/** What an exchange needs from its connection. */
export interface ExchangeOwner {
  /** Draining, or the client half-closed: this response must carry `Connection: close`. */
  readonly closing: boolean;
  /** The reader started or resumed: parse the body. */
  bodyReadable(): void;
  /** The reader paused: stop parsing after the current chunk. */
  bodySuspended(): void;
  /** Runs flushPending() of the current exchange once the caller's synchronous work is done. */
  scheduleFlush(): void;
  responseFinished(exchange: H1Exchange): void;
  /** abort(): the connection is destroyed. */
  destroy(): void;
}

/** Below this, writes are copied into one buffer rather than corked into a writev. */
const COALESCE_BYTES = 8 * 1024;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

const B_NOT_STARTED = 0;
const B_FLOWING = 1;
const B_PAUSED = 2;
const B_DONE = 3; // ended, failed, or the exchange is over

export class H1Exchange
  implements DownstreamExchange, RequestBodyReader, ResponseWriter, ResponseFraming
{
  readonly protocol = 'http/1.1' as const;
  readonly method: string;
  readonly authority: string;
  readonly target: string;
  readonly headers: readonly string[];
  readonly remoteAddress: string;
  readonly hasBody: boolean;
  /** The parsed head, for consumers that want more than the exchange shape (version, raw target). */
  readonly request: RequestHead;
  // ResponseFraming, written by serializeResponseHead
  framing = FRAMING_NONE;
  contentLength = -1;
  keepAlive = false;

  readonly #owner: ExchangeOwner;
  readonly #socket: Socket;
  #handlers: BodyHandlers | null = null;
  #bodyState = B_NOT_STARTED;
  #continueSent = false;
  #headSent = false;
  #finished = false;
  /** The socket is closed or the server answered for the consumer: the writer is inert. */
  #gone = false;
  /** The client left before the response finished: onAbort callbacks ran (or run at once). */
  #aborted = false;
  #written = 0;
  #chunkOpen = false;
  /** Head and body bytes not yet handed to the socket (coalesced into one write). */
  #pending: (string | Buffer)[] | null = null;
  #pendingBytes = 0;
  #drainCallback: (() => void) | null = null;
  #abortCallback: (() => void) | null = null;
  #moreAbortCallbacks: (() => void)[] | null = null;

  constructor(owner: ExchangeOwner, socket: Socket, request: RequestHead, remoteAddress: string) {
    this.#owner = owner;
    this.#socket = socket;
    this.request = request;
    this.method = request.method;
    this.authority = request.authority;
    this.target = request.target;
    this.headers = request.headers;
    this.hasBody = request.hasBody;
    this.remoteAddress = remoteAddress;
  }

  get body(): RequestBodyReader {
    return this;
  }

  get response(): ResponseWriter {
    return this;
  }

  get headSent(): boolean {
    return this.#headSent;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** The consumer wants body bytes now (started and not paused). */
  get bodyFlowing(): boolean {
    return this.#bodyState === B_FLOWING;
  }

  onAbort(callback: () => void): void {
    if (this.#aborted) {
      // The client already left mid-response: tell the latecomer at once.
      callback();
      return;
    }
    if (this.#gone) return;
    if (this.#abortCallback === null) this.#abortCallback = callback;
    else (this.#moreAbortCallbacks ??= []).push(callback);
  }

  // === RequestBodyReader ===

  start(handlers: BodyHandlers): void {
    if (this.#handlers !== null) {
      throw new H1ServerError('TRL_H1S_INVALID_RESPONSE', 'body.start() called twice');
    }
    this.#handlers = handlers;
    if (!this.hasBody) {
      this.#bodyState = B_DONE;
      handlers.onEnd(undefined);
      return;
    }
    if (this.#bodyState !== B_NOT_STARTED) {
      // The exchange ended before the reader came: the body can no longer be read.
      handlers.onError(
        this.#gone
          ? new H1ServerError('TRL_H1S_CLIENT_ABORTED', 'the client closed the connection')
          : new H1ServerError('TRL_H1S_INVALID_RESPONSE', 'body.start() after the response ended'),
      );
      return;
    }
    this.#bodyState = B_FLOWING;
    // RFC 9110 §10.1.1: invite the body only once someone wants it, so a request refused
    // without reading never makes the client send it.
    if (this.request.expectContinue && !this.#headSent && !this.#gone) {
      this.#continueSent = true;
      this.#socket.write(CONTINUE, 'latin1');
    }
    this.#owner.bodyReadable();
  }

  pause(): void {
    if (this.#bodyState !== B_FLOWING) return;
    this.#bodyState = B_PAUSED;
    this.#owner.bodySuspended();
  }

  resume(): void {
    if (this.#bodyState !== B_PAUSED) return;
    this.#bodyState = B_FLOWING;
    this.#owner.bodyReadable();
  }

  // === ResponseWriter ===

  informational(status: number, headers: FlatHeaders): void {
    // HTTP/1.0 knows no 1xx (RFC 9110 §15.2).
    if (this.#headSent || this.#gone || !isSentInterimStatus(status)) return;
    if (this.request.versionMinor === 0) return;
    let head: string;
    try {
      head = serializeInformationalHead(status, headers);
    } catch (error) {
      // A field HTTP/1.1 cannot carry: the hint is dropped, the final response still goes.
      if (error instanceof H1ServerError) return;
      throw error;
    }
    // No head yet, so nothing is pending: the interim head goes straight out, ahead of it.
    this.#socket.write(head, 'latin1');
  }

  head(status: number, headers: FlatHeaders, endStream: boolean, _trailers: boolean): void {
    if (this.#headSent) throw new H1ServerError('TRL_H1S_INVALID_RESPONSE', 'head() sent twice');
    const request = this.request;
    // A body neither read nor invited may or may not follow (the client may send it after a
    // timeout): the connection cannot be reused safely.
    const bodyInDoubt =
      request.hasBody &&
      request.expectContinue &&
      this.#bodyState === B_NOT_STARTED &&
      !this.#continueSent;
    const head = serializeResponseHead(
      status,
      headers,
      endStream,
      request.method === 'HEAD',
      request.versionMinor,
      request.keepAlive && !bodyInDoubt && !this.#owner.closing,
      this,
    );
    this.#headSent = true;
    if (this.#gone) {
      if (endStream) this.#finished = true;
      return;
    }
    if (endStream) {
      this.#finished = true;
      this.#socket.write(head, 'latin1');
      this.#owner.responseFinished(this);
      return;
    }
    this.#pending = [head];
    this.#pendingBytes = head.length;
    this.#owner.scheduleFlush();
  }

  write(chunk: Buffer): boolean {
    if (this.#gone) return true;
    if (!this.#headSent || this.#finished) {
      throw new H1ServerError(
        'TRL_H1S_INVALID_RESPONSE',
        this.#finished ? 'write() after end()' : 'write() before head()',
      );
    }
    const n = chunk.length;
    const framing = this.framing;
    if (framing === FRAMING_NONE || n === 0) return this.#pending !== null || this.#writable();
    if (framing === FRAMING_LENGTH) {
      const total = this.#written + n;
      if (total > this.contentLength) {
        // More than declared would desynchronise the client: the response is cut instead.
        this.abort();
        return true;
      }
      this.#written = total;
    }
    if (framing === FRAMING_CHUNKED) {
      const sizeLine = this.#chunkOpen ? `\r\n${n.toString(16)}\r\n` : `${n.toString(16)}\r\n`;
      this.#chunkOpen = true;
      if (this.#pending !== null) {
        this.#pending.push(sizeLine, chunk);
        this.#pendingBytes += sizeLine.length + n;
        return this.#pendingBytes > COALESCE_BYTES ? this.flushPending() : true;
      }
      if (n <= COALESCE_BYTES) {
        const buf = Buffer.allocUnsafe(sizeLine.length + n);
        buf.write(sizeLine, 0, 'latin1');
        chunk.copy(buf, sizeLine.length);
        return this.#socket.write(buf);
      }
      const socket = this.#socket;
      socket.cork();
      socket.write(sizeLine, 'latin1');
      const ok = socket.write(chunk);
      socket.uncork();
      return ok;
    }
    if (this.#pending !== null) {
      this.#pending.push(chunk);
      this.#pendingBytes += n;
      return this.#pendingBytes > COALESCE_BYTES ? this.flushPending() : true;
    }
    return this.#socket.write(chunk);
  }

  onDrain(callback: () => void): void {
    if (this.#gone) return;
    if (!this.#socket.writableNeedDrain) {
      // Nothing is waiting to drain (a write that only looked full): resume at once, but not
      // from inside the caller's own stack.
      process.nextTick(callback);
      return;
    }
    this.#drainCallback = callback;
  }

  end(trailers?: FlatHeaders): void {
    if (this.#finished) return;
    if (!this.#headSent) {
      throw new H1ServerError('TRL_H1S_INVALID_RESPONSE', 'end() before head()');
    }
    if (this.#gone) {
      this.#finished = true;
      return;
    }
    const framing = this.framing;
    if (framing === FRAMING_LENGTH && this.#written !== this.contentLength) {
      // Fewer bytes than declared: only closing tells the client the body is cut short.
      this.abort();
      return;
    }
    this.#finished = true;
    if (framing === FRAMING_CHUNKED) {
      const last = lastChunk(this.#chunkOpen, trailers);
      if (this.#pending !== null) {
        this.#pending.push(last);
        this.#pendingBytes += last.length;
      } else {
        this.#socket.write(last, 'latin1');
      }
    }
    if (this.#pending !== null) this.flushPending();
    this.#owner.responseFinished(this);
  }

  abort(): void {
    if (this.#finished || this.#gone) return;
    this.#pending = null;
    this.#owner.destroy();
  }

  // === driven by the connection ===

  /** Hands coalesced head and body bytes to the socket in one write. Returns its verdict. */
  flushPending(): boolean {
    const parts = this.#pending;
    if (parts === null) return this.#writable();
    this.#pending = null;
    const socket = this.#socket;
    const total = this.#pendingBytes;
    this.#pendingBytes = 0;
    if (this.#gone) return true;
    if (parts.length === 1) {
      const only = parts[0] as string;
      return socket.write(only, 'latin1');
    }
    if (total <= COALESCE_BYTES) {
      const buf = Buffer.allocUnsafe(total);
      let offset = 0;
      for (const part of parts) {
        if (typeof part === 'string') offset += buf.write(part, offset, 'latin1');
        else offset += part.copy(buf, offset);
      }
      return socket.write(buf);
    }
    socket.cork();
    let ok = true;
    for (const part of parts) {
      ok = typeof part === 'string' ? socket.write(part, 'latin1') : socket.write(part);
    }
    socket.uncork();
    return ok;
  }

  deliverBody(chunk: Buffer): void {
    if (this.#bodyState === B_FLOWING || this.#bodyState === B_PAUSED) {
      (this.#handlers as BodyHandlers).onData(chunk);
    }
  }

  deliverEnd(trailers: string[] | null): void {
    if (this.#bodyState === B_FLOWING || this.#bodyState === B_PAUSED) {
      this.#bodyState = B_DONE;
      (this.#handlers as BodyHandlers).onEnd(trailers ?? undefined);
    }
  }

  /** The body broke (framing error, client gone): the reader learns it once. */
  failBody(error: Error): void {
    const state = this.#bodyState;
    this.#bodyState = B_DONE;
    if (state === B_FLOWING || state === B_PAUSED) (this.#handlers as BodyHandlers).onError(error);
  }

  /** The response can no longer be written (the socket closed, or the server answered). */
  clientGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#pending = null;
    this.#drainCallback = null;
    if (this.#bodyState !== B_DONE) {
      this.failBody(
        new H1ServerError('TRL_H1S_CLIENT_ABORTED', 'the client closed the connection mid-request'),
      );
    }
    if (this.#finished) return;
    this.#aborted = true;
    const first = this.#abortCallback;
    const more = this.#moreAbortCallbacks;
    this.#abortCallback = null;
    this.#moreAbortCallbacks = null;
    first?.();
    if (more !== null) for (const callback of more) callback();
  }

  /** The exchange is over for the body reader: later body bytes are discarded. */
  stopBody(): void {
    this.#bodyState = B_DONE;
  }

  drained(): void {
    const callback = this.#drainCallback;
    this.#drainCallback = null;
    callback?.();
  }

  #writable(): boolean {
    return !this.#socket.writableNeedDrain;
  }
}
