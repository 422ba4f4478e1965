// Public shapes of the HTTP/1.1 upstream pool: options, request, response handler, handle, stats.
import type { Socket } from 'node:net';
import type { Clock } from '@trellis/time';
import type { H1Error } from './errors.js';

/** Opens a TCP connection to the destination; the pool waits for its 'connect' event. */
export type H1Dialer = (host: string, port: number) => Socket;

export interface H1PoolOptions {
  readonly host: string;
  readonly port: number;
  /** Most connections open at once (connecting, busy or idle); ≥ 1. */
  readonly maxConnections: number;
  /** Longest TCP connect; 0 disables. */
  readonly connectTimeoutMs: number;
  /** An idle connection is closed after this long unused; 0 keeps idle connections forever. */
  readonly idleTimeoutMs: number;
  /** A connection is closed after serving this many requests. Default: unlimited. */
  readonly maxRequestsPerConnection?: number;
  /**
   * Longest upstream silence while a response is owed: from the end of the request (or from the
   * head, when waiting for 100 Continue), re-armed by every read, suspended while the consumer
   * has paused reading. 0 disables. Default 60 000.
   */
  readonly responseTimeoutMs?: number;
  /**
   * How long a body held for `Expect: 100-continue` waits for 100 before it is sent anyway
   * (servers that ignore Expect never send 100). 0: wait for a response. Default 1000.
   */
  readonly continueTimeoutMs?: number;
  /** Most requests waiting for a connection; beyond it request() throws. Default 1024. */
  readonly maxQueued?: number;
  /** Largest response head or trailer section in bytes. Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** Most fields in a response head or trailer section. Default 100. */
  readonly maxHeaderCount?: number;
  /** Time and timers; tests pass a FakeClock. Default: systemClock. */
  readonly clock?: Clock;
  /** Default: `net.connect({host, port, noDelay: true})`. */
  readonly dial?: H1Dialer;
}

export interface H1RequestInit {
  readonly method: string;
  /** The request-target as sent: origin form ("/a?b"), or authority form for CONNECT. */
  readonly path: string;
  /**
   * Flat [name, value, name, value, …] as sent, order and duplicates kept (Node's rawHeaders
   * shape). A Host field is added (`host:port`) when absent. Hop-by-hop fields are the caller's
   * business, except that the pool honours Connection: close, Expect and Upgrade.
   */
  readonly headers: readonly string[];
  /**
   * Sent as the first field, `host: <host>`, ahead of `headers` (which then should hold no Host
   * of their own): the same bytes as a ['host', host] pair at the front of `headers`, without
   * the caller copying its list to put it there. Absent: see `headers`.
   */
  readonly host?: string;
  /**
   * True when a body follows through write()/end(): framed by the caller's Content-Length,
   * else chunked (Transfer-Encoding: chunked is added when absent). False: the request is
   * complete once its head is sent, and end() is optional.
   */
  readonly hasBody: boolean;
  /** Send `Expect: 100-continue` and hold the body until 100 arrives (or a final response). */
  readonly expectContinue?: boolean;
}

/**
 * Receives one response. Calls arrive in order: onInformational*, onResponseHead, onData*,
 * onTrailers?, onEnd — or onError at any point (then nothing else). After abort(), nothing.
 */
export interface H1ResponseHandler {
  /** 1xx other than 101: 100 Continue, 103 Early Hints, … */
  onInformational?(status: number, reason: string, headers: string[]): void;
  /**
   * `keepAlive` is the upstream's intent for the connection (false on Connection: close, an
   * HTTP/1.0 response without keep-alive, or a body delimited by the close).
   */
  onResponseHead(status: number, reason: string, headers: string[], keepAlive: boolean): void;
  /** A view of the socket's read buffer; not copied. Keep it or write it on, never mutate it. */
  onData(chunk: Buffer): void;
  onTrailers(trailers: string[]): void;
  onEnd(): void;
  onError(error: H1Error): void;
  /**
   * After onResponseHead(101, …) (or a 2xx to CONNECT): the socket now belongs to the caller,
   * out of the pool, paused, with no listeners of ours; `head` holds bytes already read after
   * the response head. Attach 'data'/'error' listeners, then resume() (pipe() resumes).
   */
  onUpgrade?(socket: Socket, head: Buffer): void;
}

export interface RequestHandle {
  /**
   * Sends body bytes (not copied: do not mutate until written). Returns false when the caller
   * should wait for onDrain: the socket buffer is full, or the request still waits for a
   * connection or for 100 Continue. No-op once the response ended, failed or was aborted.
   */
  write(chunk: Uint8Array): boolean;
  /** Ends the body (chunked: writes the last chunk). */
  end(): void;
  /** Gives up: queued → dequeued; in flight → its connection is destroyed. No more callbacks. */
  abort(): void;
  /** Stops reading the response (back-pressure); the response timeout is suspended meanwhile. */
  pause(): void;
  resume(): void;
  /** Called when a write() that returned false may be followed by more writes. */
  onDrain: (() => void) | null;
}

export interface H1PoolStats {
  /** Connections held: connecting + busy + idle. */
  readonly open: number;
  readonly connecting: number;
  readonly busy: number;
  readonly idle: number;
  readonly queued: number;
  /** Connections dialled since the pool was created. */
  readonly created: number;
  /** Requests sent on a connection that had served one before. */
  readonly reused: number;
  /** Requests sent (dispatched to a connection). */
  readonly requests: number;
}
