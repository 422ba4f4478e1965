// What both ends of an HTTP/2 connection do alike (RFC 9113), whichever role they play: frame
// parsing and batched writing, the HPACK contexts, the peer's SETTINGS and their acknowledgement,
// connection-level flow control both ways, header blocks assembled from HEADERS + CONTINUATION,
// and the checks on every frame type's stream id and size. The client and server sessions each
// hold one core (composition) and hear, through their role, only what depends on the role: stream
// lookup and lifecycle, request or response semantics, abuse limits and errors.
import type { Clock, Timer } from '@trellis/time';
import {
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_WINDOW_SIZE,
  FrameFlag,
  FrameType,
  H2ErrorCode,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
  SettingId,
} from './constants.js';
import { DataSender } from './data-sender.js';
import { FrameParser, encodeSettings, readUInt31, unpaddedEnd } from './frame-codec.js';
import { FrameWriter } from './frame-writer.js';
import type { ByteSink } from './frame-writer.js';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';
import { PeerSettings } from './peer-settings.js';
import type { StreamBodyHandler, StreamCore } from './stream-core.js';

type AnyStream = StreamCore<StreamBodyHandler>;

/** The body of an empty DATA frame (END_STREAM alone is common): no view allocated for it. */
const NO_BODY = Buffer.alloc(0);

/** What the core asks of the session that plays a role (client or server) on the connection. */
export interface ConnectionRole<S extends AnyStream> {
  /** A connection error: GOAWAY with `h2Code`, then teardown. `abuse`: a limit was hit. */
  connectionError(h2Code: number, message: string, abuse?: boolean): void;
  /** A stream error: RST_STREAM with `h2Code`, the stream fails. */
  streamError(stream: S, h2Code: number, message: string): void;
  /**
   * The open stream a control frame (RST_STREAM, WINDOW_UPDATE) names, or undefined: ids the peer
   * may not use yet end the connection (via connectionError), closed ones are ignored.
   */
  streamFor(id: number, what: string): S | undefined;
  /**
   * DATA within the connection window, padding checked: `body` is the content (a view of the
   * received chunk), `length` the whole payload, padding included, as flow control counts it.
   */
  onData(flags: number, id: number, body: Buffer, length: number): void;
  /** A whole header block (HEADERS plus any CONTINUATION); `dependency` from a PRIORITY flag. */
  onHeaderBlock(id: number, block: Buffer, endStream: boolean, dependency: number): void;
  /** PRIORITY on a stream (not 0), payload unchecked. */
  onPriority(id: number, buf: Buffer, start: number, end: number): void;
  onRstStream(id: number, code: number): void;
  /** A non-ACK SETTINGS or PING is about to be answered; false: refused (the role closed). */
  answerControlFrame(): boolean;
  /** A WINDOW_UPDATE arrived; false: refused (the role closed the connection). */
  acceptWindowUpdate(): boolean;
  /** The peer's SETTINGS were applied and acknowledged; `windowDelta` moved every send window. */
  onSettings?(windowDelta: number): void;
  onPingAck(buf: Buffer, start: number): void;
  onGoaway(lastStreamId: number, code: number, buf: Buffer, start: number, end: number): void;
  /** The stream's send window grew: send what it may now. */
  sendMore(stream: S): void;
  /** END_STREAM went out for `stream` (DATA or trailers). */
  endSent(stream: S): void;
}

export interface ConnectionOptions {
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: the receive window of each stream. */
  readonly initialWindowSize: number;
  /** Our connection receive window (opened past 65 535 by a WINDOW_UPDATE after SETTINGS). */
  readonly connectionWindowSize: number;
  /** Our SETTINGS_MAX_FRAME_SIZE. */
  readonly maxFrameSize: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the decoding table. */
  readonly headerTableSize: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE. */
  readonly maxHeaderListSize: number;
  /** Cap on our encoder's dynamic table. */
  readonly encoderTableSize: number;
  readonly peerIsServer: boolean;
  /** Largest header block accepted before it is decoded (ENHANCE_YOUR_CALM beyond). */
  readonly maxHeaderBlockBytes: number;
  /** CONTINUATION frames one header block may take. */
  readonly maxContinuations: number;
  /** Our SETTINGS must be acknowledged within this (SETTINGS_TIMEOUT); 0: no bound. */
  readonly settingsTimeoutMs: number;
  readonly clock: Clock;
}

