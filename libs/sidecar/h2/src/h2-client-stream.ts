// One request/response exchange on an h2c connection. The stream holds its own send queue and
// receive buffer; the object that currently hosts it (a session, or a pool waiting for a session)
// turns queued bytes into frames and credits flow-control windows. Events go to a plain handler
// object rather than an EventEmitter: one method call per event, no listener arrays per request.
import { H2ErrorCode } from './constants.js';
import { H2Error } from './errors.js';
import { trailerFieldList } from './headers.js';
import type { HeaderInput } from './headers.js';

/**
 * Receives a stream's events. After onEnd or onError no further method is called, except that a
 * stream whose response ended while its request body is still open stays writable. Header lists
 * are flat [name, value, …] arrays without pseudo-headers, in wire order.
 */
export interface H2StreamHandler {
  /** Final response headers; `endStream` is true for a headers-only (e.g. gRPC trailers-only) reply. */
  onResponseHeaders?(status: number, headers: string[], endStream: boolean): void;
  /** A 1xx interim response (100 Continue, 103 Early Hints); the final headers follow. */
  onInformational?(status: number, headers: string[]): void;
  /** A body chunk; a view of received bytes, owned by the handler from now on. */
  onData?(chunk: Buffer): void;
  onTrailers?(trailers: string[]): void;
  onEnd?(): void;
  onError?(error: H2Error): void;
  /** The request body queue emptied after write() returned false. */
  onDrain?(): void;
}

/** The public face of a client stream. */
export interface H2ClientStream {
  /** Stream id, 0 while the stream waits for a connection or a concurrency slot. */
  readonly id: number;
  /** Request body bytes queued but not yet framed (flow control, socket back-pressure). */
  readonly writableLength: number;
  /** Response body bytes received so far, including bytes held while paused. */
  readonly receivedBytes: number;
  readonly isPaused: boolean;
  /** True after onError was delivered or reset() was called. */
  readonly isTerminated: boolean;
  setHandler(handler: H2StreamHandler): void;
  /**
   * Queues a body chunk (kept by reference: do not modify it afterwards). Returns false when the
   * queue reached the high-water mark: wait for onDrain before writing more.
   */
  write(chunk: Buffer): boolean;
  /** Ends the request body, optionally with trailers. Calling it twice is harmless. */
  end(trailers?: HeaderInput): void;
  /** Abandons the stream (RST_STREAM `code`, default CANCEL); no further callbacks. */
  reset(code?: number): void;
  /** Stops delivering data and stops crediting the server's window: real back-pressure. */
  pause(): void;
  /** Delivers data held while paused, then resumes crediting the window. */
  resume(): void;
}

/** What a stream needs from whoever currently hosts it. */
export interface StreamHost {
  /** New body bytes or an end() were queued. */
  flushStream(stream: ClientStream): void;
  /** The consumer reset the stream. */
  resetStream(stream: ClientStream, code: number): void;
  /** `bytes` of body were delivered to the handler (or the stream resumed, with 0). */
  consumed(stream: ClientStream, bytes: number): void;
}

const NO_HANDLER: H2StreamHandler = {};

export class ClientStream implements H2ClientStream {
  id = 0;
  host: StreamHost | null = null;
  handler: H2StreamHandler;
  /** Request header list, kept until the HEADERS frame is written. */
  fields: readonly string[] | null;
  readonly highWaterMark: number;

  // === send side ===
  outQueue: Buffer[] = [];
  outBytes = 0;
  needDrain = false;
  localEnd = false;
  endSent = false;
  trailers: readonly string[] | null = null;
  sendWindow = 0;
  /** Listed with the session as waiting for connection window or socket room. */
  blocked = false;

  // === receive side ===
  recvWindow = 0;
  recvUnacked = 0;
  receivedBytes = 0;
  gotHeaders = false;
  remoteEnded = false;
  paused = false;
  inbox: Buffer[] | null = null;
  inboxTrailers: string[] | null = null;
  inboxEnd = false;
  #draining = false;

