// The server side of one HTTP/2 cleartext connection: the client preface, request streams (RFC
// 9113 §5.1 states, request validation, concurrency and header-size limits), body flow control
// credited as the consumer reads, the two-phase GOAWAY drain, idle close, abuse limits (rapid
// reset, control-frame and WINDOW_UPDATE floods) and connection errors answered with GOAWAY. What
// any HTTP/2 endpoint does (frame checks, SETTINGS, PING, windows) is the ConnectionCore's.
import type { Socket } from 'node:net';
import type { Timer } from '@trellis/time';
import {
  CLIENT_PREFACE,
  FrameFlag,
  FrameType,
  H2ErrorCode,
  MAX_STREAM_ID,
  MIN_MAX_FRAME_SIZE,
  SettingId,
} from './constants.js';
import { ConnectionCore } from './connection-core.js';
import type { ConnectionRole } from './connection-core.js';
import { H2Error, protocolError, streamResetError } from './errors.js';
import { readUInt31 } from './frame-codec.js';
import { trailerFieldList } from './headers.js';
import { IdleTimer } from './idle-timer.js';
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
/** WINDOW_UPDATE frames allowed, plus 10 per stream opened and 10 per DATA frame we sent. */
const WINDOW_UPDATE_BUDGET = 1_000;
/** Longest wait for the PING round trip between the two GOAWAYs of a drain. */
const DRAIN_RTT_BOUND_MS = 1_000;
/** Payload of the PING that measures the round trip of a drain's first GOAWAY. */
const DRAIN_PING = Buffer.from('trlDrain', 'latin1');
/**
 * Streams we reset recently, whose in-flight frames are ignored (RFC 9113 §5.1 "closed"); other
 * closed streams get STREAM_CLOSED. Looked up only for frames on streams we no longer hold.
 */
const RESET_MEMORY = 1_024;
/** After our GOAWAY or a connection error, how long the socket may linger before destroy. */
const LINGER_MS = 1_000;

