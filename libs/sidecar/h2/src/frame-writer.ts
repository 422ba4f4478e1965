// Outgoing byte batching for one connection. Frame headers and small payloads are written into a
// reusable slab; large payloads are queued by reference (no copy). Everything produced during one
// tick goes to the socket in a single corked flush, scheduled as a microtask, so a burst of
// requests or WINDOW_UPDATEs costs one writev instead of one write per frame.
import { FRAME_HEADER_SIZE, FrameFlag, FrameType } from './constants.js';
import { writeFrameHeader } from './frame-codec.js';
import { HpackEncoder } from './hpack-encoder.js';

/** The part of a net.Socket the writer uses. */
export interface ByteSink {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

/** Payloads up to this size are copied into the slab rather than queued as separate chunks. */
const COPY_THRESHOLD = 1_024;

export class FrameWriter {
  readonly #sink: ByteSink;
  readonly #slabSize: number;
  readonly #onFlushed: (drained: boolean) => void;
  #slab: Buffer;
  #pos = 0;
  // Start of the slab region not yet moved to #chunks.
  #segStart = 0;
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  #scheduled = false;
  #closed = false;
  /**
   * Runs in the scheduled flush, before the bytes go out: a last chance to produce frames held
   * back during the tick (so a body chunk and the end that follows it share one DATA frame).
   */
  beforeFlush: (() => void) | null = null;
  readonly #flushTask = (): void => {
    this.beforeFlush?.();
    this.#scheduled = false;
    this.flush();
  };

  /**
   * `onFlushed(drained)` runs after each flush; `drained` is the socket's write() result (false:
   * wait for 'drain' before producing more bulk data).
   */
  constructor(sink: ByteSink, onFlushed: (drained: boolean) => void, slabSize = 65_536) {
    this.#sink = sink;
    this.#slabSize = slabSize;
    this.#onFlushed = onFlushed;
    this.#slab = Buffer.allocUnsafe(slabSize);
  }

  /** Bytes produced but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.#chunkBytes + this.#pos - this.#segStart;
  }

  /**
   * Makes room for `n` contiguous bytes and returns the offset to write them at in `buffer`; the
   * caller writes then calls commit(offset + written).
   */
  reserve(n: number): number {
    if (this.#slab.length - this.#pos < n) {
      this.#seal();
      this.#slab = Buffer.allocUnsafe(Math.max(this.#slabSize, n));
      this.#pos = 0;
      this.#segStart = 0;
    }
    return this.#pos;
  }

  /** The slab that the last reserve() offset refers to. */
  get buffer(): Buffer {
    return this.#slab;
  }

  commit(end: number): void {
    this.#pos = end;
    this.#schedule();
  }