export class ConnectionCore<S extends AnyStream> {
  readonly writer: FrameWriter;
  readonly parser: FrameParser;
  readonly encoder: HpackEncoder;
  readonly decoder: HpackDecoder;
  readonly sender: DataSender<S>;
  readonly peer: PeerSettings;
  /** Open streams by id. */
  readonly streams = new Map<number, S>();
  /** Set once the connection is torn down: nothing more is credited or written. */
  closed = false;

  readonly #role: ConnectionRole<S>;
  readonly #options: ConnectionOptions;
  readonly #streamUpdateThreshold: number;
  /** What the peer may still send on the connection, and what it was sent but not credited. */
  #recvWindow: number;
  #recvUnacked = 0;
  #settingsTimer: Timer | null = null;
  /** The peer's first frame, its SETTINGS, arrived (RFC 9113 §3.4). */
  #prefaceSeen = false;

  // Header block being continued by CONTINUATION frames.
  #contStreamId = 0;
  #contEndStream = false;
  #contDependency = 0;
  #contFragments: Buffer[] = [];
  #contBytes = 0;

  constructor(sink: ByteSink, role: ConnectionRole<S>, options: ConnectionOptions) {
    this.#role = role;
    this.#options = options;
    this.#recvWindow = options.connectionWindowSize;
    this.#streamUpdateThreshold = Math.max(1, options.initialWindowSize >>> 1);
    this.peer = new PeerSettings(options.peerIsServer);
    this.encoder = new HpackEncoder(options.encoderTableSize);
    this.decoder = new HpackDecoder(options.headerTableSize);
    this.writer = new FrameWriter(sink, (drained) => this.sender.onFlushed(drained));
    this.sender = new DataSender<S>(this.writer, {
      writeTrailers: (s) => this.writeHeaders(s.id, s.trailers!, true),
      endSent: (s) => role.endSent(s),
    });
    this.parser = new FrameParser(
      {
        onFrame: (type, flags, id, buf, start, end) =>
          this.#onFrame(type, flags, id, buf, start, end),
        onFrameSizeError: (length, type) =>
          role.connectionError(
            H2ErrorCode.FRAME_SIZE_ERROR,
            `frame of ${length} bytes (type ${type}) exceeds SETTINGS_MAX_FRAME_SIZE`,
          ),
      },
      options.maxFrameSize,
    );
  }

