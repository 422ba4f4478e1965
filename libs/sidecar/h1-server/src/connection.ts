// One downstream HTTP/1.1 connection: its socket, its request parser, one exchange at a time,
// and one lazily re-armed timer for the headers, keep-alive idle and linger deadlines.
//
// Input is parsed only when someone can take it: heads while no exchange is active, body bytes
// while the exchange's reader is started and not paused. Anything else (pipelined requests, a
// body nobody reads yet) stays queued as the socket's own buffers, and the socket is paused
// while bytes wait, so the backlog is bounded by one socket read. A pipelined request is parsed
// only after the previous response ended, so a refused or smuggled request can never be
// dispatched behind another's back.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Timer } from '@trellis/time';
import type { H1ServerError, RefusalStatus } from './errors.js';
import { H1Exchange } from './h1-exchange.js';
import type { ExchangeOwner } from './h1-exchange.js';
import type { RequestHead } from './request-head.js';
import { RequestParser } from './request-parser.js';
import type { RequestBodySink } from './request-parser.js';
import type { ServerConfig } from './types.js';

export interface ConnectionOwner {
  /** The connection closed or was handed off (upgrade); called once. */
  connectionClosed(connection: H1ServerConnection): void;
}

const P_IDLE = 0; // between requests: no byte of the next one yet
const P_HEAD = 1; // a request head is arriving
const P_ACTIVE = 2; // an exchange is dispatched and its response not done
const P_CLOSING = 3; // our FIN is sent (or about to be); input is discarded until the peer closes
const P_DONE = 4; // destroyed or handed off

const K_HEADERS = 1;
const K_IDLE = 2;
const K_LINGER = 3;

function isH2c(upgrade: string): boolean {
  return upgrade.length === 3 && upgrade.toLowerCase() === 'h2c';
}

export class H1ServerConnection implements RequestBodySink, ExchangeOwner {
  readonly #owner: ConnectionOwner;
  readonly #config: ServerConfig;
  readonly #socket: Socket;
  readonly #parser: RequestParser;
  readonly #remoteAddress: string;
  #phase = P_IDLE;
  #exchange: H1Exchange | null = null;
  /** The response ended before the request body: what is left of it is read and dropped. */
  #discarding = false;
  /** Unparsed input: the current buffer from #offset, then whole buffers in #more. */
  #buf: Buffer | null = null;
  #offset = 0;
  #more: Buffer[] = [];
  #pumping = false;
  #socketPaused = false;
  #draining = false;
  #peerEnded = false;
  #served = 0;
  #deadline = Infinity;
  #deadlineKind = 0;
  #timer: Timer | null = null;
  #timerDue = Infinity;

  constructor(owner: ConnectionOwner, config: ServerConfig, socket: Socket) {
    this.#owner = owner;
    this.#config = config;
    this.#socket = socket;
    this.#parser = new RequestParser(this, config.limits);
    this.#remoteAddress = socket.remoteAddress ?? '';
  }

