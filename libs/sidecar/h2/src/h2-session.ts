// One HTTP/2 cleartext (prior knowledge) client connection: preface and SETTINGS exchange,
// connection- and stream-level flow control both ways, stream concurrency with a FIFO of waiting
// streams, GOAWAY/RST_STREAM handling, protocol-error teardown, PING and idle close. All frames
// produced in one tick leave in one socket write (FrameWriter).
import type { Socket } from 'node:net';
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import {
  CLIENT_PREFACE,
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_WINDOW_SIZE,
  FRAME_HEADER_SIZE,
  FrameFlag,
  FrameType,
  H2ErrorCode,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
  SettingId,
} from './constants.js';
import { H2Error, protocolError, streamResetError } from './errors.js';
import { ClientStream } from './h2-client-stream.js';
import type { H2ClientStream, H2StreamHandler, StreamHost } from './h2-client-stream.js';
import {
  FrameParser,
  encodeSettings,
  readUInt31,
  unpaddedEnd,
  writeFrameHeader,
} from './frame-codec.js';
import { DataSender } from './data-sender.js';
import { PeerSettings } from './peer-settings.js';
import { FrameWriter } from './frame-writer.js';
import { requestFieldList, responseStatus, trailersWellFormed } from './headers.js';
import type { HeaderInput } from './headers.js';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';

/** Settings we advertise and the receive windows we grant. */
export interface H2Settings {
  /** SETTINGS_INITIAL_WINDOW_SIZE: per-stream receive window. Default 1 MiB. */
  readonly initialWindowSize?: number;
  /** Connection receive window, raised by a WINDOW_UPDATE after the preface. Default 16 MiB. */
  readonly connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. Default 16384. */
  readonly maxFrameSize?: number;
  /** SETTINGS_HEADER_TABLE_SIZE for the server's encoder (our decoding table). Default 4096. */
  readonly headerTableSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: larger response blocks fail their stream. Default 64 KiB. */
  readonly maxHeaderListSize?: number;
}

/** Lifecycle notifications, e.g. for a pool. Called synchronously; must not throw. */
export interface H2SessionEvents {
  /** The server's first SETTINGS arrived: streams may open. */
  onReady?(session: H2Session): void;
  /** A stream slot freed up or the server raised its concurrency limit. */
  onCapacity?(session: H2Session): void;
  /** The session stopped taking new streams (GOAWAY, close(), stream ids used up). */
  onDraining?(session: H2Session): void;
  /** The session is gone; `error` is undefined after a graceful close. */
  onClose?(session: H2Session, error: H2Error | undefined): void;
}

export interface H2SessionOptions {
  readonly settings?: H2Settings;
  /** Time source for idle timeouts and PING round trips. Default systemClock. */
  readonly clock?: Clock;
  /** Close the session after this long without streams; 0 (default) never. */
  readonly idleTimeoutMs?: number;
  /** Highest stream id to use before the session drains and a new one is needed. */
  readonly maxStreamId?: number;
  /** Request body bytes a stream queues before write() returns false. Default 64 KiB. */
  readonly streamHighWaterMark?: number;
  /** Cap on our HPACK encoder's dynamic table (the server may allow more). Default 4096. */
  readonly encoderTableSize?: number;
  readonly events?: H2SessionEvents;
}

export interface H2RequestOptions {
  /** No request body: send END_STREAM with the HEADERS frame. */
  readonly endStream?: boolean;
  readonly handler?: H2StreamHandler;
}

const DEFAULTS = {
  initialWindowSize: 1 << 20,
  connectionWindowSize: 16 << 20,
  maxFrameSize: MIN_MAX_FRAME_SIZE,
  headerTableSize: DEFAULT_HEADER_TABLE_SIZE,
  maxHeaderListSize: 64 << 10,
};

/** Marks our PING payloads: "TRLH" + a counter. */
const PING_MARK = 0x54524c48;

/** Key of the lib-internal method H2Pool uses to place its queued streams on a session. */
export const attachStream: unique symbol = Symbol('attachStream');

const enum State {
  Open,
  /** Takes no new streams; open ones finish (peer GOAWAY, close(), ids exhausted). */
  Draining,
  Closed,
}

