// One request through the pool. It is the caller's RequestHandle (body writes with framing,
// back-pressure, abort, pause) and the response parser's sink (events go straight to the
// caller's handler): one object per request, no closures, no EventEmitter.
import type { Socket } from 'node:net';
import type { H1Connection } from './connection.js';
import { H1Error } from './errors.js';
import {
  FRAMING_CHUNKED,
  FRAMING_LENGTH,
  FRAMING_NONE,
  serializeRequestHead,
} from './request-head.js';
import type { RequestFraming } from './request-head.js';
import { EXPECT_CONNECT, EXPECT_NO_BODY, EXPECT_UPGRADE } from './response-parser.js';
import type { ResponseSink } from './response-parser.js';
import type { H1RequestInit, H1ResponseHandler, RequestHandle } from './types.js';

/** Takes back a request that was still waiting in the queue when aborted. */
export interface RequestQueueOwner {
  dequeue(request: H1Request): void;
}

const R_QUEUED = 0; // in the pool's queue
const R_WAITING = 1; // assigned to a connection that is still connecting
const R_ACTIVE = 2; // head sent, response pending
const R_DONE = 3; // ended, failed, upgraded or aborted: no more callbacks

export class H1Request implements RequestHandle, ResponseSink, RequestFraming {
  onDrain: (() => void) | null = null;
  framing = FRAMING_NONE;
  contentLength = -1;
  expectContinue = false;
  upgrade = false;
  connectionClose = false;
  /** EXPECT_* flags telling the response parser what this request allows. */
  readonly expect: number;
  readonly #handler: H1ResponseHandler;
  readonly #owner: RequestQueueOwner;
  #head: string;
  #state = R_QUEUED;
  #conn: H1Connection | null = null;
  #socket: Socket | null = null;
  /** Body writes accepted before the body may flow (no connection yet, or before 100). */
  #pending: Uint8Array[] | null = null;
  #needDrain = false;
  #bodyOpen = false;
  #awaitingContinue = false;
  /** A final response came instead of 100 Continue: the body is dropped (RFC 9110 §10.1.1). */
  #bodyRefused = false;
  #ended: boolean;
  #sent = false;
  /** The socket took the head, so some byte of the request may have reached the upstream. */
  #headAccepted = false;
  #written = 0;
  #chunkOpen = false;
  #paused = false;

  constructor(
    init: H1RequestInit,
    handler: H1ResponseHandler,
    defaultHost: string,
    owner: RequestQueueOwner,
  ) {
    this.#head = serializeRequestHead(init, defaultHost, this);
    const connect = init.method === 'CONNECT';
    if ((this.upgrade || connect) && typeof handler.onUpgrade !== 'function') {
      throw new H1Error('TRL_H1_INVALID_REQUEST', 'Upgrade and CONNECT requests need onUpgrade');
    }
    this.expect =
      (init.method === 'HEAD' ? EXPECT_NO_BODY : 0) |
      (connect ? EXPECT_CONNECT : 0) |
      (this.upgrade ? EXPECT_UPGRADE : 0);
    this.#handler = handler;
    this.#owner = owner;
    this.#ended = this.framing === FRAMING_NONE;
  }

  /** The whole request, end of body included, has been written to the socket. */
  get sent(): boolean {
    return this.#sent;
  }

  /** The socket took at least one byte of this request (see H1Error.requestWritten). */
  get requestWritten(): boolean {
    return this.#headAccepted;
  }

  /** The head is out and the body waits for 100 Continue. */
  get awaitingContinue(): boolean {
    return this.#awaitingContinue;
  }

  // === RequestHandle ===

