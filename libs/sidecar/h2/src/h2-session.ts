// One HTTP/2 cleartext (prior knowledge) client connection: the preface, stream concurrency with
// a FIFO of waiting streams, response heads, bodies and trailers, the server's GOAWAY and
// RST_STREAM, protocol-error teardown, PING round trips and idle close. What any HTTP/2 endpoint
// does (frame checks, SETTINGS, windows, CONTINUATION) is the ConnectionCore's.
import type { Socket } from 'node:net';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';
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
import { ConnectionCore } from './connection-core.js';
import type { ConnectionRole } from './connection-core.js';
import { H2Error, protocolError, streamResetError } from './errors.js';
import { ClientStream } from './h2-client-stream.js';
import type { H2ClientStream, H2StreamHandler, StreamHost } from './h2-client-stream.js';
import { writeFrameHeader } from './frame-codec.js';
import { requestFieldList, responseStatus, trailersWellFormed } from './headers.js';
import type { HeaderInput } from './headers.js';
import { IdleTimer } from './idle-timer.js';

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
  readonly #core: ConnectionCore<ClientStream>;
  /** The core's open streams. */
  readonly #streams: Map<number, ClientStream>;
  readonly #idle: IdleTimer;
  readonly #host: StreamHost;
  readonly #streamHighWaterMark: number;
  readonly #maxStreamId: number;
  readonly #localInitialWindow: number;
  readonly #maxHeaderListSize: number;

  #state = State.Open;
  /** Error given to streams refused because the session drains. */
  #drainError: H2Error | null = null;
  #finishing = false;
  #socketError: Error | undefined;
  #readyResolve!: () => void;
  #readyReject!: (error: H2Error) => void;
  #closedResolve!: (error: H2Error | undefined) => void;

  #pending: ClientStream[] = [];
  #nextStreamId = 1;
  /** The server's SETTINGS arrived (streams may open). */
  #remoteSettingsReceived = false;
  /** The server's MAX_CONCURRENT_STREAMS as last seen, to tell when it grew. */
  #knownMaxConcurrent = Number.POSITIVE_INFINITY;

  #pings = new Map<number, PendingPing>();
  #pingCounter = 0;

  constructor(socket: Socket, options: H2SessionOptions = {}) {
    const settings = resolveSettings(options.settings);
    this.#socket = socket;
    this.#clock = options.clock ?? systemClock;
    this.#events = options.events ?? {};
    this.#streamHighWaterMark = options.streamHighWaterMark ?? 64 << 10;
    this.#maxStreamId = Math.max(1, Math.min(options.maxStreamId ?? MAX_STREAM_ID, MAX_STREAM_ID));
    this.#localInitialWindow = settings.initialWindowSize;
    this.#maxHeaderListSize = settings.maxHeaderListSize;
    this.#core = new ConnectionCore<ClientStream>(socket, this.#role(), {
      ...settings,
      connectionWindowSize: Math.max(settings.connectionWindowSize, DEFAULT_WINDOW_SIZE),
      encoderTableSize: options.encoderTableSize ?? DEFAULT_HEADER_TABLE_SIZE,
      peerIsServer: true,
      maxHeaderBlockBytes: settings.maxHeaderListSize + MIN_MAX_FRAME_SIZE,
      maxContinuations: Number.POSITIVE_INFINITY,
      settingsTimeoutMs: 0,
      clock: this.#clock,
    });
    this.#streams = this.#core.streams;
    this.#idle = new IdleTimer(
      this.#clock,
      options.idleTimeoutMs ?? 0,
      () => this.#state === State.Open && this.#streams.size === 0 && this.#pending.length === 0,
      () => void this.close(),
    );
    this.#host = {
      flushStream: (s) => this.#flushStream(s),
      resetStream: (s, code) => this.#resetStream(s, code),
      consumed: (s, bytes) => this.#core.streamConsumed(s, bytes),
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
    this.#core.writeSettings(CLIENT_PREFACE, [SettingId.ENABLE_PUSH, 0]);
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
    return this.#core.peer.maxConcurrentStreams;
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
    const free = this.#core.peer.maxConcurrentStreams - this.#streams.size - this.#pending.length;
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
      const w = this.#core.writer;
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

  /** What the connection core hears back: kept off the public surface of the session. */
  #role(): ConnectionRole<ClientStream> {
    return {
      connectionError: (h2Code, message) => this.#connectionError(h2Code, message),
      streamError: (s, h2Code, message) => this.#streamError(s, h2Code, message),
      streamFor: (id, what) => this.#streamFor(id, what),
      onData: (flags, id, body, length) => this.#onData(flags, id, body, length),
      onHeaderBlock: (id, block, endStream) => this.#onHeaderBlock(id, block, endStream),
      onPriority: (id, _buf, start, end) => this.#onPriority(id, end - start),
      onRstStream: (id, code) => this.#onRstStream(id, code),
      answerControlFrame: () => true,
      acceptWindowUpdate: () => true,
      onSettings: () => this.#onSettings(),
      onPingAck: (buf, start) => this.#onPingAck(buf, start),
      onGoaway: (lastStreamId, code, buf, start, end) =>
        this.#onGoaway(
          lastStreamId,
          code,
          buf.toString('latin1', start, Math.min(end, start + 256)),
        ),
      sendMore: (s) => {
        if (s.outBytes > 0) this.#core.sender.flush(s);
      },
      endSent: (s) => {
        if (s.remoteEnded) this.#closeStream(s);
      },
    };
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
      this.#streams.size < this.#core.peer.maxConcurrentStreams
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
    s.sendWindow = this.#core.peer.initialWindowSize;
    s.recvWindow = this.#localInitialWindow;
    this.#streams.set(id, s);
    const endStream = s.localEnd && s.outBytes === 0 && s.trailers === null;
    this.#core.writeHeaders(id, s.fields!, endStream);
    s.fields = null;
    if (endStream) s.endSent = true;
    else if (s.outBytes > 0 || s.localEnd) this.#core.sender.flush(s);
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
      this.#streams.size < this.#core.peer.maxConcurrentStreams
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
    this.#core.writer.u32Frame(FrameType.RST_STREAM, s.id, code);
    this.#closeStream(s);
  }

  /** Stream-level protocol error: RST_STREAM to the server, typed error to the consumer. */
  #streamError(s: ClientStream, h2Code: number, message: string): void {
    this.#core.writer.u32Frame(FrameType.RST_STREAM, s.id, h2Code);
    this.#closeStream(s);
    s.fail(protocolError(`stream ${s.id}: ${message}`, h2Code));
  }

  /** Stops taking streams; waiting ones fail with `error` (retriable: never sent). */
  #drain(error: H2Error): void {
    this.#state = State.Draining;
    this.#drainError = error;
    this.#idle.cancel();
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
    this.#core.writer.flush();
    this.#socket.end(() => this.#socket.destroy());
  }

  /** Ends the session for good: streams fail with `error`, listeners hear about it once. */
  #teardown(error: H2Error | undefined, graceful: boolean): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#core.close();
    this.#idle.cancel();
    const failure = error ?? closedError(false, this.#socketError);
    const pendingFailure = closedError(true, error ?? this.#socketError);
    this.#readyReject(failure);
    const open = [...this.#streams.values()];
    const pending = this.#pending;
    this.#streams.clear();
    this.#pending = [];
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

  #writeGoaway(code: number, debug: string): void {
    // We never accept server-initiated streams, so the last processed id is always 0.
    this.#core.writer.goaway(0, code, debug);
  }

  /** The consumer queued body bytes or ended: send what the windows allow. */
  #flushStream(s: ClientStream): void {
    if (s.id !== 0 && !s.closed && this.#state !== State.Closed) this.#core.sender.flush(s);
  }

  readonly #onSocketDrain = (): void => this.#core.sender.onSocketDrain();

  // === receiving ===

  readonly #onSocketData = (chunk: Buffer): void => {
    try {
      this.#core.parser.push(chunk);
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

  /** The stream a server frame refers to; undefined if closed. Idle or even ids kill the session. */
  #streamFor(id: number, what: string): ClientStream | undefined {
    const s = this.#streams.get(id);
    if (s !== undefined) return s;
    if (id === 0 || (id & 1) === 0 || id >= this.#nextStreamId) {
      this.#connectionError(H2ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${id}`);
    }
    return undefined;
  }

  #onData(flags: number, id: number, body: Buffer, length: number): void {
    // The connection window is credited on receipt: a paused stream is bounded by its own window
    // and must not starve the others.
    this.#core.connectionConsumed(length);
    const s = this.#streamFor(id, 'DATA');
    if (s === undefined) return;
    if (!s.gotHeaders) {
      return this.#streamError(s, H2ErrorCode.PROTOCOL_ERROR, 'DATA before HEADERS');
    }
    if (!this.#core.acceptStreamData(s, length, body.length)) return;
    if (body.length > 0) {
      s.receivedBytes += body.length;
      if (s.deliverData(body)) this.#core.streamConsumed(s, body.length);
    }
    if (flags & FrameFlag.END_STREAM && !s.terminated && this.#state !== State.Closed) {
      this.#remoteEnd(s, null);
    }
  }

  #onHeaderBlock(id: number, block: Buffer, endStream: boolean): void {
    // Decode first, whatever the stream's state: the HPACK table is shared by the connection.
    const fields: string[] = [];
    let listSize: number;
    try {
      listSize = this.#core.decoder.decode(block, fields);
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
    if (length !== 5) {
      const s = this.#streams.get(id);
      if (s !== undefined) {
        this.#streamError(s, H2ErrorCode.FRAME_SIZE_ERROR, 'PRIORITY frame size');
      }
    }
  }

  #onRstStream(id: number, code: number): void {
    const s = this.#streamFor(id, 'RST_STREAM');
    if (s === undefined) return;
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

  /** The server's SETTINGS were applied: the first opens the session, later ones may add room. */
  #onSettings(): void {
    const maxConcurrent = this.#core.peer.maxConcurrentStreams;
    const grew = maxConcurrent > this.#knownMaxConcurrent;
    this.#knownMaxConcurrent = maxConcurrent;
    if (!this.#remoteSettingsReceived) {
      this.#remoteSettingsReceived = true;
      this.#armIdle();
      this.#openPending();
      this.#readyResolve();
      this.#events.onReady?.(this);
      return;
    }
    this.#openPending();
    if (grew && this.#state === State.Open) this.#events.onCapacity?.(this);
  }

  #onPingAck(buf: Buffer, start: number): void {
    if (buf.readUInt32BE(start) !== PING_MARK) return;
    const key = buf.readUInt32BE(start + 4);
    const ping = this.#pings.get(key);
    if (ping === undefined) return;
    this.#pings.delete(key);
    ping.resolve(this.#clock.now() - ping.sentAt);
  }

  #onGoaway(lastStreamId: number, code: number, debug: string): void {
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

  /** Connection error: GOAWAY with `h2Code`, then every stream fails and the socket closes. */
  #connectionError(h2Code: number, message: string): void {
    if (this.#state === State.Closed) return;
    this.#writeGoaway(h2Code, message);
    this.#core.writer.flush();
    this.#teardown(protocolError(message, h2Code), false);
    this.#socket.destroySoon();
  }

  #armIdle(): void {
    if (this.#streams.size === 0 && this.#pending.length === 0) this.#idle.arm();
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