  /**
   * Starts reading; `initialBytes` are bytes already read off the socket (protocol sniffing).
   * `draining`: the server is draining, so the first request is the last one.
   */
  start(initialBytes: Buffer | undefined, draining: boolean): void {
    this.#draining = draining;
    const socket = this.#socket;
    if (socket.destroyed) {
      this.#teardown();
      return;
    }
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    // A new connection gets the headers timeout from its start: silence is not idleness.
    if (this.#config.headersTimeoutMs > 0) this.#armIn(this.#config.headersTimeoutMs, K_HEADERS);
    if (initialBytes !== undefined && initialBytes.length > 0) this.#onData(initialBytes);
    if (draining && this.idle) this.#closeGracefully();
    if (!this.#socketPaused && this.#phase !== P_DONE) socket.resume();
  }

  /** No request is in progress and no byte of one is waiting. */
  get idle(): boolean {
    return this.#phase === P_IDLE && this.#buf === null;
  }

  /** Closes when idle; otherwise the current response carries `Connection: close`, then closes. */
  drain(): void {
    this.#draining = true;
    if (this.idle) this.#closeGracefully();
  }

  /** Closes the connection if idle; returns whether it did. */
  closeIfIdle(): boolean {
    if (!this.idle) return false;
    this.#closeGracefully();
    return true;
  }

  // === ExchangeOwner ===

  get closing(): boolean {
    return this.#draining || this.#peerEnded;
  }

  bodyReadable(): void {
    this.#pump();
  }

  bodySuspended(): void {
    this.#parser.suspend();
  }

  scheduleFlush(): void {
    // nextTick, not queueMicrotask: the latter allocates an AsyncResource per call.
    process.nextTick(this.#flushTask);
  }

  responseFinished(exchange: H1Exchange): void {
    if (exchange === this.#exchange) this.#pump();
  }

  /** Destroys the socket now (abort, fatal errors). */
  destroy(): void {
    this.#teardown();
    this.#socket.destroy();
  }

  // === RequestBodySink (the parser's body events) ===

  onBody(chunk: Buffer): void {
    if (!this.#discarding) this.#exchange?.deliverBody(chunk);
  }

  onEnd(trailers: string[] | null): void {
    if (!this.#discarding) this.#exchange?.deliverEnd(trailers);
  }

  // === socket events (bound once per connection) ===

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase >= P_CLOSING) return; // lingering: input is read only to be dropped
    if (this.#buf === null) {
      this.#buf = chunk;
      this.#offset = 0;
    } else {
      this.#more.push(chunk);
    }
    this.#pump();
  };

  readonly #onEnd = (): void => {
    this.#peerEnded = true;
    // Closing already: the client is done too, so close once our last bytes are out.
    if (this.#phase === P_CLOSING) this.#socket.destroySoon();
    // Node's http default: a FIN is the client leaving, and what it asked for is abandoned.
    else if (!this.#config.allowHalfOpen) this.destroy();
    else this.#pump();
  };

  readonly #onError = (): void => {
    this.destroy();
  };

  readonly #onClose = (): void => {
    this.#teardown();
  };

  readonly #onDrain = (): void => {
    this.#exchange?.drained();
  };

  readonly #flushTask = (): void => {
    this.#exchange?.flushPending();
  };

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerDue = Infinity;
    const deadline = this.#deadline;
    if (deadline === Infinity || this.#phase === P_DONE) return;
    const clock = this.#config.clock;
    const now = clock.now();
    if (now < deadline) {
      // Moved later since this timer was set: sleep again (≥ 1 ms, so float error cannot spin).
      this.#timerDue = deadline;
      this.#timer = clock.setTimer(Math.max(1, deadline - now), this.#onTimer);
      return;
    }
    this.#deadline = Infinity;
    const kind = this.#deadlineKind;
    if (kind === K_LINGER) {
      this.destroy();
    } else if (kind === K_HEADERS && this.#phase === P_HEAD) {
      this.#config.onBadRequest?.('headers-timeout', this.#remoteAddress);
      this.#refuse(408, 'the request head took too long');
    } else if (this.#phase === P_IDLE) {
      // Keep-alive idle, or a new connection that never sent a byte: nothing is owed to it.
      this.#closeGracefully();
    }
  };

  // === internals ===

  /** Parses what can be parsed now; see the header comment for when that is. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.#pumpLoop();
    } finally {
      this.#pumping = false;
    }
    if (this.#phase >= P_CLOSING) return;
    if (this.#peerEnded && this.#buf === null && !this.#answerOwed()) {
      // The client half-closed and no complete request is waiting for its response.
      this.destroy();
      return;
    }
    // Bytes that must wait hold the client back; none waiting lets it send again.
    const hold = this.#buf !== null;
    if (hold !== this.#socketPaused) {
      this.#socketPaused = hold;
      if (hold) this.#socket.pause();
      else this.#socket.resume();
    }
  }

  /** A whole request was received (or is being answered) and its response is still owed. */
  #answerOwed(): boolean {
    return this.#phase === P_ACTIVE && (this.#parser.complete || this.#discarding);
  }