interface PendingPing {
  readonly sentAt: number;
  readonly resolve: (rttMs: number) => void;
  readonly reject: (error: H2Error) => void;
}

export class H2Session {
  /** Resolves once the server's SETTINGS arrived; rejects if the session dies first. */
  readonly ready: Promise<void>;
  /** Resolves when the session is gone, with the error that ended it (undefined if graceful). */
  readonly closed: Promise<H2Error | undefined>;

  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #events: H2SessionEvents;
  readonly #writer: FrameWriter;
  readonly #sender: DataSender<ClientStream>;
  readonly #parser: FrameParser;
  readonly #encoder: HpackEncoder;
  readonly #decoder: HpackDecoder;
  readonly #host: StreamHost;
  readonly #streamHighWaterMark: number;
  readonly #maxStreamId: number;
  readonly #idleTimeoutMs: number;

  #state = State.Open;
  /** Error given to streams refused because the session drains. */
  #drainError: H2Error | null = null;
  #finishing = false;
  #socketError: Error | undefined;
  #readyResolve!: () => void;
  #readyReject!: (error: H2Error) => void;
  #closedResolve!: (error: H2Error | undefined) => void;

  readonly #streams = new Map<number, ClientStream>();
  #pending: ClientStream[] = [];
  #nextStreamId = 1;

  // Peer settings (RFC 9113 defaults until its SETTINGS arrive).
  #remoteSettingsReceived = false;
  readonly #peer = new PeerSettings(true);

  // Our side.
  readonly #localInitialWindow: number;
  readonly #streamUpdateThreshold: number;
  readonly #connWindowSize: number;
  readonly #maxHeaderListSize: number;

  // Flow control: what we may send, what the server may still send us.
  #recvWindow: number;
  #recvUnacked = 0;

  // Header block being continued by CONTINUATION frames.
  #contStreamId = 0;
  #contEndStream = false;
  #contFragments: Buffer[] = [];
  #contBytes = 0;

  #pings = new Map<number, PendingPing>();
  #pingCounter = 0;
  #idleTimer: Timer | null = null;
  #idleSince = 0;