const enum State {
  Open,
  /**
   * First GOAWAY (last stream id 2^31-1) and a PING sent: streams the client opened before it
   * saw the GOAWAY are still taken, until the PING comes back (or DRAIN_RTT_BOUND_MS passed).
   */
  Announced,
  /** Final GOAWAY sent or the client's received: no new streams, open ones finish. */
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

export class H2ServerSession implements ServerStreamHost, ConnectionRole<ServerStream> {
  readonly #socket: Socket;
  readonly #config: ServerConfig;
  readonly #owner: SessionOwner;
  readonly #remoteAddress: string;
  readonly #core: ConnectionCore<ServerStream>;
  /** The core's open streams. */
  readonly #streams: Map<number, ServerStream>;
  readonly #idle: IdleTimer;

  #state = State.Open;
  /** Bytes of the client preface received so far (all 24 before any frame is parsed). */
  #prefaceMatched = 0;
  /** Highest stream id the client opened (processed or refused). */
  #lastStreamId = 0;
  /** Streams accepted in the chunk being parsed, handed to onStream once it is parsed. */
  #arrived: ServerStream[] = [];

  #streamsOpened = 0;
  #prematureResets = 0;
  #cheapFrames = 0;
  #emptyDataRun = 0;
  #windowUpdates = 0;
  readonly #recentResets = new Int32Array(RESET_MEMORY);
  #recentResetNext = 0;

  #drainTimer: Timer | null = null;
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
    this.#core = new ConnectionCore<ServerStream>(socket, this, {
      ...config,
      peerIsServer: false,
      maxHeaderBlockBytes: 2 * config.maxHeaderListSize + MIN_MAX_FRAME_SIZE,
      maxContinuations: MAX_CONTINUATIONS,
    });
    this.#streams = this.#core.streams;
    this.#core.writer.beforeFlush = () => this.#core.sender.runScheduled();
    this.#idle = new IdleTimer(
      config.clock,
      config.idleTimeoutMs,
      () => this.#state === State.Open && this.#streams.size === 0,
      () => this.drain(),
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
    this.#core.writeSettings(null, [SettingId.MAX_CONCURRENT_STREAMS, config.maxConcurrentStreams]);
    if (violation !== null) {
      this.connectionError(violation.h2Code, `HTTP2-Settings: ${violation.message}`);
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

  /**
   * Graceful close in two phases, as nghttp2 and Envoy do: a GOAWAY with last-stream-id 2^31-1
   * and a PING; streams the client opens until the PING comes back (one round trip, at most
   * DRAIN_RTT_BOUND_MS) are still served. Then the final GOAWAY names the last stream taken, open
   * streams finish, and the socket ends.
   */
  drain(): void {
    if (this.#state === State.Open) {
      this.#state = State.Announced;
      this.#idle.cancel();
      this.#core.writer.goaway(MAX_STREAM_ID, H2ErrorCode.NO_ERROR, '');
      this.#core.writer.ping(0, DRAIN_PING, 0);
      this.#drainTimer = this.#config.clock.setTimer(DRAIN_RTT_BOUND_MS, () => {
        this.#drainTimer = null;
        this.#finalGoaway();
      });
      return;
    }
    if (this.#state === State.Draining && this.#streams.size === 0) this.#finish();
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
    this.#core.writeHeaders(s.id, fields, endStream);
    if (endStream) {
      s.endSent = true;
      this.endSent(s);
    }
  }

  flushStream(s: ServerStream): void {
    if (s.headSent && !s.closed && this.#state !== State.Closed) this.#core.sender.schedule(s);
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
    if (bytes > 0 && !s.closed) this.#core.connectionConsumed(bytes);
    this.#core.streamConsumed(s, bytes);
  }

  // === ConnectionRole ===

  /** Our END_STREAM went out: the stream closes, or the client is asked to stop sending. */
  endSent(s: ServerStream): void {
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

  sendMore(s: ServerStream): void {
    this.flushStream(s);
  }

  /** Stream-level error: RST_STREAM to the client, typed error to the consumer. */
  streamError(s: ServerStream, h2Code: number, message: string): void {
    this.#writeReset(s.id, h2Code);
    this.#closeStream(s);
    const error = protocolError(`stream ${s.id}: ${message}`, h2Code);
    this.#config.onClientError?.(error, this.#remoteAddress);
    s.fail(error);
  }

  /** Connection error: GOAWAY with `h2Code` and the last stream id, then the socket closes. */
  connectionError(h2Code: number, message: string, abuse = false): void {
    if (this.#state >= State.Closing) return;
    this.#core.writer.goaway(this.#lastStreamId, h2Code, message);
    this.#core.writer.flush();
    const error = abuse
      ? new H2Error('TRL_H2_ABUSE', message, { h2Code })
      : protocolError(message, h2Code);
    this.#config.onClientError?.(error, this.#remoteAddress);
    this.#teardown(error);
    this.#endSocket();
  }

  /** The stream a RST_STREAM or WINDOW_UPDATE names; idle ids end the connection. */
  streamFor(id: number, what: string): ServerStream | undefined {
    const s = this.#streams.get(id);
    if (s === undefined && id > this.#lastStreamId) {
      this.connectionError(H2ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${id}`);
    }
    return s;
  }

  // === stream lifecycle ===

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
      this.#core.connectionConsumed(s.heldBytes);
      s.heldBytes = 0;
    }
    if (this.#state === State.Closed || this.#streams.size > 0) return;
    if (this.#state === State.Draining) this.#finish();
    else this.#armIdle();
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
    this.#core.writer.u32Frame(FrameType.RST_STREAM, id, code);
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

  /** The drain's round trip is over: the final GOAWAY names the last stream taken. */
  #finalGoaway(): void {
    if (this.#state !== State.Announced) return;
    this.#drainTimer?.cancel();
    this.#drainTimer = null;
    this.#state = State.Draining;
    this.#core.writer.goaway(this.#lastStreamId, H2ErrorCode.NO_ERROR, '');
    if (this.#streams.size === 0) this.#finish();
  }

  /** No streams left while draining: the final bytes go out and the socket ends. */
  #finish(): void {
    if (this.#state >= State.Closing) return;
    this.#state = State.Closing;
    this.#idle.cancel();
    this.#core.writer.flush();
    // Nothing more is read or written: what the client still sends is dropped.
    this.#core.close();
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
    this.#core.close();
    this.#idle.cancel();
    this.#drainTimer?.cancel();
    this.#drainTimer = null;
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

  // === sending ===

  /**
   * 101, then stream 1 carries the upgraded request, half-closed (remote). Returns the
   * HTTP2-Settings violation that must end the connection, if any.
   */
  #acceptUpgrade(upgrade: UpgradedRequest): SettingsViolation | null {
    this.#core.writeRaw(SWITCHING_PROTOCOLS);
    // The HTTP2-Settings values apply as if sent in SETTINGS; the 101 acknowledges them.
    const violation = this.#core.peer.apply(upgrade.settings, 0, upgrade.settings.length);
    if (violation !== null) return violation;
    this.#core.applyPeerSettings();
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
    s.sendWindow = this.#core.peer.initialWindowSize;
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
    const core = this.#core;
    // The body goes only if both send windows can take it (a stream window may even be 0).
    const sendBody =
      core.peer.initialWindowSize >= TOO_LARGE_BODY.length &&
      core.sender.window >= TOO_LARGE_BODY.length;
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
    core.writeHeaders(id, fields, !sendBody);
    if (sendBody) {
      core.sender.window -= TOO_LARGE_BODY.length;
      core.writer.frame(FrameType.DATA, FrameFlag.END_STREAM, id, TOO_LARGE_BODY);
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
      this.#core.parser.push(chunk);
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
        this.connectionError(H2ErrorCode.PROTOCOL_ERROR, 'invalid connection preface');
        return -1;
      }
    }
    this.#prefaceMatched += n;
    return this.#prefaceMatched < CLIENT_PREFACE.length ? -1 : n;
  }

  readonly #onSocketDrain = (): void => this.#core.sender.onSocketDrain();

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

  /** Counts a frame that costs us work but carries no request; false once the budget is spent. */
  #cheapFrame(): boolean {
    if (++this.#cheapFrames <= CHEAP_FRAME_BUDGET + 10 * this.#streamsOpened) return true;
    this.connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'control frame flood', true);
    return false;
  }

  /** A client that makes us answer while not reading the answers is flooding. */
  #outputBacklogged(): boolean {
    const unsent = this.#socket.writableLength + this.#core.writer.pendingBytes;
    if (unsent <= MAX_UNSENT_CONTROL_BYTES) return false;
    this.connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'client does not read its answers', true);
    return true;
  }

  answerControlFrame(): boolean {
    return this.#cheapFrame() && !this.#outputBacklogged();
  }

  /**
   * WINDOW_UPDATE flood (as Envoy limits it): a client needs a few per DATA frame it receives;
   * many more, however small their increments, only make us work.
   */
  acceptWindowUpdate(): boolean {
    const budget = WINDOW_UPDATE_BUDGET + 10 * (this.#streamsOpened + this.#core.sender.framesSent);
    if (++this.#windowUpdates <= budget) return true;
    this.connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'WINDOW_UPDATE flood', true);
    return false;
  }

  /** A frame on a stream that is not open: idle ids kill the connection, closed ones are per §5.1. */
  #notOpen(id: number, what: string): void {
    if (id > this.#lastStreamId) {
      this.connectionError(H2ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${id}`);
    } else if (!this.#recentlyReset(id)) {
      this.#refuseStream(id, H2ErrorCode.STREAM_CLOSED, `${what} on closed stream`);
    }
  }

  onData(flags: number, id: number, body: Buffer, length: number): void {
    const core = this.#core;
    const endStream = (flags & FrameFlag.END_STREAM) !== 0;
    if (length === 0 && !endStream) {
      if (++this.#emptyDataRun > MAX_EMPTY_DATA_RUN) {
        return this.connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'empty DATA flood', true);
      }
    } else {
      this.#emptyDataRun = 0;
    }
    const s = this.#streams.get(id);
    // Frames nobody takes are consumed at once, as far as the connection window goes; bytes held
    // for a paused stream count only when taken (or dropped with their stream), so all the
    // streams together never hold more than the connection window.
    if (s === undefined || s.remoteEnded || s.recvWindow < length) core.connectionConsumed(length);
    if (s === undefined) return this.#notOpen(id, 'DATA');
    const n = body.length;
    if (!core.acceptStreamData(s, length, n)) return;
    // Padding is nobody's to read: the connection gets it back at once, like the stream.
    if (length > n) core.connectionConsumed(length - n);
    s.receivedBytes += n;
    if (s.contentLength >= 0 && s.receivedBytes > s.contentLength) {
      core.connectionConsumed(n);
      return this.streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA beyond content-length');
    }
    if (n > 0) {
      if (s.deliverData(body)) this.consumed(s, n);
      else if (s.terminated) core.connectionConsumed(n);
    }
    if (endStream && !s.closed && this.#state !== State.Closed) {
      if (s.contentLength >= 0 && s.receivedBytes !== s.contentLength) {
        return this.streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA shorter than content-length');
      }
      this.#remoteEnded(s, null);
    }
  }

  onHeaderBlock(id: number, block: Buffer, endStream: boolean, dependency: number): void {
    // Decode first, whatever the stream's state: the HPACK table is shared by the connection.
    const fields: string[] = [];
    let listSize: number;
    try {
      listSize = this.#core.decoder.decode(block, fields);
    } catch (err) {
      return this.connectionError(H2ErrorCode.COMPRESSION_ERROR, (err as Error).message);
    }
    const tooLarge =
      listSize > this.#config.maxHeaderListSize ||
      fields.length > 2 * this.#config.maxHeaderCount + 8;
    const s = this.#streams.get(id);
    if (s !== undefined) {
      if (s.remoteEnded) {
        return this.streamError(s, H2ErrorCode.STREAM_CLOSED, 'HEADERS after END_STREAM');
      }
      if (dependency === id) {
        return this.streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'stream depends on itself');
      }
      return this.#onTrailers(s, fields, endStream, tooLarge);
    }
    if (id <= this.#lastStreamId) {
      if (this.#recentlyReset(id)) return;
      return this.connectionError(H2ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
    }
    this.#lastStreamId = id;
    if (dependency === id) {
      return this.#refuseStream(id, H2ErrorCode.PROTOCOL_ERROR, 'stream depends on itself');
    }
    if (this.#state >= State.Draining || this.#streams.size >= this.#config.maxConcurrentStreams) {
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
      return this.streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'trailers without END_STREAM');
    }
    if (tooLarge || fields.length > 2 * this.#config.maxHeaderCount) {
      return this.streamError(s, H2ErrorCode.ENHANCE_YOUR_CALM, 'trailers too large');
    }
    try {
      trailerFieldList(fields);
    } catch (err) {
      return this.streamError(s, H2ErrorCode.PROTOCOL_ERROR, (err as Error).message);
    }
    if (s.contentLength >= 0 && s.receivedBytes !== s.contentLength) {
      return this.streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA shorter than content-length');
    }
    this.#remoteEnded(s, fields);
  }

  onPriority(id: number, buf: Buffer, start: number, end: number): void {
    if (!this.#cheapFrame()) return;
    let code: number = H2ErrorCode.NO_ERROR;
    let message = '';
    if (end - start !== 5) {
      code = H2ErrorCode.FRAME_SIZE_ERROR;
      message = 'PRIORITY size';
    } else if (readUInt31(buf, start) === id) {
      code = H2ErrorCode.PROTOCOL_ERROR;
      message = 'stream depends on itself';
    }
    // Otherwise accepted and ignored: RFC 9113 deprecated the priority tree.
    if (code === H2ErrorCode.NO_ERROR) return;
    const s = this.#streams.get(id);
    if (s !== undefined) this.streamError(s, code, message);
    else this.#refuseStream(id, code, message);
  }

  onRstStream(id: number, code: number): void {
    const s = this.streamFor(id, 'RST_STREAM');
    if (s === undefined) return;
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
      this.connectionError(
        H2ErrorCode.ENHANCE_YOUR_CALM,
        'rapid reset: most streams reset by the client',
        true,
      );
    }
  }

  onPingAck(buf: Buffer, start: number): void {
    if (buf.compare(DRAIN_PING, 0, 8, start, start + 8) === 0) this.#finalGoaway();
  }

  onGoaway(): void {
    // The client opens no more streams; the open ones finish, then the connection closes.
    if (this.#state === State.Announced) return this.#finalGoaway();
    if (this.#state === State.Open) this.#state = State.Draining;
    if (this.#state === State.Draining && this.#streams.size === 0) this.#finish();
  }

  #armIdle(): void {
    if (this.#state === State.Open && this.#streams.size === 0) this.#idle.arm();
  }
}
