// HTTP/2 frame codec: an incremental parser that cuts frames out of a byte stream split at any
// chunk boundary, and serialisers for every frame the client sends. Frames that lie wholly inside
// one socket chunk are handed over as (buffer, start, end) ranges of that chunk, with no copy; only
// frames straddling chunks are assembled into a fresh buffer.
import { FRAME_HEADER_SIZE, FrameFlag, FrameType } from './constants.js';

/** Receives parsed frames. `payload[start, end)` is only valid during the call unless copied. */
export interface FrameSink {
  onFrame(
    type: number,
    flags: number,
    streamId: number,
    payload: Buffer,
    start: number,
    end: number,
  ): void;
  /** A frame header announced `length` > the parser's maxFrameSize; parsing has stopped. */
  onFrameSizeError(length: number, type: number, streamId: number): void;
}

export class FrameParser {
  /** Largest payload accepted: our SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize: number;
  readonly #sink: FrameSink;
  readonly #head = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  #headLen = 0;
  // Frame whose header is parsed but whose payload spans chunks.
  #body: Buffer | null = null;
  #bodyLen = 0;
  #type = 0;
  #flags = 0;
  #streamId = 0;
  #stopped = false;

  constructor(sink: FrameSink, maxFrameSize: number) {
    this.#sink = sink;
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#headLen + this.#bodyLen;
  }

  /** Stops parsing for good, including the rest of a chunk being parsed (the sink was torn down). */
  stop(): void {
    this.#stopped = true;
    this.#body = null;
  }

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    const len = chunk.length;
    let off = 0;
    if (this.#headLen > 0 || this.#body !== null) {
      off = this.#continuePartial(chunk);
      if (off < 0) return;
    }
    while (len - off >= FRAME_HEADER_SIZE) {
      const length = (chunk[off]! << 16) | (chunk[off + 1]! << 8) | chunk[off + 2]!;
      const type = chunk[off + 3]!;
      const flags = chunk[off + 4]!;
      const streamId = chunk.readUInt32BE(off + 5) & 0x7fff_ffff;
      if (length > this.maxFrameSize) {
        this.#stopped = true;
        this.#sink.onFrameSizeError(length, type, streamId);
        return;
      }
      const start = off + FRAME_HEADER_SIZE;
      if (len - start < length) {
        this.#type = type;
        this.#flags = flags;
        this.#streamId = streamId;
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyLen = chunk.copy(this.#body, 0, start, len);
        return;
      }
      off = start + length;
      this.#sink.onFrame(type, flags, streamId, chunk, start, off);
      if (this.#stopped) return;
    }
    if (off < len) this.#headLen = chunk.copy(this.#head, 0, off, len);
  }

  /** Completes a header and/or body carried over from earlier chunks; returns the new offset. */
  #continuePartial(chunk: Buffer): number {
    let off = 0;
    if (this.#body === null) {
      const need = FRAME_HEADER_SIZE - this.#headLen;
      const take = Math.min(need, chunk.length);
      chunk.copy(this.#head, this.#headLen, 0, take);
      this.#headLen += take;
      off = take;
      if (this.#headLen < FRAME_HEADER_SIZE) return -1;
      this.#headLen = 0;
      const head = this.#head;
      const length = (head[0]! << 16) | (head[1]! << 8) | head[2]!;
      this.#type = head[3]!;
      this.#flags = head[4]!;
      this.#streamId = head.readUInt32BE(5) & 0x7fff_ffff;
      if (length > this.maxFrameSize) {
        this.#stopped = true;
        this.#sink.onFrameSizeError(length, this.#type, this.#streamId);
        return -1;
      }
      this.#body = Buffer.allocUnsafe(length);
      this.#bodyLen = 0;
    }
    const body = this.#body;
    const take = Math.min(body.length - this.#bodyLen, chunk.length - off);
    chunk.copy(body, this.#bodyLen, off, off + take);
    this.#bodyLen += take;
    off += take;
    if (this.#bodyLen < body.length) return -1;
    this.#body = null;
    this.#bodyLen = 0;
    this.#sink.onFrame(this.#type, this.#flags, this.#streamId, body, 0, body.length);
    return this.#stopped ? -1 : off;
  }
}

// === serialisation ===

/** Writes a 9-byte frame header at `off`. */
export function writeFrameHeader(
  buf: Buffer,
  off: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  buf[off] = length >>> 16;
  buf[off + 1] = (length >>> 8) & 0xff;
  buf[off + 2] = length & 0xff;
  buf[off + 3] = type;
  buf[off + 4] = flags;
  buf.writeUInt32BE(streamId & 0x7fff_ffff, off + 5);
}

/** A whole frame in a new buffer (for rare frames; the hot path writes headers in place). */
export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = EMPTY,
): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  payload.copy(out, FRAME_HEADER_SIZE);
  return out;
}

const EMPTY = Buffer.alloc(0);

export function encodeSettings(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const payload = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export function encodeSettingsAck(): Buffer {
  return encodeFrame(FrameType.SETTINGS, FrameFlag.ACK, 0);
}

/** PING with an 8-byte opaque payload (copied). */
export function encodePing(opaque: Buffer, ack: boolean): Buffer {
  if (opaque.length !== 8) throw new RangeError('PING payload must be 8 bytes');
  return encodeFrame(FrameType.PING, ack ? FrameFlag.ACK : 0, 0, opaque);
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment & 0x7fff_ffff, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function encodeRstStream(streamId: number, errorCode: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(errorCode >>> 0, 0);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function encodeGoaway(
  lastStreamId: number,
  errorCode: number,
  debug: Buffer = EMPTY,
): Buffer {
  const payload = Buffer.allocUnsafe(8 + debug.length);
  payload.writeUInt32BE(lastStreamId & 0x7fff_ffff, 0);
  payload.writeUInt32BE(errorCode >>> 0, 4);
  debug.copy(payload, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

// === payload helpers ===

/** Reads a 31-bit value (stream id, window increment), ignoring the reserved high bit. */
export function readUInt31(buf: Buffer, off: number): number {
  return buf.readUInt32BE(off) & 0x7fff_ffff;
}

/**
 * For a PADDED frame whose payload is `buf[start, end)` (starting with the pad-length byte), the
 * end of the content before the padding, or -1 when the padding is longer than the payload
 * (a PROTOCOL_ERROR). The content starts at `start + 1`.
 */
export function unpaddedEnd(buf: Buffer, start: number, end: number): number {
  if (end - start < 1) return -1;
  const padLength = buf[start]!;
  const contentEnd = end - padLength;
  return contentEnd < start + 1 ? -1 : contentEnd;
}

/** SETTINGS payload as [id, value] pairs in wire order; the caller checks length % 6 first. */
export function decodeSettings(buf: Buffer, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let off = start; off + 6 <= end; off += 6) {
    out.push([buf.readUInt16BE(off), buf.readUInt32BE(off + 2)]);
  }
  return out;
}
