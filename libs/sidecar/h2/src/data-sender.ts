// Outgoing body data of one connection: turns each stream's queued bytes into DATA frames within
// the peer's stream and connection windows, its frame size and the socket's appetite, and then
// ends the stream (END_STREAM or trailers). Streams stalled on the connection window or the socket
// wait in a list and resume round-robin, one frame each, so a big body cannot starve the others.
import { DEFAULT_WINDOW_SIZE, FrameFlag, FrameType, MIN_MAX_FRAME_SIZE } from './constants.js';
import type { FrameWriter } from './frame-writer.js';
import type { StreamBodyHandler, StreamCore } from './stream-core.js';

/** Bulk DATA produced in one tick before waiting for the writer to flush. */
const MAX_UNFLUSHED_BYTES = 256 << 10;

type AnyStream = StreamCore<StreamBodyHandler>;

/** What the sender asks of the session when a stream's outgoing side finishes. */
export interface DataSenderHost<S extends AnyStream> {
  /** Writes `stream.trailers` as a HEADERS frame with END_STREAM. */
  writeTrailers(stream: S): void;
  /** END_STREAM went out for `stream`. */
  endSent(stream: S): void;
}

export class DataSender<S extends AnyStream> {
  /** Connection-level send window (may go negative only through stream windows, never this). */
  window = DEFAULT_WINDOW_SIZE;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize = MIN_MAX_FRAME_SIZE;
  /** DATA frames written so far (a peer's WINDOW_UPDATEs are budgeted against them). */
  framesSent = 0;
  readonly #writer: FrameWriter;
  readonly #host: DataSenderHost<S>;
  #blocked: S[] = [];
  #scheduled: S[] = [];
  #resuming = false;
  #awaitingDrain = false;

  constructor(writer: FrameWriter, host: DataSenderHost<S>) {
    this.#writer = writer;
    this.#host = host;
  }

  /** Sends what the windows allow now (call after a write(), end() or window increase). */
  flush(s: S): void {
    if (!s.blocked) this.pump(s, Number.POSITIVE_INFINITY);
  }

  /**
   * Frames the stream's queue at the end of this tick, just before the writer flushes: chunks
   * written and an end() called in one tick leave as few DATA frames, the last with END_STREAM.
   */
  schedule(s: S): void {
    if (s.scheduled) return;
    s.scheduled = true;
    this.#scheduled.push(s);
    this.#writer.schedule();
  }

  /** Pumps the streams scheduled this tick (the writer's beforeFlush hook). */
  runScheduled(): void {
    // A handler's onDrain may write again, scheduling more: those go out in this flush too.
    while (this.#scheduled.length > 0) {
      const list = this.#scheduled;
      this.#scheduled = [];
      for (const s of list) {
        s.scheduled = false;
        if (!s.closed && !s.terminated) this.flush(s);
      }
    }
  }

  /** Connection WINDOW_UPDATE: false when the window would pass 2^31-1 (FLOW_CONTROL_ERROR). */
  addWindow(increment: number): boolean {
    this.window += increment;
    if (this.window > 0x7fff_ffff) return false;
    if (this.#blocked.length > 0) this.#resumeBlocked();
    return true;
  }

  /** The writer flushed; `drained` false means the socket wants us to wait for 'drain'. */
  onFlushed(drained: boolean): void {
    if (!drained) this.#awaitingDrain = true;
    else if (this.#blocked.length > 0) this.#resumeBlocked();
  }

  onSocketDrain(): void {
    this.#awaitingDrain = false;
    if (this.#blocked.length > 0) this.#resumeBlocked();
  }

  /** Forgets every waiting stream (the connection is gone). */
  clear(): void {
    this.#blocked = [];
    this.#scheduled = [];
  }

  #socketBusy(): boolean {
    return this.#awaitingDrain || this.#writer.pendingBytes >= MAX_UNFLUSHED_BYTES;
  }

  /**
   * Turns queued body bytes into DATA frames (at most `frames` of them), then sends END_STREAM or
   * trailers once the queue is empty and the consumer ended.
   */
  pump(s: S, frames: number): void {
    while (s.outBytes > 0) {
      if (this.#socketBusy() || frames-- <= 0) {
        this.#block(s);
        return;
      }
      const avail = Math.min(s.sendWindow, this.window, this.maxFrameSize);
      if (avail <= 0) {
        // A stream-window stall resumes on that stream's WINDOW_UPDATE; a connection one here.
        if (this.window <= 0) this.#block(s);
        return;
      }
      const head = s.outQueue[0]!;
      let piece: Buffer;
      if (head.length <= avail) {
        piece = head;
        s.outQueue.shift();
      } else {
        piece = head.subarray(0, avail);
        s.outQueue[0] = head.subarray(avail);
      }
      const n = piece.length;
      s.outBytes -= n;
      s.sendWindow -= n;
      this.window -= n;
      const last = s.outBytes === 0 && s.localEnd && s.trailers === null;
      this.#writer.frame(FrameType.DATA, last ? FrameFlag.END_STREAM : 0, s.id, piece);
      this.framesSent++;
      if (last) {
        s.endSent = true;
        this.#host.endSent(s);
      }
    }
    if (s.localEnd && !s.endSent) {
      if (s.trailers !== null) this.#host.writeTrailers(s);
      else {
        this.#writer.frameHeader(0, FrameType.DATA, FrameFlag.END_STREAM, s.id);
        this.framesSent++;
      }
      s.trailers = null;
      s.endSent = true;
      this.#host.endSent(s);
    }
    s.drained();
  }

  #block(s: S): void {
    if (!s.blocked) {
      s.blocked = true;
      this.#blocked.push(s);
    }
  }

  /** Connection window or socket room came back: round-robin one frame per waiting stream. */
  #resumeBlocked(): void {
    if (this.#resuming) return;
    this.#resuming = true;
    while (this.#blocked.length > 0 && this.window > 0 && !this.#socketBusy()) {
      const round = this.#blocked;
      this.#blocked = [];
      for (const s of round) {
        s.blocked = false;
        if (!s.closed && !s.terminated) this.pump(s, 1);
      }
    }
    this.#resuming = false;
  }
}