  /**
   * Our SETTINGS (`first`: the role's own, then the ones both roles send), after `prefix` (the
   * client preface), and the WINDOW_UPDATE opening the connection window; starts the ACK timer.
   */
  writeSettings(prefix: Buffer | null, first: readonly [number, number]): void {
    const options = this.#options;
    const list: Array<readonly [number, number]> = [
      first,
      [SettingId.INITIAL_WINDOW_SIZE, options.initialWindowSize],
      [SettingId.MAX_HEADER_LIST_SIZE, options.maxHeaderListSize],
    ];
    if (options.maxFrameSize !== MIN_MAX_FRAME_SIZE) {
      list.push([SettingId.MAX_FRAME_SIZE, options.maxFrameSize]);
    }
    if (options.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) {
      list.push([SettingId.HEADER_TABLE_SIZE, options.headerTableSize]);
    }
    const settings = encodeSettings(list);
    this.writeRaw(prefix === null ? settings : Buffer.concat([prefix, settings]));
    if (options.connectionWindowSize > DEFAULT_WINDOW_SIZE) {
      this.writer.u32Frame(
        FrameType.WINDOW_UPDATE,
        0,
        options.connectionWindowSize - DEFAULT_WINDOW_SIZE,
      );
    }
    if (options.settingsTimeoutMs > 0) {
      this.#settingsTimer = options.clock.setTimer(options.settingsTimeoutMs, () => {
        this.#settingsTimer = null;
        this.#role.connectionError(
          H2ErrorCode.SETTINGS_TIMEOUT,
          `SETTINGS not acknowledged within ${options.settingsTimeoutMs} ms`,
        );
      });
    }
  }

  /** Bytes copied into the output as they are (preface, 101 response). */
  writeRaw(bytes: Buffer): void {
    const w = this.writer;
    const off = w.reserve(bytes.length);
    bytes.copy(w.buffer, off);
    w.commit(off + bytes.length);
  }

  writeHeaders(streamId: number, fields: readonly string[], endStream: boolean): void {
    this.writer.headers(this.encoder, streamId, fields, endStream, this.peer.maxFrameSize);
  }

  /** The session is gone: stops reading and writing, forgets waiting streams and timers. */
  close(): void {
    this.closed = true;
    this.parser.stop();
    this.writer.close();
    this.sender.clear();
    this.#settingsTimer?.cancel();
    this.#settingsTimer = null;
  }

  /** Applies the peer's SETTINGS (or HTTP2-Settings of an upgrade) to the encoder and sender. */
  applyPeerSettings(): void {
    const peer = this.peer;
    if (peer.lowestHeaderTableSize >= 0) {
      this.encoder.setPeerMaxTableSize(peer.lowestHeaderTableSize);
      this.encoder.setPeerMaxTableSize(peer.headerTableSize);
    }
    this.sender.maxFrameSize = peer.maxFrameSize;
  }

  /** Credits the connection window once half of it was consumed. */
  connectionConsumed(bytes: number): void {
    this.#recvUnacked += bytes;
    if (this.#recvUnacked >= this.#options.connectionWindowSize >>> 1 && !this.closed) {
      this.writer.u32Frame(FrameType.WINDOW_UPDATE, 0, this.#recvUnacked);
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
    }
  }

  /** Credits the stream window once half of it was consumed (unless paused or finished). */
  streamConsumed(s: S, bytes: number): void {
    s.recvUnacked += bytes;
    if (
      !s.paused &&
      !s.remoteEnded &&
      !s.closed &&
      s.recvUnacked >= this.#streamUpdateThreshold &&
      !this.closed
    ) {
      this.writer.u32Frame(FrameType.WINDOW_UPDATE, s.id, s.recvUnacked);
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  /**
   * The stream-level rules for a DATA frame of `length` bytes, `contentLength` of them body: it
   * must arrive before END_STREAM and within the stream window; padding is credited at once.
   * False when the stream failed.
   */
  acceptStreamData(s: S, length: number, contentLength: number): boolean {
    if (s.remoteEnded) {
      this.#role.streamError(s, H2ErrorCode.STREAM_CLOSED, 'DATA after END_STREAM');
      return false;
    }
    s.recvWindow -= length;
    if (s.recvWindow < 0) {
      this.#role.streamError(s, H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window exceeded');
      return false;
    }
    if (length > contentLength) this.streamConsumed(s, length - contentLength);
    return true;
  }

  // === receiving ===

  #onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#contStreamId !== 0 && type !== FrameType.CONTINUATION) {
      return this.#role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'expected CONTINUATION');
    }
    if (!this.#prefaceSeen) {
      if (type !== FrameType.SETTINGS || flags & FrameFlag.ACK) {
        const peer = this.#options.peerIsServer ? 'server' : 'client';
        return this.#role.connectionError(
          H2ErrorCode.PROTOCOL_ERROR,
          `${peer} preface is not SETTINGS`,
        );
      }
      this.#prefaceSeen = true;
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onData(flags, id, buf, start, end);
      case FrameType.HEADERS:
        return this.#onHeaders(flags, id, buf, start, end);
      case FrameType.PRIORITY:
        if (id === 0) {
          return this.#role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        }
        return this.#role.onPriority(id, buf, start, end);
      case FrameType.RST_STREAM:
        return this.#onRstStream(id, buf, start, end);
      case FrameType.SETTINGS:
        return this.#onSettings(flags, id, buf, start, end);
      case FrameType.PUSH_PROMISE:
        // We never enable push; a client may not push at all.
        return this.#role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE received');
      case FrameType.PING:
        return this.#onPing(flags, id, buf, start, end);
      case FrameType.GOAWAY:
        return this.#onGoaway(id, buf, start, end);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(id, buf, start, end);
      case FrameType.CONTINUATION:
        return this.#onContinuation(flags, id, buf, start, end);
      default:
        return; // unknown extension frames are ignored (RFC 9113 §4.1)
    }
  }

  #onData(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (id === 0) return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = end - start;
    this.#recvWindow -= length;
    if (this.#recvWindow < 0) {
      return role.connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window exceeded');
    }
    let contentStart = start;
    let contentEnd = end;
    if (flags & FrameFlag.PADDED) {
      contentEnd = unpaddedEnd(buf, start, end);
      if (contentEnd < 0) {
        return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'DATA padding too long');
      }
      contentStart = start + 1;
    }
    const body = contentEnd > contentStart ? buf.subarray(contentStart, contentEnd) : NO_BODY;
    role.onData(flags, id, body, length);
  }

  #onHeaders(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    // Both ends open streams with odd ids only: we never enable push.
    if (id === 0 || (id & 1) === 0) {
      return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${id}`);
    }
    let fragmentStart = start;
    let fragmentEnd = end;
    if (flags & FrameFlag.PADDED) {
      fragmentEnd = unpaddedEnd(buf, start, end);
      if (fragmentEnd < 0) {
        return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'HEADERS padding too long');
      }
      fragmentStart++;
    }
    let dependency = 0;
    if (flags & FrameFlag.PRIORITY) {
      if (fragmentStart + 5 > fragmentEnd) {
        return role.connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'HEADERS too short for priority');
      }
      dependency = readUInt31(buf, fragmentStart);
      fragmentStart += 5;
    }
    const fragment = buf.subarray(fragmentStart, fragmentEnd);
    const endStream = (flags & FrameFlag.END_STREAM) !== 0;
    if (flags & FrameFlag.END_HEADERS) {
      return role.onHeaderBlock(id, fragment, endStream, dependency);
    }
    this.#contStreamId = id;
    this.#contEndStream = endStream;
    this.#contDependency = dependency;
    this.#contFragments = [fragment];
    this.#contBytes = fragment.length;
  }

  #onContinuation(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (this.#contStreamId === 0 || id !== this.#contStreamId) {
      return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'unexpected CONTINUATION');
    }
    this.#contFragments.push(buf.subarray(start, end));
    this.#contBytes += end - start;
    if (
      this.#contBytes > this.#options.maxHeaderBlockBytes ||
      this.#contFragments.length > this.#options.maxContinuations
    ) {
      return role.connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'header block too large', true);
    }
    if ((flags & FrameFlag.END_HEADERS) === 0) return;
    const block = Buffer.concat(this.#contFragments, this.#contBytes);
    this.#contStreamId = 0;
    this.#contFragments = [];
    this.#contBytes = 0;
    role.onHeaderBlock(id, block, this.#contEndStream, this.#contDependency);
  }

  #onRstStream(id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (id === 0) return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (end - start !== 4) {
      return role.connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM size');
    }
    role.onRstStream(id, buf.readUInt32BE(start));
  }

  #onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (id !== 0) return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FrameFlag.ACK) {
      if (end !== start) {
        return role.connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with payload');
      }
      this.#settingsTimer?.cancel();
      this.#settingsTimer = null;
      return;
    }
    if (!role.answerControlFrame()) return;
    const previousWindow = this.peer.initialWindowSize;
    const violation = this.peer.apply(buf, start, end);
    if (violation !== null) return role.connectionError(violation.h2Code, violation.message);
    this.writer.frameHeader(0, FrameType.SETTINGS, FrameFlag.ACK, 0);
    this.applyPeerSettings();
    const delta = this.peer.initialWindowSize - previousWindow;
    if (delta !== 0) {
      for (const s of this.streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW_SIZE) {
          return role.connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window overflow');
        }
      }
    }
    role.onSettings?.(delta);
    if (delta > 0) {
      for (const s of [...this.streams.values()]) role.sendMore(s);
    }
  }

  #onPing(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (id !== 0) return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (end - start !== 8) return role.connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'PING size');
    if (flags & FrameFlag.ACK) return role.onPingAck(buf, start);
    if (role.answerControlFrame()) this.writer.ping(FrameFlag.ACK, buf, start);
  }

  #onGoaway(id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (id !== 0) return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (end - start < 8) return role.connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY size');
    role.onGoaway(readUInt31(buf, start), buf.readUInt32BE(start + 4), buf, start + 8, end);
  }

  #onWindowUpdate(id: number, buf: Buffer, start: number, end: number): void {
    const role = this.#role;
    if (end - start !== 4) {
      return role.connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE size');
    }
    if (!role.acceptWindowUpdate()) return;
    const increment = readUInt31(buf, start);
    if (id === 0) {
      if (increment === 0) {
        return role.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'connection WINDOW_UPDATE of 0');
      }
      if (!this.sender.addWindow(increment)) {
        role.connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window overflow');
      }
      return;
    }
    const s = role.streamFor(id, 'WINDOW_UPDATE');
    if (s === undefined) return;
    if (increment === 0) {
      return role.streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
    }
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW_SIZE) {
      return role.streamError(s, H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window overflow');
    }
    role.sendMore(s);
  }
}