  frameHeader(length: number, type: number, flags: number, streamId: number): void {
    const off = this.reserve(FRAME_HEADER_SIZE);
    writeFrameHeader(this.#slab, off, length, type, flags, streamId);
    this.commit(off + FRAME_HEADER_SIZE);
  }

  /** A whole frame: header plus `payload` (copied if small, else queued by reference). */
  frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const len = payload.length;
    if (len <= COPY_THRESHOLD) {
      const off = this.reserve(FRAME_HEADER_SIZE + len);
      writeFrameHeader(this.#slab, off, len, type, flags, streamId);
      payload.copy(this.#slab, off + FRAME_HEADER_SIZE);
      this.commit(off + FRAME_HEADER_SIZE + len);
      return;
    }
    this.frameHeader(len, type, flags, streamId);
    this.#seal();
    this.#chunks.push(payload);
    this.#chunkBytes += len;
  }

  /** A frame whose payload is one 32-bit value: RST_STREAM (error code), WINDOW_UPDATE. */
  u32Frame(type: number, streamId: number, value: number): void {
    const off = this.reserve(FRAME_HEADER_SIZE + 4);
    writeFrameHeader(this.#slab, off, 4, type, 0, streamId);
    this.#slab.writeUInt32BE(value >>> 0, off + FRAME_HEADER_SIZE);
    this.commit(off + FRAME_HEADER_SIZE + 4);
  }

  /** PING with the 8 opaque bytes at `opaque[start]`. */
  ping(flags: number, opaque: Buffer, start: number): void {
    const off = this.reserve(FRAME_HEADER_SIZE + 8);
    writeFrameHeader(this.#slab, off, 8, FrameType.PING, flags, 0);
    opaque.copy(this.#slab, off + FRAME_HEADER_SIZE, start, start + 8);
    this.commit(off + FRAME_HEADER_SIZE + 8);
  }

  /** GOAWAY with up to 256 bytes of `debug` text. */
  goaway(lastStreamId: number, code: number, debug: string): void {
    const debugBytes = Buffer.from(debug.slice(0, 256), 'latin1');
    const length = 8 + debugBytes.length;
    const off = this.reserve(FRAME_HEADER_SIZE + length);
    const buf = this.#slab;
    writeFrameHeader(buf, off, length, FrameType.GOAWAY, 0, 0);
    buf.writeUInt32BE(lastStreamId & 0x7fff_ffff, off + 9);
    buf.writeUInt32BE(code >>> 0, off + 13);
    debugBytes.copy(buf, off + 17);
    this.commit(off + FRAME_HEADER_SIZE + length);
  }

  /**
   * A header block encoded straight into the slab as one HEADERS frame, or split into HEADERS +
   * CONTINUATION frames when it exceeds the peer's `maxFrameSize`.
   */
  headers(
    encoder: HpackEncoder,
    streamId: number,
    fields: readonly string[],
    endStream: boolean,
    maxFrameSize: number,
  ): void {
    const off = this.reserve(FRAME_HEADER_SIZE + HpackEncoder.maxEncodedLength(fields));
    const buf = this.#slab;
    const end = encoder.encode(fields, buf, off + FRAME_HEADER_SIZE);
    const length = end - off - FRAME_HEADER_SIZE;
    const endFlag = endStream ? FrameFlag.END_STREAM : 0;
    if (length <= maxFrameSize) {
      const flags = FrameFlag.END_HEADERS | endFlag;
      writeFrameHeader(buf, off, length, FrameType.HEADERS, flags, streamId);
      this.commit(end);
      return;
    }
    // Rare: copy the block out (nothing was committed, so the slab space is reused) and split it.
    const block = Buffer.from(buf.subarray(off + FRAME_HEADER_SIZE, end));
    for (let pos = 0; pos < block.length; pos += maxFrameSize) {
      const last = pos + maxFrameSize >= block.length;
      const type = pos === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (pos === 0 ? endFlag : 0) | (last ? FrameFlag.END_HEADERS : 0);
      this.frame(
        type,
        flags,
        streamId,
        block.subarray(pos, Math.min(pos + maxFrameSize, block.length)),
      );
    }
  }

  /** Writes everything produced so far; returns false if the socket asks to wait for 'drain'. */
  flush(): boolean {
    this.#seal();
    const chunks = this.#chunks;
    if (chunks.length === 0 || this.#closed) return true;
    this.#chunks = [];
    this.#chunkBytes = 0;
    if (this.#sink.destroyed) return true;
    let drained: boolean;
    if (chunks.length === 1) {
      drained = this.#sink.write(chunks[0]!);
    } else {
      this.#sink.cork();
      drained = true;
      for (let i = 0; i < chunks.length; i++) drained = this.#sink.write(chunks[i]!);
      this.#sink.uncork();
    }
    this.#onFlushed(drained);
    return drained;
  }

  /** Drops unflushed output and refuses further flushes (the connection is gone). */
  close(): void {
    this.#closed = true;
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#segStart = this.#pos;
  }

  #seal(): void {
    if (this.#pos > this.#segStart) {
      this.#chunks.push(this.#slab.subarray(this.#segStart, this.#pos));
      this.#chunkBytes += this.#pos - this.#segStart;
      this.#segStart = this.#pos;
    }
  }

  /** Schedules a flush at the end of this tick even if nothing was written yet (beforeFlush). */
  schedule(): void {
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#scheduled && !this.#closed) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTask);
    }
  }
}