  // === lifecycle ===
  /** Both directions finished or reset: the concurrency slot is free. */
  closed = false;
  /** onError delivered or reset by the consumer: no more callbacks, writes are dropped. */
  terminated = false;

  constructor(
    fields: readonly string[],
    handler: H2StreamHandler | undefined,
    highWaterMark: number,
    endStream: boolean,
  ) {
    this.fields = fields;
    this.handler = handler ?? NO_HANDLER;
    this.highWaterMark = highWaterMark;
    this.localEnd = endStream;
  }

  get writableLength(): number {
    return this.outBytes;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isTerminated(): boolean {
    return this.terminated;
  }

  setHandler(handler: H2StreamHandler): void {
    this.handler = handler;
  }

  write(chunk: Buffer): boolean {
    if (this.localEnd) throw new H2Error('TRL_H2_INVALID_STATE', 'write() after end()');
    if (this.terminated || this.closed) return true;
    if (chunk.length === 0) return true;
    this.outQueue.push(chunk);
    this.outBytes += chunk.length;
    if (this.host !== null) this.host.flushStream(this);
    if (this.outBytes >= this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  end(trailers?: HeaderInput): void {
    if (this.localEnd || this.terminated || this.closed) return;
    if (trailers !== undefined) {
      const list = trailerFieldList(trailers);
      if (list.length > 0) this.trailers = list;
    }
    this.localEnd = true;
    if (this.host !== null) this.host.flushStream(this);
  }

  reset(code: number = H2ErrorCode.CANCEL): void {
    if (this.terminated) return;
    this.terminated = true;
    this.#dropBuffers();
    if (this.host !== null) this.host.resetStream(this, code);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.inbox !== null) this.#drainInbox();
    if (this.host !== null && !this.terminated) this.host.consumed(this, 0);
  }

  // === delivery, called by the host ===

  /** Hands a body chunk to the handler, or holds it while paused; true if delivered. */
  deliverData(chunk: Buffer): boolean {
    if (this.terminated) return false;
    if (this.paused || this.inbox !== null) {
      (this.inbox ??= []).push(chunk);
      return false;
    }
    this.handler.onData?.(chunk);
    return true;
  }

  deliverTrailers(trailers: string[]): void {
    if (this.terminated) return;
    if (this.inbox !== null) this.inboxTrailers = trailers;
    else this.handler.onTrailers?.(trailers);
  }

  deliverEnd(): void {
    if (this.terminated) return;
    if (this.inbox !== null) this.inboxEnd = true;
    else this.handler.onEnd?.();
  }

  /** Terminal failure: drops buffers and reports `error` once. */
  fail(error: H2Error): void {
    if (this.terminated) return;
    this.terminated = true;
    this.#dropBuffers();
    this.handler.onError?.(error);
  }

  /** Signals the handler that the send queue emptied, if it was told to wait. */
  drained(): void {
    if (this.needDrain && !this.terminated) {
      this.needDrain = false;
      this.handler.onDrain?.();
    }
  }

  #drainInbox(): void {
    // A resume() from inside onData lands here again: the outer loop carries on instead.
    if (this.#draining) return;
    this.#draining = true;
    const inbox = this.inbox!;
    while (inbox.length > 0 && !this.paused && !this.terminated) {
      const chunk = inbox.shift()!;
      this.handler.onData?.(chunk);
      if (this.host !== null) this.host.consumed(this, chunk.length);
    }
    this.#draining = false;
    if (inbox.length > 0 || this.paused || this.terminated) return;
    this.inbox = null;
    const trailers = this.inboxTrailers;
    if (trailers !== null) {
      this.inboxTrailers = null;
      this.handler.onTrailers?.(trailers);
    }
    if (this.inboxEnd && !this.terminated) {
      this.inboxEnd = false;
      this.handler.onEnd?.();
    }
  }

  #dropBuffers(): void {
    this.outQueue = [];
    this.outBytes = 0;
    this.inbox = null;
    this.inboxTrailers = null;
    this.inboxEnd = false;
  }
}
