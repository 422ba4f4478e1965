// The server side of one HTTP/2 cleartext connection: client preface and SETTINGS exchange,
// request streams (RFC 9113 §5.1 states, HEADERS/CONTINUATION sequencing, request validation,
// concurrency and header-size limits), flow control both ways, PING, GOAWAY, idle close, abuse
// limits (rapid reset, control-frame floods) and connection errors answered with GOAWAY. All
// frames produced in one tick leave in one socket write (FrameWriter).
import type { Socket } from 'node:net';
import type { Timer } from '@trellis/time';
import {
  CLIENT_PREFACE,
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
import { H2Error, protocolError, streamResetError } from './errors.js';
import { FrameParser, encodeSettings, readUInt31, unpaddedEnd } from './frame-codec.js';
import { FrameWriter } from './frame-writer.js';
import { trailerFieldList } from './headers.js';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';
import { PeerSettings } from './peer-settings.js';
import type { SettingsViolation } from './peer-settings.js';
import type { ServerConfig } from './server-config.js';
import { receivedRequest } from './server-headers.js';
import type { ReceivedRequest } from './server-headers.js';
import { ServerStream } from './server-stream.js';
import type { ServerStreamHost } from './server-stream.js';

/** Client resets before a response head, on one connection, before rapid reset may apply. */
const PREMATURE_RESET_MIN = 100;
/** Non-ACK PING/SETTINGS, PRIORITY and empty DATA frames allowed, plus 10 per stream opened. */
const CHEAP_FRAME_BUDGET = 1_000;
/** Consecutive empty DATA frames without END_STREAM (they cost work, carry nothing). */
const MAX_EMPTY_DATA_RUN = 100;
/** Output the socket may hold unsent before answering more control frames counts as a flood. */
const MAX_UNSENT_CONTROL_BYTES = 1 << 20;
/** CONTINUATION frames one header block may take. */
const MAX_CONTINUATIONS = 128;
/**
 * Streams we reset recently, whose in-flight frames are ignored (RFC 9113 §5.1 "closed"); other
 * closed streams get STREAM_CLOSED. Looked up only for frames on streams we no longer hold.
 */
const RESET_MEMORY = 1_024;
/** After our GOAWAY or a connection error, how long the socket may linger before destroy. */
const LINGER_MS = 1_000;

const enum State {
  Open,
  /** GOAWAY sent or received: no new streams, open ones finish. */
  Draining,
  /** Our final GOAWAY is out, the socket is ending. */
  Closing,
  Closed,
}

/** The HTTP/1.1 request an `Upgrade: h2c` turned into stream 1 (RFC 7540 §3.2). */
export interface UpgradedRequest {
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  /** Regular fields for HTTP/2: lowercase names, connection-specific ones already removed. */
  readonly headers: string[];
  /** The decoded HTTP2-Settings payload. */
  readonly settings: Buffer;
}

/** What a session tells its server. */
export interface SessionOwner {
  sessionClosed(session: H2ServerSession): void;
}

const TOO_LARGE_BODY = Buffer.from('request header fields too large\n', 'latin1');

const SWITCHING_PROTOCOLS = Buffer.from(
  'HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n',
  'latin1',
);

export class H2ServerSession implements ServerStreamHost {
  readonly #socket: Socket;
  readonly #config: ServerConfig;
  readonly #owner: SessionOwner;
  readonly #remoteAddress: string;
  readonly #writer: FrameWriter;
  readonly #parser: FrameParser;
  readonly #encoder: HpackEncoder;
  readonly #decoder: HpackDecoder;
  readonly #sender: DataSender<ServerStream>;
  readonly #peer = new PeerSettings(false);

  #state = State.Open;
  /** Bytes of the client preface received so far (all 24 before any frame is parsed). */
  #prefaceMatched = 0;
  /** The client preface's SETTINGS arrived (HTTP2-Settings of an upgrade does not count). */
  #clientSettingsSeen = false;
  readonly #streams = new Map<number, ServerStream>();
  /** Highest stream id the client opened (processed or refused). */
  #lastStreamId = 0;
  /** Streams accepted in the chunk being parsed, handed to onStream once it is parsed. */
  #arrived: ServerStream[] = [];

  #recvWindow: number;
  #recvUnacked = 0;
  readonly #streamUpdateThreshold: number;

  #contStreamId = 0;
  #contEndStream = false;
  #contFragments: Buffer[] = [];
  #contBytes = 0;
  #contPriorityDep = 0;

  #streamsOpened = 0;
  #prematureResets = 0;
  #cheapFrames = 0;
  #emptyDataRun = 0;
  readonly #recentResets = new Int32Array(RESET_MEMORY);
  #recentResetNext = 0;

  #idleTimer: Timer | null = null;
  #idleSince = 0;
  #lingerTimer: Timer | null = null;

  constructor(
    socket: Socket,
    config: ServerConfig,
    owner: SessionOwner,
    alreadyRead: Buffer,
    upgrade?: UpgradedRequest,
  ) {
    this.#socket = socket;
    this.#config = config;
    this.#owner = owner;
    this.#remoteAddress = socket.remoteAddress ?? '';
    this.#recvWindow = config.connectionWindowSize;
    this.#streamUpdateThreshold = Math.max(1, config.initialWindowSize >>> 1);
    this.#encoder = new HpackEncoder(config.encoderTableSize);
    this.#decoder = new HpackDecoder(config.headerTableSize);
    this.#writer = new FrameWriter(socket, (drained) => this.#sender.onFlushed(drained));
    this.#sender = new DataSender<ServerStream>(this.#writer, {
      writeTrailers: (s) =>
        this.#writer.headers(this.#encoder, s.id, s.trailers!, true, this.#peer.maxFrameSize),
      endSent: (s) => this.#localEnded(s),
    });
    this.#writer.beforeFlush = () => this.#sender.runScheduled();
    this.#parser = new FrameParser(
      {
        onFrame: (type, flags, id, buf, start, end) =>
          this.#onFrame(type, flags, id, buf, start, end),
        onFrameSizeError: (length, type) =>
          this.#connectionError(
            H2ErrorCode.FRAME_SIZE_ERROR,
            `frame of ${length} bytes (type ${type}) exceeds SETTINGS_MAX_FRAME_SIZE`,
          ),
      },
      config.maxFrameSize,
    );

    socket.setNoDelay(true);
    socket.on('data', this.#onSocketData);
    socket.on('drain', this.#onSocketDrain);
    socket.on('error', this.#onSocketError);
    socket.on('end', this.#onSocketEnd);
    socket.on('close', this.#onSocketClose);
    // A socket handed over by the HTTP/1.1 server was paused explicitly.
    socket.resume();
    const violation = upgrade === undefined ? null : this.#acceptUpgrade(upgrade);
    this.#sendPreface();
    if (violation !== null) {
      this.#connectionError(violation.h2Code, `HTTP2-Settings: ${violation.message}`);
      return;
    }
    this.#dispatchArrived();
    this.#armIdle();
    if (alreadyRead.length > 0) this.#onSocketData(alreadyRead);
    if (socket.destroyed) queueMicrotask(() => this.#onSocketClose());
  }

  // === public API ===

  /** Streams open now (request or response still in progress). */
  get activeStreams(): number {
    return this.#streams.size;
  }

  get isClosed(): boolean {
    return this.#state === State.Closed;
  }

  /** Graceful close: GOAWAY with the last stream id, open streams finish, then the socket ends. */
  drain(): void {
    if (this.#state >= State.Closing) return;
    if (this.#state !== State.Draining) {
      this.#state = State.Draining;
      this.#writer.goaway(this.#lastStreamId, H2ErrorCode.NO_ERROR, '');
    }
    if (this.#streams.size === 0) this.#finish();
  }

  /** Immediate close: every open stream fails with TRL_H2_CONNECTION_CLOSED. */
  destroy(): void {
    if (this.#state === State.Closed) return;
    this.#teardown(new H2Error('TRL_H2_CONNECTION_CLOSED', 'session destroyed'));
    this.#socket.destroy();
  }

  // === ServerStreamHost ===

  sendHead(s: ServerStream, fields: readonly string[], endStream: boolean): void {
    if (this.#state === State.Closed) return;
    this.#writer.headers(this.#encoder, s.id, fields, endStream, this.#peer.maxFrameSize);
    if (endStream) {
      s.endSent = true;
      this.#localEnded(s);
    }
  }

  flushStream(s: ServerStream): void {
    if (s.headSent && !s.closed && this.#state !== State.Closed) this.#sender.schedule(s);
  }

  resetStream(s: ServerStream, code: number): void {
    if (s.closed || this.#state === State.Closed) return;
    this.#writeReset(s.id, code);
    this.#closeStream(s);
  }

  /**
   * Credits the connection window for consumed bytes, and the stream window once half of it was
   * consumed (unless paused or finished).
   */
  consumed(s: ServerStream, bytes: number): void {
    // A closed stream's held bytes were credited to the connection when it closed.
    if (bytes > 0 && !s.closed) this.#connectionConsumed(bytes);
    s.recvUnacked += bytes;
    if (
      !s.paused &&
      !s.remoteEnded &&
      !s.closed &&
      s.recvUnacked >= this.#streamUpdateThreshold &&
      this.#state !== State.Closed
    ) {
      this.#writer.u32Frame(FrameType.WINDOW_UPDATE, s.id, s.recvUnacked);
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  // === stream lifecycle ===

  /** Our END_STREAM went out: the stream closes, or the client is asked to stop sending. */
  #localEnded(s: ServerStream): void {
    if (s.remoteEnded) {
      this.#closeStream(s);
      return;
    }
    // A complete response before the whole request: RST_STREAM NO_ERROR tells the client to
    // stop sending the body (RFC 9113 §8.1); the consumer's body reader hears it was cut.
    this.#writeReset(s.id, H2ErrorCode.NO_ERROR);
    this.#closeStream(s);
    s.fail(streamResetError(s.id, H2ErrorCode.NO_ERROR, 'client'));
  }

  #remoteEnded(s: ServerStream, trailers: string[] | null): void {
    s.remoteEnded = true;
    if (s.endSent) this.#closeStream(s);
    if (trailers !== null) s.deliverTrailers(trailers);
    s.deliverEnd();
  }

  #closeStream(s: ServerStream): void {
    if (s.closed) return;
    s.closed = true;
    this.#streams.delete(s.id);
    if (s.heldBytes > 0) {
      this.#connectionConsumed(s.heldBytes);
      s.heldBytes = 0;
    }
    if (this.#state === State.Closed) return;
    if (this.#streams.size === 0) {
      if (this.#state === State.Draining) this.#finish();
      else this.#armIdle();
    }
  }

  /** Stream-level error: RST_STREAM to the client, typed error to the consumer. */
  #streamError(s: ServerStream, h2Code: number, message: string): void {
    this.#writeReset(s.id, h2Code);
    this.#closeStream(s);
    const error = protocolError(`stream ${s.id}: ${message}`, h2Code);
    this.#config.onClientError?.(error, this.#remoteAddress);
    s.fail(error);
  }

  /** RST_STREAM for a stream we hold no object for (refused, malformed, closed). */
  #refuseStream(id: number, h2Code: number, message: string): void {
    this.#writeReset(id, h2Code);
    if (h2Code !== H2ErrorCode.REFUSED_STREAM) {
      this.#config.onClientError?.(
        protocolError(`stream ${id}: ${message}`, h2Code),
        this.#remoteAddress,
      );
    }
  }

  #writeReset(id: number, code: number): void {
    this.#writer.u32Frame(FrameType.RST_STREAM, id, code);
    this.#recentResets[this.#recentResetNext] = id;
    this.#recentResetNext = (this.#recentResetNext + 1) % RESET_MEMORY;
  }

  #recentlyReset(id: number): boolean {
    return this.#recentResets.includes(id);
  }

  #dispatchArrived(): void {
    const arrived = this.#arrived;
    if (arrived.length === 0) return;
    this.#arrived = [];
    for (const s of arrived) {
      // Reset by the client in the same read: never handed over, nothing starts upstream.
      if (!s.terminated && this.#state !== State.Closed) this.#config.onStream(s);
    }
  }

  /** No streams left while draining: the final bytes go out and the socket ends. */
  #finish(): void {
    if (this.#state >= State.Closing) return;
    this.#state = State.Closing;
    this.#cancelIdle();
    this.#writer.flush();
    // Nothing more is read or written: what the client still sends is dropped.
    this.#parser.stop();
    this.#writer.close();
    this.#endSocket();
  }

  /** FIN after what is queued; the peer gets LINGER_MS to close before the socket is destroyed. */
  #endSocket(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.end();
    this.#lingerTimer ??= this.#config.clock.setTimer(LINGER_MS, () => socket.destroy());
  }

  #teardown(error: H2Error): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#parser.stop();
    this.#writer.close();
    this.#sender.clear();
    this.#cancelIdle();
    this.#lingerTimer?.cancel();
    this.#lingerTimer = null;
    const open = [...this.#streams.values()];
    this.#streams.clear();
    this.#arrived = [];
    for (const s of open) {
      s.closed = true;
      s.fail(error);
    }
    this.#owner.sessionClosed(this);
  }

  /** Connection error: GOAWAY with `h2Code` and the last stream id, then the socket closes. */
  #connectionError(h2Code: number, message: string, abuse = false): void {
    if (this.#state >= State.Closing) return;
    this.#writer.goaway(this.#lastStreamId, h2Code, message);
    this.#writer.flush();
    const error = abuse
      ? new H2Error('TRL_H2_ABUSE', message, { h2Code })
      : protocolError(message, h2Code);
    this.#config.onClientError?.(error, this.#remoteAddress);
    this.#teardown(error);
    this.#endSocket();
  }

  // === sending ===

  #sendPreface(): void {
    const config = this.#config;
    const list: Array<[number, number]> = [
      [SettingId.MAX_CONCURRENT_STREAMS, config.maxConcurrentStreams],
      [SettingId.INITIAL_WINDOW_SIZE, config.initialWindowSize],
      [SettingId.MAX_HEADER_LIST_SIZE, config.maxHeaderListSize],
    ];
    if (config.maxFrameSize !== MIN_MAX_FRAME_SIZE) {
      list.push([SettingId.MAX_FRAME_SIZE, config.maxFrameSize]);
    }
    if (config.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) {
      list.push([SettingId.HEADER_TABLE_SIZE, config.headerTableSize]);
    }
    const settings = encodeSettings(list);
    const w = this.#writer;
    const off = w.reserve(settings.length);
    settings.copy(w.buffer, off);
    w.commit(off + settings.length);
    if (config.connectionWindowSize > DEFAULT_WINDOW_SIZE) {
      w.u32Frame(FrameType.WINDOW_UPDATE, 0, config.connectionWindowSize - DEFAULT_WINDOW_SIZE);
    }
  }

  /**
   * 101, then stream 1 carries the upgraded request, half-closed (remote). Returns the
   * HTTP2-Settings violation that must end the connection, if any.
   */
  #acceptUpgrade(upgrade: UpgradedRequest): SettingsViolation | null {
    const w = this.#writer;
    const off = w.reserve(SWITCHING_PROTOCOLS.length);
    SWITCHING_PROTOCOLS.copy(w.buffer, off);
    w.commit(off + SWITCHING_PROTOCOLS.length);
    // The HTTP2-Settings values apply as if sent in SETTINGS; the 101 acknowledges them.
    const violation = this.#peer.apply(upgrade.settings, 0, upgrade.settings.length);
    if (violation !== null) return violation;
    this.#applyPeerSettings();
    this.#lastStreamId = 1;
    this.#openStream(
      1,
      {
        method: upgrade.method,
        scheme: 'http',
        authority: upgrade.authority,
        path: upgrade.path,
        headers: upgrade.headers,
        contentLength: -1,
      },
      true,
    );
    return null;
  }

  #openStream(id: number, request: ReceivedRequest, endStream: boolean): void {
    const s = new ServerStream(
      this,
      request,
      !endStream,
      this.#remoteAddress,
      this.#config.streamHighWaterMark,
    );
    s.id = id;
    s.host = this;
    s.sendWindow = this.#peer.initialWindowSize;
    s.recvWindow = this.#config.initialWindowSize;
    s.remoteEnded = endStream;
    if (endStream) s.inboxEnd = true;
    this.#streams.set(id, s);
    this.#streamsOpened++;
    this.#arrived.push(s);
  }

  /** Answers a request head over the limits with 431, in the consumer's stead. */
  #refuseHeadersTooLarge(id: number, endStream: boolean): void {
    this.#config.onClientError?.(
      new H2Error('TRL_H2_PROTOCOL_ERROR', `stream ${id}: request header list too large`, {
        h2Code: H2ErrorCode.NO_ERROR,
      }),
      this.#remoteAddress,
    );
    // The body goes only if both send windows can take it (a stream window may even be 0).
    const sendBody =
      this.#peer.initialWindowSize >= TOO_LARGE_BODY.length &&
      this.#sender.window >= TOO_LARGE_BODY.length;
    const fields = [
      ':status',
      '431',
      'content-type',
      'text/plain',
      'content-length',
      sendBody ? String(TOO_LARGE_BODY.length) : '0',
      'x-trellis-error',
      'headers-too-large',
    ];
    this.#writer.headers(this.#encoder, id, fields, !sendBody, this.#peer.maxFrameSize);
    if (sendBody) {
      this.#sender.window -= TOO_LARGE_BODY.length;
      this.#writer.frame(FrameType.DATA, FrameFlag.END_STREAM, id, TOO_LARGE_BODY);
    }
    if (!endStream) this.#writeReset(id, H2ErrorCode.NO_ERROR);
  }

  // === receiving ===

  readonly #onSocketData = (chunk: Buffer): void => {
    if (this.#prefaceMatched < CLIENT_PREFACE.length) {
      const used = this.#matchPreface(chunk);
      if (used < 0) return;
      if (used === chunk.length) return;
      chunk = chunk.subarray(used);
    }
    try {
      this.#parser.push(chunk);
      this.#dispatchArrived();
    } catch (err) {
      // A handler threw mid-chunk: the rest of the chunk is lost, so the connection is unusable.
      this.destroy();
      throw err;
    }
  };

  /** Bytes of `chunk` taken by the preface, or -1 (incomplete, or wrong: connection closed). */
  #matchPreface(chunk: Buffer): number {
    const need = CLIENT_PREFACE.length - this.#prefaceMatched;
    const n = Math.min(need, chunk.length);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== CLIENT_PREFACE[this.#prefaceMatched + i]) {
        this.#prefaceMatched = CLIENT_PREFACE.length;
        this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'invalid connection preface');
        return -1;
      }
    }
    this.#prefaceMatched += n;
    return this.#prefaceMatched < CLIENT_PREFACE.length ? -1 : n;
  }

  readonly #onSocketDrain = (): void => this.#sender.onSocketDrain();

  readonly #onSocketError = (): void => {
    // 'close' follows and tears the session down.
  };

  readonly #onSocketEnd = (): void => {
    // The client is done sending: nothing more can arrive, so nothing more can be answered.
    if (this.#state >= State.Closing) this.#socket.destroy();
    else this.destroy();
  };

  readonly #onSocketClose = (): void => {
    this.#lingerTimer?.cancel();
    this.#lingerTimer = null;
    this.#teardown(new H2Error('TRL_H2_CONNECTION_CLOSED', 'connection closed'));
  };

  #onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#contStreamId !== 0 && type !== FrameType.CONTINUATION) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'expected CONTINUATION');
    }
    if (!this.#clientSettingsSeen) {
      if (type !== FrameType.SETTINGS || flags & FrameFlag.ACK) {
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'client preface is not SETTINGS');
      }
      this.#clientSettingsSeen = true;
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onData(flags, id, buf, start, end);
      case FrameType.HEADERS:
        return this.#onHeaders(flags, id, buf, start, end);
      case FrameType.PRIORITY:
        return this.#onPriority(id, buf, start, end);
      case FrameType.RST_STREAM:
        return this.#onRstStream(id, buf, start, end);
      case FrameType.SETTINGS:
        return this.#onSettings(flags, id, buf, start, end);
      case FrameType.PUSH_PROMISE:
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      case FrameType.PING:
        return this.#onPing(flags, id, buf, start, end);
      case FrameType.GOAWAY:
        return this.#onGoaway(id, end - start);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(id, buf, start, end);
      case FrameType.CONTINUATION:
        return this.#onContinuation(flags, id, buf, start, end);
      default:
        return; // unknown extension frames are ignored (RFC 9113 §4.1)
    }
  }

  /** Counts a frame that costs us work but carries no request; false once the budget is spent. */
  #cheapFrame(): boolean {
    if (++this.#cheapFrames <= CHEAP_FRAME_BUDGET + 10 * this.#streamsOpened) return true;
    this.#connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'control frame flood', true);
    return false;
  }

  /** A client that makes us answer while not reading the answers is flooding. */
  #outputBacklogged(): boolean {
    if (this.#socket.writableLength + this.#writer.pendingBytes <= MAX_UNSENT_CONTROL_BYTES) {
      return false;
    }
    this.#connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'client does not read its answers', true);
    return true;
  }

  /** A frame on a stream that is not open: idle ids kill the connection, closed ones are per §5.1. */
  #notOpen(id: number, what: string): void {
    if (id > this.#lastStreamId) {
      this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${id}`);
    } else if (!this.#recentlyReset(id)) {
      this.#refuseStream(id, H2ErrorCode.STREAM_CLOSED, `${what} on closed stream`);
    }
  }

  /**
   * Credits the connection window once half of it was consumed. Bytes held for a paused stream
   * count only when taken (or dropped with their stream): all the streams of a connection
   * together never hold more than the connection window, whatever the client opens.
   */
  #connectionConsumed(bytes: number): void {
    this.#recvUnacked += bytes;
    if (
      this.#recvUnacked >= this.#config.connectionWindowSize >>> 1 &&
      this.#state !== State.Closed
    ) {
      this.#writer.u32Frame(FrameType.WINDOW_UPDATE, 0, this.#recvUnacked);
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
    }
  }

  #onData(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = end - start;
    this.#recvWindow -= length;
    if (this.#recvWindow < 0) {
      return this.#connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window exceeded');
    }
    const endStream = (flags & FrameFlag.END_STREAM) !== 0;
    if (length === 0 && !endStream) {
      if (++this.#emptyDataRun > MAX_EMPTY_DATA_RUN) {
        return this.#connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'empty DATA flood', true);
      }
    } else {
      this.#emptyDataRun = 0;
    }
    let contentStart = start;
    let contentEnd = end;
    if (flags & FrameFlag.PADDED) {
      contentEnd = unpaddedEnd(buf, start, end);
      if (contentEnd < 0) {
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'DATA padding too long');
      }
      contentStart = start + 1;
    }
    const s = this.#streams.get(id);
    // Frames nobody takes are consumed at once, as far as the connection window goes.
    if (s === undefined || s.remoteEnded || s.recvWindow < length) this.#connectionConsumed(length);
    if (s === undefined) return this.#notOpen(id, 'DATA');
    if (s.remoteEnded) {
      return this.#streamError(s, H2ErrorCode.STREAM_CLOSED, 'DATA after END_STREAM');
    }
    s.recvWindow -= length;
    if (s.recvWindow < 0) {
      return this.#streamError(s, H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window exceeded');
    }
    const padding = length - (contentEnd - contentStart);
    if (padding > 0) this.consumed(s, padding);
    const n = contentEnd - contentStart;
    s.receivedBytes += n;
    if (s.contentLength >= 0 && s.receivedBytes > s.contentLength) {
      this.#connectionConsumed(n);
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA beyond content-length');
    }
    if (n > 0) {
      if (s.deliverData(buf.subarray(contentStart, contentEnd))) this.consumed(s, n);
      else if (s.terminated) this.#connectionConsumed(n);
    }
    if (endStream && !s.closed && this.#state !== State.Closed) {
      if (s.contentLength >= 0 && s.receivedBytes !== s.contentLength) {
        return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA shorter than content-length');
      }
      this.#remoteEnded(s, null);
    }
  }

  #onHeaders(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0 || (id & 1) === 0) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${id}`);
    }
    let fragmentStart = start;
    let fragmentEnd = end;
    if (flags & FrameFlag.PADDED) {
      fragmentEnd = unpaddedEnd(buf, start, end);
      if (fragmentEnd < 0) {
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'HEADERS padding too long');
      }
      fragmentStart++;
    }
    let dependency = 0;
    if (flags & FrameFlag.PRIORITY) {
      if (fragmentStart + 5 > fragmentEnd) {
        return this.#connectionError(
          H2ErrorCode.FRAME_SIZE_ERROR,
          'HEADERS too short for priority',
        );
      }
      dependency = readUInt31(buf, fragmentStart);
      fragmentStart += 5;
    }
    const fragment = buf.subarray(fragmentStart, fragmentEnd);
    const endStream = (flags & FrameFlag.END_STREAM) !== 0;
    if (flags & FrameFlag.END_HEADERS) {
      return this.#onHeaderBlock(id, fragment, endStream, dependency);
    }
    this.#contStreamId = id;
    this.#contEndStream = endStream;
    this.#contPriorityDep = dependency;
    this.#contFragments = [fragment];
    this.#contBytes = fragment.length;
  }

  #onContinuation(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#contStreamId === 0 || id !== this.#contStreamId) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'unexpected CONTINUATION');
    }
    this.#contFragments.push(buf.subarray(start, end));
    this.#contBytes += end - start;
    if (
      this.#contBytes > 2 * this.#config.maxHeaderListSize + MIN_MAX_FRAME_SIZE ||
      this.#contFragments.length > MAX_CONTINUATIONS
    ) {
      return this.#connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'header block too large', true);
    }
    if ((flags & FrameFlag.END_HEADERS) === 0) return;
    const block = Buffer.concat(this.#contFragments, this.#contBytes);
    this.#contStreamId = 0;
    this.#contFragments = [];
    this.#contBytes = 0;
    this.#onHeaderBlock(id, block, this.#contEndStream, this.#contPriorityDep);
  }

  #onHeaderBlock(id: number, block: Buffer, endStream: boolean, dependency: number): void {
    // Decode first, whatever the stream's state: the HPACK table is shared by the connection.
    const fields: string[] = [];
    let listSize: number;
    try {
      listSize = this.#decoder.decode(block, fields);
    } catch (err) {
      return this.#connectionError(H2ErrorCode.COMPRESSION_ERROR, (err as Error).message);
    }
    const tooLarge =
      listSize > this.#config.maxHeaderListSize ||
      fields.length > 2 * this.#config.maxHeaderCount + 8;
    const s = this.#streams.get(id);
    if (s !== undefined) {
      if (s.remoteEnded) {
        return this.#streamError(s, H2ErrorCode.STREAM_CLOSED, 'HEADERS after END_STREAM');
      }
      if (dependency === id) {
        return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'stream depends on itself');
      }
      return this.#onTrailers(s, fields, endStream, tooLarge);
    }
    if (id <= this.#lastStreamId) {
      if (this.#recentlyReset(id)) return;
      return this.#connectionError(H2ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
    }
    this.#lastStreamId = id;
    if (dependency === id) {
      return this.#refuseStream(id, H2ErrorCode.PROTOCOL_ERROR, 'stream depends on itself');
    }
    if (this.#state !== State.Open || this.#streams.size >= this.#config.maxConcurrentStreams) {
      return this.#refuseStream(id, H2ErrorCode.REFUSED_STREAM, 'refused');
    }
    if (tooLarge) return this.#refuseHeadersTooLarge(id, endStream);
    let request: ReceivedRequest;
    try {
      request = receivedRequest(fields, endStream);
    } catch (err) {
      return this.#refuseStream(id, H2ErrorCode.PROTOCOL_ERROR, (err as Error).message);
    }
    if (request.headers.length > 2 * this.#config.maxHeaderCount) {
      return this.#refuseHeadersTooLarge(id, endStream);
    }
    this.#openStream(id, request, endStream);
  }

  #onTrailers(s: ServerStream, fields: string[], endStream: boolean, tooLarge: boolean): void {
    if (!endStream) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'trailers without END_STREAM');
    }
    if (tooLarge || fields.length > 2 * this.#config.maxHeaderCount) {
      return this.#streamError(s, H2ErrorCode.ENHANCE_YOUR_CALM, 'trailers too large');
    }
    try {
      trailerFieldList(fields);
    } catch (err) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, (err as Error).message);
    }
    if (s.contentLength >= 0 && s.receivedBytes !== s.contentLength) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA shorter than content-length');
    }
    this.#remoteEnded(s, fields);
  }

  #onPriority(id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
    if (!this.#cheapFrame()) return;
    if (end - start !== 5) {
      const s = this.#streams.get(id);
      if (s !== undefined) this.#streamError(s, H2ErrorCode.FRAME_SIZE_ERROR, 'PRIORITY size');
      else this.#refuseStream(id, H2ErrorCode.FRAME_SIZE_ERROR, 'PRIORITY size');
      return;
    }
    if (readUInt31(buf, start) === id) {
      const s = this.#streams.get(id);
      if (s !== undefined)
        this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'stream depends on itself');
      else this.#refuseStream(id, H2ErrorCode.PROTOCOL_ERROR, 'stream depends on itself');
    }
    // Otherwise accepted and ignored: RFC 9113 deprecated the priority tree.
  }

  #onRstStream(id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    }
    if (end - start !== 4) {
      return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM size');
    }
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (id > this.#lastStreamId) {
        this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      }
      return;
    }
    const code = buf.readUInt32BE(start);
    this.#closeStream(s);
    s.fail(streamResetError(id, code, 'client'));
    if (!s.headSent) this.#countPrematureReset();
  }

  /**
   * Rapid reset (CVE-2023-44487): a client that opens streams and resets them at once makes us
   * start work for each at no cost to itself. A connection on which most streams end in a client
   * reset before their response started is closed with GOAWAY ENHANCE_YOUR_CALM, as Envoy does.
   */
  #countPrematureReset(): void {
    this.#prematureResets++;
    if (
      this.#prematureResets >= PREMATURE_RESET_MIN &&
      this.#prematureResets * 2 > this.#streamsOpened
    ) {
      this.#connectionError(
        H2ErrorCode.ENHANCE_YOUR_CALM,
        'rapid reset: most streams reset by the client',
        true,
      );
    }
  }

  #onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FrameFlag.ACK) {
      if (end !== start) {
        this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with payload');
      }
      return;
    }
    if (!this.#cheapFrame() || this.#outputBacklogged()) return;
    const previousWindow = this.#peer.initialWindowSize;
    const violation = this.#peer.apply(buf, start, end);
    if (violation !== null) return this.#connectionError(violation.h2Code, violation.message);
    this.#writer.frameHeader(0, FrameType.SETTINGS, FrameFlag.ACK, 0);
    this.#applyPeerSettings();
    const delta = this.#peer.initialWindowSize - previousWindow;
    if (delta === 0) return;
    for (const s of this.#streams.values()) {
      s.sendWindow += delta;
      if (s.sendWindow > MAX_WINDOW_SIZE) {
        return this.#connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window overflow');
      }
    }
    if (delta > 0) {
      for (const s of [...this.#streams.values()]) this.flushStream(s);
    }
  }

  #applyPeerSettings(): void {
    const peer = this.#peer;
    if (peer.lowestHeaderTableSize >= 0) {
      this.#encoder.setPeerMaxTableSize(peer.lowestHeaderTableSize);
      this.#encoder.setPeerMaxTableSize(peer.headerTableSize);
    }
    this.#sender.maxFrameSize = peer.maxFrameSize;
  }

  #onPing(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (end - start !== 8) return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'PING size');
    if (flags & FrameFlag.ACK) return;
    if (!this.#cheapFrame() || this.#outputBacklogged()) return;
    this.#writer.ping(FrameFlag.ACK, buf, start);
  }

  #onGoaway(id: number, length: number): void {
    if (id !== 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (length < 8) return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY size');
    // The client opens no more streams; the open ones finish, then the connection closes.
    if (this.#state === State.Open) this.#state = State.Draining;
    if (this.#state === State.Draining && this.#streams.size === 0) this.#finish();
  }

  #onWindowUpdate(id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) {
      return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE size');
    }
    const increment = readUInt31(buf, start);
    if (id === 0) {
      if (increment === 0) {
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'connection WINDOW_UPDATE of 0');
      }
      if (!this.#sender.addWindow(increment)) {
        this.#connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window overflow');
      }
      return;
    }
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (id > this.#lastStreamId) {
        this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      }
      return;
    }
    if (increment === 0) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
    }
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW_SIZE) {
      return this.#streamError(s, H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window overflow');
    }
    this.flushStream(s);
  }

  // === idle timeout ===

  #armIdle(): void {
    if (this.#config.idleTimeoutMs <= 0 || this.#streams.size > 0) return;
    this.#idleSince = this.#config.clock.now();
    if (this.#idleTimer === null) this.#scheduleIdleCheck(this.#config.idleTimeoutMs);
  }

  // One coarse timer per session: becoming idle only records the time, the timer re-arms itself
  // for the remainder instead of being cancelled and recreated per request.
  #scheduleIdleCheck(delayMs: number): void {
    this.#idleTimer = this.#config.clock.setTimer(delayMs, () => {
      this.#idleTimer = null;
      if (this.#state >= State.Closing || this.#streams.size > 0) return;
      const idleFor = this.#config.clock.now() - this.#idleSince;
      if (idleFor >= this.#config.idleTimeoutMs) this.drain();
      else this.#scheduleIdleCheck(this.#config.idleTimeoutMs - idleFor);
    });
  }

  #cancelIdle(): void {
    this.#idleTimer?.cancel();
    this.#idleTimer = null;
  }
}
