// What every HTTP/2 stream of ours holds, client or server side: the queue of outgoing body bytes
// with its end (and trailers), the flow-control windows, and the incoming side with pause/resume
// that withholds window credit. The session hosting the stream turns queued bytes into frames and
// credits windows; events go to a plain handler object (no EventEmitter per stream).
import { H2ErrorCode } from './constants.js';
import { H2Error } from './errors.js';
import { trailerFieldList } from './headers.js';
import type { HeaderInput } from './headers.js';

/**
 * Body events of a stream. After onEnd or onError no further method is called, except that a
 * stream whose incoming side ended while its outgoing side is still open stays writable.
 */
export interface StreamBodyHandler {
  /** A body chunk; a view of received bytes, owned by the handler from now on. */
  onData?(chunk: Buffer): void;
  onTrailers?(trailers: string[]): void;
  onEnd?(): void;
  onError?(error: H2Error): void;
  /** The outgoing body queue emptied after write() returned false. */
  onDrain?(): void;
}

/** What a stream needs from whoever currently hosts it. */
export interface StreamHost<S> {
  /** New body bytes or an end() were queued. */
  flushStream(stream: S): void;
  /** The consumer reset the stream. */
  resetStream(stream: S, code: number): void;
  /** `bytes` of body were delivered to the handler (or the stream resumed, with 0). */
  consumed(stream: S, bytes: number): void;
}

export class StreamCore<H extends StreamBodyHandler> {
  id = 0;
  host: StreamHost<this> | null = null;
  handler: H;
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
  /** Listed with the session to be framed at the end of this tick. */
  scheduled = false;

  // === receive side ===
  recvWindow = 0;
  recvUnacked = 0;
  receivedBytes = 0;
  remoteEnded = false;
  paused = false;
  inbox: Buffer[] | null = null;
  /** Body bytes held in the inbox, not yet handed to the consumer. */
  heldBytes = 0;
  inboxTrailers: string[] | null = null;
  inboxEnd = false;
  #draining = false;

  // === lifecycle ===
  /** Both directions finished or reset: the concurrency slot is free. */
  closed = false;
  /** onError delivered or reset by the consumer: no more callbacks, writes are dropped. */
  terminated = false;

  constructor(handler: H, highWaterMark: number) {
    this.handler = handler;
    this.highWaterMark = highWaterMark;
  }

  /** Body bytes queued but not yet framed (flow control, socket back-pressure). */
  get writableLength(): number {
    return this.outBytes;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isTerminated(): boolean {
    return this.terminated;
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

  /** Abandons the stream (RST_STREAM `code`, default CANCEL); no further callbacks. */
  reset(code: number = H2ErrorCode.CANCEL): void {
    if (this.terminated) return;
    this.terminated = true;
    this.#dropBuffers();
    if (this.host !== null) this.host.resetStream(this, code);
  }

  /** Stops delivering the incoming body and crediting the peer's window. */
  pause(): void {
    this.paused = true;
  }

  /** Delivers held body, then credits the window again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.inbox !== null) this.#drainInbox();
    else if (this.inboxTrailers !== null || this.inboxEnd) this.#deliverHeld();
    if (this.host !== null && !this.terminated) this.host.consumed(this, 0);
  }

  // === delivery, called by the host ===

  /** Hands a body chunk to the handler, or holds it while paused; true if delivered. */
  deliverData(chunk: Buffer): boolean {
    if (this.terminated) return false;
    if (this.paused || this.inbox !== null) {
      (this.inbox ??= []).push(chunk);
      this.heldBytes += chunk.length;
      return false;
    }
    this.handler.onData?.(chunk);
    return true;
  }

  deliverTrailers(trailers: string[]): void {
    if (this.terminated) return;
    if (this.inbox !== null || this.paused) this.inboxTrailers = trailers;
    else this.handler.onTrailers?.(trailers);
  }

  deliverEnd(): void {
    if (this.terminated) return;
    if (this.inbox !== null || this.paused) this.inboxEnd = true;
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
      this.heldBytes -= chunk.length;
      this.handler.onData?.(chunk);
      if (this.host !== null) this.host.consumed(this, chunk.length);
    }
    this.#draining = false;
    if (inbox.length > 0 || this.paused || this.terminated) return;
    this.inbox = null;
    this.#deliverHeld();
  }

  /** Trailers and end held while paused, once nothing else is held. */
  #deliverHeld(): void {
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