  #pumpLoop(): void {
    const parser = this.#parser;
    for (;;) {
      const phase = this.#phase;
      if (phase >= P_CLOSING) return;
      if (phase === P_ACTIVE) {
        const exchange = this.#exchange as H1Exchange;
        if (exchange.finished) {
          if (parser.complete) {
            if (!this.#reuse(exchange)) {
              this.#closeGracefully();
              return;
            }
            continue;
          }
          if (!this.#discarding) {
            this.#discarding = true;
            exchange.stopBody();
          }
          if (this.#buf === null) {
            // The rest of the body is not here: the connection cannot be reused.
            this.#closeGracefully();
            return;
          }
        } else if (parser.complete || !exchange.bodyFlowing) {
          return; // waiting for the response, or for the body reader
        }
      }
      const buf = this.#buf;
      if (buf === null) return;
      let next: number;
      try {
        next = parser.execute(buf, this.#offset);
      } catch (error) {
        if (!parser.failed) throw error; // a body handler threw: not ours to swallow
        this.#parseFailed(error as H1ServerError);
        return;
      }
      if (next < buf.length) {
        this.#offset = next;
      } else {
        this.#buf = this.#more.shift() ?? null;
        this.#offset = 0;
      }
      if (this.#phase <= P_HEAD) {
        const head = parser.takeHead();
        if (head !== null) this.#dispatch(head);
        else if (this.#phase === P_IDLE && parser.started) this.#headStarted();
      }
    }
  }

  #headStarted(): void {
    this.#phase = P_HEAD;
    // A new connection keeps the deadline it got at its start.
    if (this.#served === 0 && this.#deadlineKind === K_HEADERS) return;
    if (this.#config.headersTimeoutMs > 0) this.#armIn(this.#config.headersTimeoutMs, K_HEADERS);
    else this.#deadline = Infinity;
  }

  #dispatch(head: RequestHead): void {
    this.#deadline = Infinity;
    const config = this.#config;
    if (head.upgrade !== '') {
      const h2c = isH2c(head.upgrade) ? config.onH2cUpgrade : undefined;
      if (h2c !== undefined && h2c.accepts(head)) {
        this.#handOff(head, h2c.upgrade);
        return;
      }
      if (config.onUpgrade !== undefined && !isH2c(head.upgrade)) {
        this.#handOff(head, config.onUpgrade);
        return;
      }
    }
    if (head.method === 'CONNECT') {
      config.onBadRequest?.('connect-not-supported', this.#remoteAddress);
      this.#refuse(501, 'CONNECT tunnels are not supported');
      return;
    }
    const exchange = new H1Exchange(this, this.#socket, head, this.#remoteAddress);
    this.#exchange = exchange;
    this.#phase = P_ACTIVE;
    this.#served++;
    try {
      config.onExchange(exchange);
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  /** After a finished exchange: readies the next request, or says the connection must close. */
  #reuse(exchange: H1Exchange): boolean {
    this.#exchange = null;
    this.#discarding = false;
    if (!exchange.keepAlive || this.#draining || this.#peerEnded) return false;
    this.#parser.reset();
    this.#phase = P_IDLE;
    if (this.#config.idleTimeoutMs > 0) this.#armIn(this.#config.idleTimeoutMs, K_IDLE);
    else this.#deadline = Infinity;
    return true;
  }

  #parseFailed(error: H1ServerError): void {
    this.#config.onBadRequest?.(error.reason, this.#remoteAddress);
    const exchange = this.#exchange;
    if (this.#phase === P_ACTIVE && exchange !== null) {
      if (this.#discarding) {
        // The response is out; the rest of the input is garbage. Nothing more is said.
        this.#closeGracefully();
        return;
      }
      exchange.failBody(error);
      if (this.#socket.destroyed) return; // the reader aborted the exchange itself
      if (exchange.headSent) {
        // A second response would be spliced into the first: cut the connection instead.
        this.destroy();
        return;
      }
      // The server answers for the consumer; its writer goes inert and it hears of the abort.
      exchange.clientGone();
    }
    this.#refuse(error.status as RefusalStatus, error.message);
  }

  /** Answers with an error status and `Connection: close`, then closes. */
  #refuse(status: RefusalStatus, message: string): void {
    if (this.#phase >= P_CLOSING) return;
    const body = `${message}\n`;
    const tag =
      status === 431 ? 'headers-too-large' : status === 413 ? 'request-too-large' : 'bad-request';
    this.#socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain\r\n` +
        `content-length: ${body.length}\r\nx-trellis-error: ${tag}\r\nconnection: close\r\n\r\n${body}`,
      'latin1',
    );
    this.#closeGracefully();
  }

  /**
   * Sends FIN after what is queued and keeps reading (dropping) until the client closes or
   * `lingerMs` passes: closing with unread input would RST the connection, and a RST can
   * destroy the last response before the client reads it.
   */
  #closeGracefully(): void {
    if (this.#phase >= P_CLOSING) return;
    this.#phase = P_CLOSING;
    const exchange = this.#exchange;
    this.#exchange = null;
    if (exchange !== null && !exchange.finished) exchange.clientGone();
    this.#buf = null;
    this.#more = [];
    const socket = this.#socket;
    this.#armIn(this.#config.lingerMs, K_LINGER);
    if (this.#peerEnded) {
      // Nothing more can arrive: close as soon as the last bytes are out.
      socket.destroySoon();
      return;
    }
    socket.end();
    if (this.#socketPaused) {
      this.#socketPaused = false;
      socket.resume();
    }
  }

  #handOff(head: RequestHead, onUpgrade: NonNullable<ServerConfig['onUpgrade']>): void {
    this.#phase = P_DONE;
    this.#deadline = Infinity;
    this.#timer?.cancel();
    this.#timer = null;
    const socket = this.#socket;
    socket.pause();
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    socket.off('drain', this.#onDrain);
    let rest = this.#buf === null ? Buffer.alloc(0) : this.#buf.subarray(this.#offset);
    if (this.#more.length > 0) rest = Buffer.concat([rest, ...this.#more]);
    this.#buf = null;
    this.#more = [];
    this.#owner.connectionClosed(this);
    onUpgrade(head, socket, rest);
  }

  #teardown(): void {
    if (this.#phase === P_DONE) return;
    this.#phase = P_DONE;
    this.#deadline = Infinity;
    this.#timer?.cancel();
    this.#timer = null;
    this.#buf = null;
    this.#more = [];
    const exchange = this.#exchange;
    this.#exchange = null;
    this.#owner.connectionClosed(this);
    exchange?.clientGone();
  }

  #armIn(ms: number, kind: number): void {
    const clock = this.#config.clock;
    const deadline = clock.now() + ms;
    this.#deadline = deadline;
    this.#deadlineKind = kind;
    if (deadline < this.#timerDue) {
      this.#timer?.cancel();
      this.#timerDue = deadline;
      this.#timer = clock.setTimer(ms, this.#onTimer);
    }
  }
}