  constructor(socket: Socket, options: H2SessionOptions = {}) {
    const settings = resolveSettings(options.settings);
    this.#socket = socket;
    this.#clock = options.clock ?? systemClock;
    this.#events = options.events ?? {};
    this.#streamHighWaterMark = options.streamHighWaterMark ?? 64 << 10;
    this.#maxStreamId = Math.max(1, Math.min(options.maxStreamId ?? MAX_STREAM_ID, MAX_STREAM_ID));
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.#localInitialWindow = settings.initialWindowSize;
    this.#streamUpdateThreshold = Math.max(1, settings.initialWindowSize >>> 1);
    this.#connWindowSize = Math.max(settings.connectionWindowSize, DEFAULT_WINDOW_SIZE);
    this.#recvWindow = this.#connWindowSize;
    this.#maxHeaderListSize = settings.maxHeaderListSize;
    this.#encoder = new HpackEncoder(options.encoderTableSize ?? DEFAULT_HEADER_TABLE_SIZE);
    this.#decoder = new HpackDecoder(settings.headerTableSize);
    this.#writer = new FrameWriter(socket, (drained) => this.#sender.onFlushed(drained));
    this.#sender = new DataSender<ClientStream>(this.#writer, {
      writeTrailers: (s) => this.#writeHeaders(s.id, s.trailers!, true),
      endSent: (s) => {
        if (s.remoteEnded) this.#closeStream(s);
      },
    });
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
      settings.maxFrameSize,
    );
    this.#host = {
      flushStream: (s) => this.#flushStream(s),
      resetStream: (s, code) => this.#resetStream(s, code),
      consumed: (s, bytes) => this.#streamConsumed(s, bytes),
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => (this.#closedResolve = resolve));

    socket.setNoDelay(true);
    socket.on('data', this.#onSocketData);
    socket.on('drain', this.#onSocketDrain);
    socket.on('error', this.#onSocketError);
    socket.on('close', this.#onSocketClose);
    this.#sendPreface(settings);
    if (socket.destroyed) queueMicrotask(() => this.#onSocketClose());
  }

  // === public API ===

  /** Streams holding a concurrency slot (HEADERS sent, not yet closed). */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** Streams waiting for a slot (or for the server's SETTINGS). */
  get pendingStreams(): number {
    return this.#pending.length;
  }

  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS (Infinity when unlimited). */
  get maxConcurrentStreams(): number {
    return this.#peer.maxConcurrentStreams;
  }

  get isReady(): boolean {
    return this.#remoteSettingsReceived;
  }

  /** True while the session takes new streams. */
  get isAccepting(): boolean {
    return this.#state === State.Open;
  }

  get isClosed(): boolean {
    return this.#state === State.Closed;
  }

  /** Streams that could open right now without queueing. */
  get availableStreams(): number {
    if (this.#state !== State.Open || !this.#remoteSettingsReceived) return 0;
    const ids = Math.floor((this.#maxStreamId - this.#nextStreamId) / 2) + 1;
    const free = this.#peer.maxConcurrentStreams - this.#streams.size - this.#pending.length;
    return Math.max(0, Math.min(free, ids));
  }

  /**
   * Starts a request. Header validation errors throw (TRL_H2_INVALID_HEADER); every other failure
   * reaches the handler's onError, never synchronously. A stream beyond the server's concurrency
   * limit waits in FIFO order for a slot.
   */
  request(headers: HeaderInput, options: H2RequestOptions = {}): H2ClientStream {
    const fields = requestFieldList(headers);
    const stream = new ClientStream(
      fields,
      options.handler,
      this.#streamHighWaterMark,
      options.endStream === true,
    );
    this.#attach(stream);
    return stream;
  }

  /** Hands a stream created elsewhere (by H2Pool) to this session. */
  [attachStream](stream: ClientStream): void {
    this.#attach(stream);
  }

  /** Sends a PING and resolves with the round-trip time in ms. */
  ping(): Promise<number> {
    if (this.#state === State.Closed) {
      return Promise.reject(new H2Error('TRL_H2_SESSION_CLOSED', 'session is closed'));
    }
    const id = (this.#pingCounter = (this.#pingCounter + 1) >>> 0);
    return new Promise<number>((resolve, reject) => {
      this.#pings.set(id, { sentAt: this.#clock.now(), resolve, reject });
      const w = this.#writer;
      const off = w.reserve(FRAME_HEADER_SIZE + 8);
      writeFrameHeader(w.buffer, off, 8, FrameType.PING, 0, 0);
      w.buffer.writeUInt32BE(PING_MARK, off + 9);
      w.buffer.writeUInt32BE(id, off + 13);
      w.commit(off + 17);
    });
  }

  /**
   * Graceful close: no new streams (waiting ones fail, retriable), open ones finish, then GOAWAY
   * and the socket ends. Resolves when the connection is gone.
   */
  async close(): Promise<void> {
    if (this.#state === State.Open) {
      this.#drain(new H2Error('TRL_H2_SESSION_CLOSED', 'session is closing', { retriable: true }));
    }
    if (this.#state === State.Draining && this.#streams.size === 0) this.#finish();
    await this.closed;
  }

  /** Immediate close: every stream fails with `error` (default TRL_H2_CONNECTION_CLOSED). */
  destroy(error?: H2Error): void {
    if (this.#state === State.Closed) return;
    this.#teardown(error ?? new H2Error('TRL_H2_CONNECTION_CLOSED', 'session destroyed'), false);
    this.#socket.destroy();
  }

  // === stream lifecycle ===

  #attach(stream: ClientStream): void {
    if (this.#state !== State.Open) {
      const error = this.#drainError ?? closedError(true, this.#socketError);
      queueMicrotask(() => stream.fail(error));
      return;
    }
    stream.host = this.#host;
    if (
      this.#remoteSettingsReceived &&
      this.#pending.length === 0 &&
      this.#streams.size < this.#peer.maxConcurrentStreams
    ) {
      this.#openStream(stream);
    } else {
      this.#pending.push(stream);
    }
  }

  #openStream(s: ClientStream): void {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    s.id = id;
    s.sendWindow = this.#peer.initialWindowSize;
    s.recvWindow = this.#localInitialWindow;
    this.#streams.set(id, s);
    const endStream = s.localEnd && s.outBytes === 0 && s.trailers === null;
    this.#writeHeaders(id, s.fields!, endStream);
    s.fields = null;
    if (endStream) s.endSent = true;
    else if (s.outBytes > 0 || s.localEnd) this.#sender.flush(s);
    if (this.#nextStreamId > this.#maxStreamId && this.#state === State.Open) {
      this.#drain(
        new H2Error('TRL_H2_STREAM_IDS_EXHAUSTED', 'session used up its stream ids', {
          retriable: true,
        }),
      );
    }
  }

  #openPending(): void {
    while (
      this.#pending.length > 0 &&
      this.#state === State.Open &&
      this.#streams.size < this.#peer.maxConcurrentStreams
    ) {
      const s = this.#pending.shift()!;
      if (!s.terminated) this.#openStream(s);
    }
  }

  /** Frees the stream's slot; may open a waiting stream or finish a draining session. */
  #closeStream(s: ClientStream): void {
    if (s.closed) return;
    s.closed = true;
    this.#streams.delete(s.id);
    if (this.#state === State.Closed) return;
    if (this.#pending.length > 0) this.#openPending();
    if (this.#state === State.Draining) {
      if (this.#streams.size === 0) this.#finish();
      return;
    }
    this.#events.onCapacity?.(this);
    this.#armIdle();
  }

  #remoteEnd(s: ClientStream, trailers: string[] | null): void {
    s.remoteEnded = true;
    if (s.endSent) this.#closeStream(s);
    if (trailers !== null) s.deliverTrailers(trailers);
    s.deliverEnd();
  }

  #resetStream(s: ClientStream, code: number): void {
    if (s.id === 0) {
      const i = this.#pending.indexOf(s);
      if (i >= 0) this.#pending.splice(i, 1);
      return;
    }
    if (s.closed || this.#state === State.Closed) return;
    this.#writeRstStream(s.id, code);
    this.#closeStream(s);
  }

  /** Stream-level protocol error: RST_STREAM to the server, typed error to the consumer. */
  #streamError(s: ClientStream, h2Code: number, message: string): void {
    this.#writeRstStream(s.id, h2Code);
    this.#closeStream(s);
    s.fail(protocolError(`stream ${s.id}: ${message}`, h2Code));
  }

  /** Stops taking streams; waiting ones fail with `error` (retriable: never sent). */
  #drain(error: H2Error): void {
    this.#state = State.Draining;
    this.#drainError = error;
    this.#cancelIdle();
    const pending = this.#pending;
    this.#pending = [];
    this.#events.onDraining?.(this);
    for (const s of pending) s.fail(error);
  }

  /** Drained and idle: say goodbye and end the socket. */
  #finish(): void {
    if (this.#finishing || this.#state === State.Closed) return;
    this.#finishing = true;
    this.#writeGoaway(H2ErrorCode.NO_ERROR, '');
    this.#writer.flush();
    this.#socket.end(() => this.#socket.destroy());
  }

  /** Ends the session for good: streams fail with `error`, listeners hear about it once. */
  #teardown(error: H2Error | undefined, graceful: boolean): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#parser.stop();
    this.#writer.close();
    this.#cancelIdle();
    const failure = error ?? closedError(false, this.#socketError);
    const pendingFailure = closedError(true, error ?? this.#socketError);
    this.#readyReject(failure);
    const open = [...this.#streams.values()];
    const pending = this.#pending;
    this.#streams.clear();
    this.#pending = [];
    this.#sender.clear();
    for (const ping of this.#pings.values()) ping.reject(failure);
    this.#pings.clear();
    for (const s of open) {
      s.closed = true;
      s.fail(failure);
    }
    for (const s of pending) s.fail(pendingFailure);
    const reported = graceful ? undefined : failure;
    this.#events.onClose?.(this, reported);
    this.#closedResolve(reported);
  }

  // === sending ===

  #sendPreface(settings: Required<H2Settings>): void {
    const list: Array<[number, number]> = [
      [SettingId.ENABLE_PUSH, 0],
      [SettingId.INITIAL_WINDOW_SIZE, settings.initialWindowSize],
      [SettingId.MAX_HEADER_LIST_SIZE, settings.maxHeaderListSize],
    ];
    if (settings.maxFrameSize !== MIN_MAX_FRAME_SIZE) {
      list.push([SettingId.MAX_FRAME_SIZE, settings.maxFrameSize]);
    }
    if (settings.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) {
      list.push([SettingId.HEADER_TABLE_SIZE, settings.headerTableSize]);
    }
    const w = this.#writer;
    const preface = Buffer.concat([CLIENT_PREFACE, encodeSettings(list)]);
    const off = w.reserve(preface.length);
    preface.copy(w.buffer, off);
    w.commit(off + preface.length);
    if (this.#connWindowSize > DEFAULT_WINDOW_SIZE) {
      this.#writeWindowUpdate(0, this.#connWindowSize - DEFAULT_WINDOW_SIZE);
    }
  }

  #writeHeaders(streamId: number, fields: readonly string[], endStream: boolean): void {
    this.#writer.headers(this.#encoder, streamId, fields, endStream, this.#peer.maxFrameSize);
  }

  #writeRstStream(streamId: number, code: number): void {
    this.#writer.u32Frame(FrameType.RST_STREAM, streamId, code);
  }

  #writeWindowUpdate(streamId: number, increment: number): void {
    this.#writer.u32Frame(FrameType.WINDOW_UPDATE, streamId, increment);
  }

  #writeGoaway(code: number, debug: string): void {
    // We never accept server-initiated streams, so the last processed id is always 0.
    this.#writer.goaway(0, code, debug);
  }

  /** The consumer queued body bytes or ended: send what the windows allow. */
  #flushStream(s: ClientStream): void {
    if (s.id !== 0 && !s.closed && this.#state !== State.Closed) this.#sender.flush(s);
  }

  readonly #onSocketDrain = (): void => this.#sender.onSocketDrain();

  // === receiving ===

  readonly #onSocketData = (chunk: Buffer): void => {
    try {
      this.#parser.push(chunk);
    } catch (err) {
      // A handler threw mid-chunk: the rest of the chunk is lost, so the connection is unusable.
      this.destroy(new H2Error('TRL_H2_CONNECTION_CLOSED', 'stream handler threw', { cause: err }));
      throw err;
    }
  };

  readonly #onSocketError = (err: Error): void => {
    this.#socketError = err;
  };

  readonly #onSocketClose = (): void => {
    if (this.#state === State.Closed) return;
    // Draining with nothing in flight: whoever closed first, no stream lost anything.
    const graceful = this.#state === State.Draining && this.#streams.size === 0;
    this.#teardown(graceful ? undefined : closedError(false, this.#socketError), graceful);
  };

  #onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#contStreamId !== 0 && type !== FrameType.CONTINUATION) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'expected CONTINUATION');
    }
    if (!this.#remoteSettingsReceived && (type !== FrameType.SETTINGS || flags & FrameFlag.ACK)) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'server preface is not SETTINGS');
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onData(flags, id, buf, start, end);
      case FrameType.HEADERS:
        return this.#onHeaders(flags, id, buf, start, end);
      case FrameType.PRIORITY:
        return this.#onPriority(id, end - start);
      case FrameType.RST_STREAM:
        return this.#onRstStream(id, buf, start, end);
      case FrameType.SETTINGS:
        return this.#onSettings(flags, id, buf, start, end);
      case FrameType.PUSH_PROMISE:
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE with push disabled');
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

  /** The stream a server frame refers to; undefined if closed. Idle or even ids kill the session. */
  #streamFor(id: number, what: string): ClientStream | undefined {
    const s = this.#streams.get(id);
    if (s !== undefined) return s;
    if (id === 0 || (id & 1) === 0 || id >= this.#nextStreamId) {
      this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${id}`);
    }
    return undefined;
  }

  #onData(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = end - start;
    this.#recvWindow -= length;
    if (this.#recvWindow < 0) {
      return this.#connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window exceeded');
    }
    // The connection window is credited on receipt: a paused stream is bounded by its own window
    // and must not starve the others.
    this.#recvUnacked += length;
    if (this.#recvUnacked >= this.#connWindowSize >>> 1) {
      this.#writeWindowUpdate(0, this.#recvUnacked);
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
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
    const s = this.#streamFor(id, 'DATA');
    if (s === undefined) return;
    if (!s.gotHeaders) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA before HEADERS');
    }
    if (s.remoteEnded) {
      return this.#streamError(s, H2ErrorCode.STREAM_CLOSED, 'DATA after END_STREAM');
    }
    s.recvWindow -= length;
    if (s.recvWindow < 0) {
      return this.#streamError(s, H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window exceeded');
    }
    const padding = length - (contentEnd - contentStart);
    if (padding > 0) this.#streamConsumed(s, padding);
    if (contentEnd > contentStart) {
      const chunk = buf.subarray(contentStart, contentEnd);
      s.receivedBytes += chunk.length;
      if (s.deliverData(chunk)) this.#streamConsumed(s, chunk.length);
    }
    if (flags & FrameFlag.END_STREAM && !s.terminated && this.#state !== State.Closed) {
      this.#remoteEnd(s, null);
    }
  }

  /** Credits the stream window once half of it was consumed (unless paused or finished). */
  #streamConsumed(s: ClientStream, bytes: number): void {
    s.recvUnacked += bytes;
    if (
      !s.paused &&
      !s.remoteEnded &&
      !s.closed &&
      s.recvUnacked >= this.#streamUpdateThreshold &&
      this.#state !== State.Closed
    ) {
      this.#writeWindowUpdate(s.id, s.recvUnacked);
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  #onHeaders(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let fragmentStart = start;
    let fragmentEnd = end;
    if (flags & FrameFlag.PADDED) {
      fragmentEnd = unpaddedEnd(buf, start, end);
      if (fragmentEnd < 0) {
        return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'HEADERS padding too long');
      }
      fragmentStart++;
    }
    if (flags & FrameFlag.PRIORITY) {
      fragmentStart += 5;
      if (fragmentStart > fragmentEnd) {
        return this.#connectionError(
          H2ErrorCode.FRAME_SIZE_ERROR,
          'HEADERS too short for priority',
        );
      }
    }
    const fragment = buf.subarray(fragmentStart, fragmentEnd);
    const endStream = (flags & FrameFlag.END_STREAM) !== 0;
    if (flags & FrameFlag.END_HEADERS) return this.#onHeaderBlock(id, fragment, endStream);
    this.#contStreamId = id;
    this.#contEndStream = endStream;
    this.#contFragments = [fragment];
    this.#contBytes = fragment.length;
  }

  #onContinuation(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#contStreamId === 0 || id !== this.#contStreamId) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'unexpected CONTINUATION');
    }
    this.#contFragments.push(buf.subarray(start, end));
    this.#contBytes += end - start;
    if (this.#contBytes > this.#maxHeaderListSize + MIN_MAX_FRAME_SIZE) {
      return this.#connectionError(H2ErrorCode.ENHANCE_YOUR_CALM, 'header block too large');
    }
    if ((flags & FrameFlag.END_HEADERS) === 0) return;
    const block = Buffer.concat(this.#contFragments, this.#contBytes);
    this.#contStreamId = 0;
    this.#contFragments = [];
    this.#contBytes = 0;
    this.#onHeaderBlock(id, block, this.#contEndStream);
  }

  #onHeaderBlock(id: number, block: Buffer, endStream: boolean): void {
    // Decode first, whatever the stream's state: the HPACK table is shared by the connection.
    const fields: string[] = [];
    let listSize: number;
    try {
      listSize = this.#decoder.decode(block, fields);
    } catch (err) {
      return this.#connectionError(H2ErrorCode.COMPRESSION_ERROR, (err as Error).message);
    }
    const s = this.#streamFor(id, 'HEADERS');
    if (s === undefined) return;
    if (s.remoteEnded) {
      return this.#streamError(s, H2ErrorCode.STREAM_CLOSED, 'HEADERS after END_STREAM');
    }
    if (listSize > this.#maxHeaderListSize) {
      return this.#streamError(
        s,
        H2ErrorCode.PROTOCOL_ERROR,
        `header list of ${listSize} bytes too large`,
      );
    }
    if (s.gotHeaders) {
      if (!endStream) {
        return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'trailers without END_STREAM');
      }
      if (!trailersWellFormed(fields)) {
        return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'malformed trailers');
      }
      return this.#remoteEnd(s, fields);
    }
    const status = responseStatus(fields);
    if (status < 0) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'malformed response headers');
    }
    // Drop :status (checked to be first); shift() trims in place where splice() would allocate.
    fields.shift();
    fields.shift();
    if (status < 200) {
      if (endStream || status === 101) {
        return this.#streamError(
          s,
          H2ErrorCode.PROTOCOL_ERROR,
          `invalid interim response ${status}`,
        );
      }
      if (!s.terminated) s.handler.onInformational?.(status, fields);
      return;
    }
    s.gotHeaders = true;
    if (endStream) {
      s.remoteEnded = true;
      if (s.endSent) this.#closeStream(s);
    }
    if (!s.terminated) s.handler.onResponseHeaders?.(status, fields, endStream);
    if (endStream) s.deliverEnd();
  }

  #onPriority(id: number, length: number): void {
    if (id === 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
    if (length !== 5) {
      const s = this.#streams.get(id);
      if (s !== undefined) {
        this.#streamError(s, H2ErrorCode.FRAME_SIZE_ERROR, 'PRIORITY frame size');
      }
    }
  }

  #onRstStream(id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    }
    if (end - start !== 4) {
      return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM size');
    }
    const s = this.#streamFor(id, 'RST_STREAM');
    if (s === undefined) return;
    const code = buf.readUInt32BE(start);
    this.#closeStream(s);
    // NO_ERROR after a complete response: "stop sending the request body" (RFC 9113 §8.1).
    if (code === H2ErrorCode.NO_ERROR && s.remoteEnded) {
      s.outQueue = [];
      s.outBytes = 0;
      s.endSent = true;
      return;
    }
    s.fail(streamResetError(id, code));
  }

  #onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FrameFlag.ACK) {
      if (end !== start) {
        this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with payload');
      }
      return;
    }
    const peer = this.#peer;
    const previousMax = peer.maxConcurrentStreams;
    const previousWindow = peer.initialWindowSize;
    const violation = peer.apply(buf, start, end);
    if (violation !== null) return this.#connectionError(violation.h2Code, violation.message);
    if (peer.lowestHeaderTableSize >= 0) {
      this.#encoder.setPeerMaxTableSize(peer.lowestHeaderTableSize);
      this.#encoder.setPeerMaxTableSize(peer.headerTableSize);
    }
    this.#sender.maxFrameSize = peer.maxFrameSize;
    const windowDelta = peer.initialWindowSize - previousWindow;
    this.#writer.frameHeader(0, FrameType.SETTINGS, FrameFlag.ACK, 0);
    if (windowDelta !== 0) {
      for (const s of this.#streams.values()) {
        s.sendWindow += windowDelta;
        if (s.sendWindow > MAX_WINDOW_SIZE) {
          return this.#connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window overflow');
        }
      }
    }
    if (!this.#remoteSettingsReceived) {
      this.#remoteSettingsReceived = true;
      this.#armIdle();
      this.#openPending();
      this.#readyResolve();
      this.#events.onReady?.(this);
    } else {
      this.#openPending();
      if (this.#peer.maxConcurrentStreams > previousMax && this.#state === State.Open) {
        this.#events.onCapacity?.(this);
      }
    }
    if (windowDelta > 0) {
      for (const s of [...this.#streams.values()]) {
        if (s.outBytes > 0) this.#sender.flush(s);
      }
    }
  }

  #onPing(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (end - start !== 8) return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'PING size');
    if (flags & FrameFlag.ACK) {
      if (buf.readUInt32BE(start) !== PING_MARK) return;
      const key = buf.readUInt32BE(start + 4);
      const ping = this.#pings.get(key);
      if (ping === undefined) return;
      this.#pings.delete(key);
      ping.resolve(this.#clock.now() - ping.sentAt);
      return;
    }
    this.#writer.ping(FrameFlag.ACK, buf, start);
  }

  #onGoaway(id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) return this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (end - start < 8) return this.#connectionError(H2ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY size');
    const lastStreamId = readUInt31(buf, start);
    const code = buf.readUInt32BE(start + 4);
    const debug = buf.toString('latin1', start + 8, Math.min(end, start + 8 + 256));
    const error = new H2Error(
      'TRL_H2_GOAWAY',
      `server sent GOAWAY (last stream ${lastStreamId}, code ${code}${debug ? `, ${debug}` : ''})`,
      { h2Code: code, retriable: true },
    );
    if (this.#state === State.Open) this.#drain(error);
    else if (this.#state === State.Draining) this.#drainError = error;
    else return;
    // Streams above last-stream-id were not processed: fail them as retriable.
    const refused: ClientStream[] = [];
    for (const s of this.#streams.values()) if (s.id > lastStreamId) refused.push(s);
    for (const s of refused) {
      this.#streams.delete(s.id);
      s.closed = true;
    }
    for (const s of refused) s.fail(error);
    if (this.#streams.size === 0) this.#finish();
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
        return this.#connectionError(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window overflow');
      }
      return;
    }
    const s = this.#streamFor(id, 'WINDOW_UPDATE');
    if (s === undefined) return;
    if (increment === 0) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
    }
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW_SIZE) {
      return this.#streamError(s, H2ErrorCode.FLOW_CONTROL_ERROR, 'stream window overflow');
    }
    if (s.outBytes > 0) this.#sender.flush(s);
  }

  /** Connection error: GOAWAY with `h2Code`, then every stream fails and the socket closes. */
  #connectionError(h2Code: number, message: string): void {
    if (this.#state === State.Closed) return;
    this.#writeGoaway(h2Code, message);
    this.#writer.flush();
    this.#teardown(protocolError(message, h2Code), false);
    this.#socket.destroySoon();
  }

  // === idle timeout ===

  #armIdle(): void {
    if (this.#idleTimeoutMs <= 0 || this.#streams.size > 0 || this.#pending.length > 0) return;
    this.#idleSince = this.#clock.now();
    if (this.#idleTimer === null) this.#scheduleIdleCheck(this.#idleTimeoutMs);
  }

  // One coarse timer per session: becoming idle only records the time, the timer re-arms itself
  // for the remainder instead of being cancelled and recreated per request.
  #scheduleIdleCheck(delayMs: number): void {
    this.#idleTimer = this.#clock.setTimer(delayMs, () => {
      this.#idleTimer = null;
      if (this.#state !== State.Open || this.#streams.size > 0 || this.#pending.length > 0) return;
      const idleFor = this.#clock.now() - this.#idleSince;
      if (idleFor >= this.#idleTimeoutMs) void this.close();
      else this.#scheduleIdleCheck(this.#idleTimeoutMs - idleFor);
    });
  }

  #cancelIdle(): void {
    this.#idleTimer?.cancel();
    this.#idleTimer = null;
  }
}

function closedError(retriable: boolean, cause: unknown): H2Error {
  const message = retriable ? 'connection closed before the stream was sent' : 'connection closed';
  return new H2Error('TRL_H2_CONNECTION_CLOSED', message, { retriable, cause });
}

function resolveSettings(given: H2Settings = {}): Required<H2Settings> {
  const s: Required<H2Settings> = {
    initialWindowSize: given.initialWindowSize ?? DEFAULTS.initialWindowSize,
    connectionWindowSize: given.connectionWindowSize ?? DEFAULTS.connectionWindowSize,
    maxFrameSize: given.maxFrameSize ?? DEFAULTS.maxFrameSize,
    headerTableSize: given.headerTableSize ?? DEFAULTS.headerTableSize,
    maxHeaderListSize: given.maxHeaderListSize ?? DEFAULTS.maxHeaderListSize,
  };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(`invalid h2 setting ${what}`);
  };
  check(s.initialWindowSize >= 0 && s.initialWindowSize <= MAX_WINDOW_SIZE, 'initialWindowSize');
  check(s.connectionWindowSize <= MAX_WINDOW_SIZE, 'connectionWindowSize');
  check(
    s.maxFrameSize >= MIN_MAX_FRAME_SIZE && s.maxFrameSize <= MAX_MAX_FRAME_SIZE,
    'maxFrameSize',
  );
  check(s.headerTableSize >= 0, 'headerTableSize');
  check(s.maxHeaderListSize > 0, 'maxHeaderListSize');
  return s;
}