  write(chunk: Uint8Array): boolean {
    if (this.#state === R_DONE || this.#bodyRefused) return true;
    if (this.#ended) {
      throw new H1Error(
        'TRL_H1_INVALID_REQUEST',
        this.framing === FRAMING_NONE
          ? 'write() on a request without a body'
          : 'write() after end()',
      );
    }
    if (this.framing === FRAMING_LENGTH) {
      const total = this.#written + chunk.byteLength;
      if (total > this.contentLength) this.#lengthMismatch(total);
      this.#written = total;
    }
    if (!this.#bodyOpen) {
      (this.#pending ??= []).push(chunk);
      this.#needDrain = true;
      return false;
    }
    return this.#writeFramed(chunk);
  }

  end(): void {
    if (this.#state === R_DONE || this.#ended) return;
    if (this.framing === FRAMING_LENGTH && this.#written !== this.contentLength) {
      this.#lengthMismatch(this.#written);
    }
    this.#ended = true;
    if (this.#bodyOpen) this.#writeEnd();
  }

  abort(): void {
    const state = this.#state;
    if (state === R_DONE) return;
    this.#done();
    if (state === R_QUEUED) this.#owner.dequeue(this);
    else if (state === R_WAITING) this.#conn?.detach(this);
    else this.#conn?.abortRequest(this);
  }

  pause(): void {
    if (this.#paused || this.#state === R_DONE) return;
    this.#paused = true;
    if (this.#state === R_ACTIVE) this.#conn?.pauseReading();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#state === R_ACTIVE) this.#conn?.resumeReading();
  }

  // === driven by the connection ===

  /** Bound to a connection that is still connecting. */
  assign(conn: H1Connection): void {
    this.#conn = conn;
    this.#state = R_WAITING;
  }

  /** Writes the head on a connected socket, then any body already written. */
  start(conn: H1Connection, socket: Socket): void {
    this.#conn = conn;
    this.#socket = socket;
    this.#state = R_ACTIVE;
    // The head is the request's first write, and never empty. A write the socket takes is
    // counted in bytesWritten at once (even when queued); one that fails at once, because the
    // upstream's reset already arrived, is not, and the connection is then dead for later writes.
    const before = socket.bytesWritten;
    socket.write(this.#head, 'latin1');
    this.#headAccepted = socket.bytesWritten !== before;
    this.#head = '';
    if (this.#paused) conn.pauseReading();
    if (this.framing === FRAMING_NONE) {
      this.#sent = true;
      conn.responseOwed();
    } else if (this.expectContinue) {
      this.#awaitingContinue = true;
      conn.awaitContinue();
    } else {
      this.#openBody();
    }
  }

  /** The socket drained after a write returned false. */
  drained(): void {
    if (!this.#bodyOpen || this.#state !== R_ACTIVE) return;
    this.#needDrain = false;
    this.onDrain?.();
  }

  finish(): void {
    if (this.#state === R_DONE) return;
    this.#done();
    this.#handler.onEnd();
  }

  fail(error: H1Error): void {
    if (this.#state === R_DONE) return;
    this.#done();
    this.#handler.onError(error);
  }

  upgraded(socket: Socket, head: Buffer): void {
    if (this.#state === R_DONE) return;
    this.#done();
    (this.#handler.onUpgrade as NonNullable<H1ResponseHandler['onUpgrade']>)(socket, head);
  }

  /** Sends the held body: 100 Continue arrived, or the upstream stayed silent too long. */
  proceed(): void {
    if (!this.#awaitingContinue || this.#state !== R_ACTIVE) return;
    this.#awaitingContinue = false;
    this.#openBody();
  }

  /** The connection gave up on this request without a callback (the handler threw). */
  discard(): void {
    this.#done();
  }

  // === ResponseSink ===

  onInformational(status: number, reason: string, headers: string[]): void {
    this.#handler.onInformational?.(status, reason, headers);
    if (status === 100) this.proceed();
  }

  onHead(status: number, reason: string, headers: string[], keepAlive: boolean): void {
    if (this.#awaitingContinue) {
      this.#awaitingContinue = false;
      this.#bodyRefused = true;
      this.#pending = null;
    }
    this.#handler.onResponseHead(status, reason, headers, keepAlive);
  }

  onBody(chunk: Buffer): void {
    this.#handler.onData(chunk);
  }

  onTrailers(trailers: string[]): void {
    this.#handler.onTrailers(trailers);
  }

  // === internals ===

  #done(): void {
    this.#state = R_DONE;
    this.#pending = null;
    this.onDrain = null;
  }

  #openBody(): void {
    this.#bodyOpen = true;
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      for (const chunk of pending) this.#writeFramed(chunk);
    }
    if (this.#ended) this.#writeEnd();
    if (this.#needDrain && !(this.#socket as Socket).writableNeedDrain) {
      this.#needDrain = false;
      this.onDrain?.();
    }
  }

  #writeFramed(chunk: Uint8Array): boolean {
    const socket = this.#socket as Socket;
    if (this.framing === FRAMING_LENGTH) return socket.write(chunk);
    // A zero-length chunk would end the body: skip it.
    if (chunk.byteLength === 0) return !socket.writableNeedDrain;
    // The CRLF that closes a chunk rides with the next size line (or the last chunk).
    const sizeLine = this.#chunkOpen
      ? `\r\n${chunk.byteLength.toString(16)}\r\n`
      : `${chunk.byteLength.toString(16)}\r\n`;
    this.#chunkOpen = true;
    socket.cork();
    socket.write(sizeLine, 'latin1');
    const ok = socket.write(chunk);
    socket.uncork();
    return ok;
  }

  #writeEnd(): void {
    if (this.#sent) return;
    if (this.framing === FRAMING_CHUNKED) {
      (this.#socket as Socket).write(this.#chunkOpen ? '\r\n0\r\n\r\n' : '0\r\n\r\n', 'latin1');
    }
    this.#sent = true;
    this.#conn?.responseOwed();
  }

  #lengthMismatch(bytes: number): never {
    this.abort();
    throw new H1Error(
      'TRL_H1_BODY_LENGTH_MISMATCH',
      `body of ${bytes} bytes does not match Content-Length ${this.contentLength}`,
    );
  }
}
