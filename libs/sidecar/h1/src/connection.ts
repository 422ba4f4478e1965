// One keep-alive upstream connection: its socket, its response parser, one request at a time,
// and a single lazily re-armed timer that enforces the connect, response and idle timeouts
// (deadlines only move later on the hot path, so a busy connection rarely touches the timer).
import type { Socket } from 'node:net';
import type { Clock, Timer } from '@trellis/time';
import { H1Error } from './errors.js';
import type { H1Request } from './request.js';
import { ResponseParser } from './response-parser.js';
import { writeFailed } from './upstream-socket.js';
import type { ResponseParserLimits } from './response-parser.js';

export interface ConnectionConfig {
  readonly clock: Clock;
  /** Used in error messages: "host:port". */
  readonly authority: string;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** How long a body waits for 100 Continue before it is sent anyway (0: until a response). */
  readonly continueTimeoutMs: number;
  /** Requests per connection before it is retired (Infinity: no limit). */
  readonly maxRequests: number;
  readonly parserLimits: ResponseParserLimits;
}

export interface ConnectionOwner {
  /** The connection connected or finished a response, and can take another request. */
  connectionFree(conn: H1Connection): void;
  /** The connection left the pool for good (closed, failed, expired, upgraded). Called once. */
  connectionGone(conn: H1Connection): void;
}

const C_CONNECTING = 0;
const C_BUSY = 1;
const C_IDLE = 2;
const C_FREE = 3; // handed to the owner, about to be dispatched or idled
const C_CLOSED = 4;

interface ErrnoError extends Error {
  code?: string;
}

export class H1Connection {
  readonly #owner: ConnectionOwner;
  readonly #config: ConnectionConfig;
  readonly #socket: Socket;
  readonly #parser: ResponseParser;
  #state = C_CONNECTING;
  #req: H1Request | null;
  #served = 0;
  #reusedForCurrent = false;
  /** Bytes received since the current request was dispatched. */
  #received = 0;
  #paused = false;
  #deadline = Infinity;
  #timer: Timer | null = null;
  #timerDue = Infinity;

  constructor(
    owner: ConnectionOwner,
    config: ConnectionConfig,
    socket: Socket,
    request: H1Request | null,
  ) {
    this.#owner = owner;
    this.#config = config;
    this.#socket = socket;
    this.#parser = new ResponseParser(config.parserLimits);
    this.#req = request;
    request?.assign(this);
    socket.on('connect', this.#onConnect);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    if (config.connectTimeoutMs > 0) this.#armIn(config.connectTimeoutMs);
  }

  get connecting(): boolean {
    return this.#state === C_CONNECTING;
  }

  get busy(): boolean {
    return this.#state === C_BUSY;
  }

  /** Requests dispatched on this connection so far. */
  get requestsServed(): number {
    return this.#served;
  }

  /** Sends `req` on this connected, free connection. */
  dispatch(req: H1Request): void {
    this.#req = req;
    this.#state = C_BUSY;
    this.#reusedForCurrent = this.#served > 0;
    this.#served++;
    this.#received = 0;
    this.#deadline = Infinity;
    this.#parser.begin(req, req.expect);
    req.start(this, this.#socket);
  }

  /** Parks the connection in the idle set, where it expires after idleTimeoutMs. */
  makeIdle(): void {
    this.#state = C_IDLE;
    if (this.#config.idleTimeoutMs > 0) this.#armIn(this.#config.idleTimeoutMs);
    else this.#deadline = Infinity;
  }

  /** Closes the connection now (pool closing, or retiring it). */
  shutdown(): void {
    this.#close();
  }

  /** Fails the current request with `error` and closes (pool destroyed). */
  destroyWith(error: H1Error): void {
    this.#fail(error);
  }

  /** The request will receive nothing more; a connect in progress goes on without it. */
  detach(req: H1Request): void {
    if (this.#req === req) this.#req = null;
  }

  /** The request was aborted mid-flight: the stream is in an unknown state, so it closes. */
  abortRequest(req: H1Request): void {
    if (this.#req !== req) return;
    this.#req = null;
    this.#close();
  }

  /** The whole request is out: the upstream now owes a response. */
  responseOwed(): void {
    if (this.#state === C_BUSY && !this.#paused && this.#config.responseTimeoutMs > 0) {
      this.#armIn(this.#config.responseTimeoutMs);
    }
  }

  /** The head went out with Expect: 100-continue and the body is held. */
  awaitContinue(): void {
    if (this.#state !== C_BUSY || this.#paused) return;
    const ms = this.#continueFirst()
      ? this.#config.continueTimeoutMs
      : this.#config.responseTimeoutMs;
    if (ms > 0) this.#armIn(ms);
  }

  pauseReading(): void {
    if (this.#paused || this.#state !== C_BUSY) return;
    this.#paused = true;
    this.#socket.pause();
    // Silence we asked for is not the upstream's fault.
    this.#deadline = Infinity;
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket.resume();
    const req = this.#req;
    if (req !== null && req.awaitingContinue && this.#received === 0) this.awaitContinue();
    else if (req !== null && (req.sent || this.#received > 0)) this.responseOwed();
  }

  // === socket events (bound once per connection) ===

  readonly #onConnect = (): void => {
    if (this.#state !== C_CONNECTING) return;
    this.#socket.setNoDelay(true);
    this.#deadline = Infinity;
    const req = this.#req;
    if (req !== null) {
      this.dispatch(req);
    } else {
      this.#state = C_FREE;
      this.#owner.connectionFree(this);
    }
  };

  readonly #onData = (chunk: Buffer): void => {
    const req = this.#req;
    if (req === null || this.#state !== C_BUSY) {
      // Bytes nobody asked for: the stream can no longer be trusted.
      this.#close();
      return;
    }
    this.#received += chunk.length;
    if (this.#config.responseTimeoutMs > 0 && !this.#paused) {
      this.#armIn(this.#config.responseTimeoutMs);
    }
    let used: number;
    try {
      used = this.#parser.execute(chunk);
    } catch (err) {
      if (this.#parser.failed) {
        this.#fail(err as H1Error);
        return;
      }
      // The handler threw: its request is abandoned, the stream is dropped, the error goes on.
      this.#req = null;
      req.discard();
      this.#close();
      throw err;
    }
    if (this.#req !== req) return; // aborted from inside a callback
    if (this.#parser.complete) this.#complete(req, used < chunk.length);
    else if (this.#parser.upgraded) this.#upgrade(req, chunk.subarray(used));
  };

  readonly #onEnd = (): void => {
    if (this.#state === C_BUSY && this.#req !== null) {
      if (this.#parser.finish()) this.#complete(this.#req, false);
      else this.#fail(this.#resetError(undefined));
    } else {
      this.#close();
    }
  };

  readonly #onError = (err: ErrnoError): void => {
    if (this.#state === C_CLOSED) return;
    if (this.#state === C_CONNECTING) {
      const refused = err.code === 'ECONNREFUSED';
      this.#fail(
        new H1Error(
          refused ? 'TRL_H1_CONNECT_REFUSED' : 'TRL_H1_CONNECT_FAILED',
          `connect to ${this.#config.authority} failed: ${err.message}`,
          { retriable: true, cause: err },
        ),
      );
    } else {
      this.#fail(this.#resetError(err));
    }
  };

  readonly #onClose = (): void => {
    if (this.#state === C_CLOSED) return;
    if (this.#state === C_CONNECTING) {
      this.#fail(
        new H1Error('TRL_H1_CONNECT_FAILED', `connect to ${this.#config.authority} was closed`, {
          retriable: true,
        }),
      );
    } else {
      this.#fail(this.#resetError(undefined));
    }
  };

  readonly #onDrain = (): void => {
    this.#req?.drained();
  };

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerDue = Infinity;
    const deadline = this.#deadline;
    if (deadline === Infinity || this.#state === C_CLOSED) return;
    const clock = this.#config.clock;
    const now = clock.now();
    if (now < deadline) {
      // Moved later since this timer was set: sleep again (≥ 1 ms, so float error cannot spin).
      this.#timerDue = deadline;
      this.#timer = clock.setTimer(Math.max(1, deadline - now), this.#onTimer);
      return;
    }
    this.#deadline = Infinity;
    if (this.#state === C_CONNECTING) {
      this.#fail(
        new H1Error(
          'TRL_H1_CONNECT_TIMEOUT',
          `connect to ${this.#config.authority} took over ${this.#config.connectTimeoutMs} ms`,
          { retriable: true },
        ),
      );
    } else if (this.#state === C_BUSY) {
      const req = this.#req;
      if (req !== null && req.awaitingContinue && this.#continueFirst()) {
        // RFC 9110 §10.1.1: a client need not wait for 100 forever; many servers never send it.
        // Once the body is all out, proceed() arms the response timeout as usual.
        req.proceed();
        return;
      }
      this.#fail(
        new H1Error(
          'TRL_H1_RESPONSE_TIMEOUT',
          `${this.#config.authority} sent nothing for ${this.#config.responseTimeoutMs} ms`,
          {
            reusedConnection: this.#reusedForCurrent,
            requestWritten: req?.requestWritten ?? false,
            responseStarted: this.#received > 0,
          },
        ),
      );
    } else {
      this.#close();
    }
  };

  // === internals ===

  /** The wait for 100 Continue ends before the response timeout would. */
  #continueFirst(): boolean {
    const { continueTimeoutMs, responseTimeoutMs } = this.#config;
    return (
      continueTimeoutMs > 0 && (responseTimeoutMs === 0 || continueTimeoutMs < responseTimeoutMs)
    );
  }

  #armIn(ms: number): void {
    const clock = this.#config.clock;
    const deadline = clock.now() + ms;
    this.#deadline = deadline;
    if (deadline < this.#timerDue) {
      this.#timer?.cancel();
      this.#timerDue = deadline;
      this.#timer = clock.setTimer(ms, this.#onTimer);
    }
  }

  #complete(req: H1Request, trailingBytes: boolean): void {
    this.#req = null;
    this.#deadline = Infinity;
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
    const reusable =
      this.#parser.keepAlive &&
      req.sent &&
      !req.connectionClose &&
      !trailingBytes &&
      this.#served < this.#config.maxRequests &&
      !writeFailed(this.#socket);
    if (reusable) {
      this.#state = C_FREE;
      this.#owner.connectionFree(this);
    } else {
      this.#close();
    }
    req.finish();
  }

  #upgrade(req: H1Request, head: Buffer): void {
    this.#req = null;
    this.#state = C_CLOSED;
    this.#deadline = Infinity;
    this.#timer?.cancel();
    this.#timer = null;
    const socket = this.#socket;
    socket.pause();
    socket.off('connect', this.#onConnect);
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    socket.off('drain', this.#onDrain);
    this.#owner.connectionGone(this);
    req.upgraded(socket, head);
  }

  #resetError(cause: Error | undefined): H1Error {
    const started = this.#received > 0;
    return new H1Error(
      'TRL_H1_CONNECTION_RESET',
      started
        ? `${this.#config.authority} closed the connection mid-response`
        : `${this.#config.authority} closed the connection before responding`,
      {
        retriable: this.#reusedForCurrent && !started,
        reusedConnection: this.#reusedForCurrent,
        requestWritten: this.#req?.requestWritten ?? false,
        responseStarted: started,
        cause,
      },
    );
  }

  #fail(error: H1Error): void {
    const req = this.#req;
    this.#req = null;
    this.#close();
    req?.fail(error);
  }

  #close(): void {
    if (this.#state === C_CLOSED) return;
    this.#state = C_CLOSED;
    this.#deadline = Infinity;
    this.#timer?.cancel();
    this.#timer = null;
    this.#parser.stop();
    this.#socket.destroy();
    this.#owner.connectionGone(this);
  }
}
