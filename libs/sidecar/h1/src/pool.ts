// H1Pool: keep-alive HTTP/1.1 connections to one destination. Idle connections are reused
// last-in first-out (the warmest socket first, so surplus ones age out); when every allowed
// connection is busy, requests wait in a bounded FIFO. One request per connection at a time.
import type { Socket } from 'node:net';
import { systemClock } from '@trellis/time';
import { H1Connection } from './connection.js';
import type { ConnectionConfig, ConnectionOwner } from './connection.js';
import { H1Error } from './errors.js';
import { H1Request } from './request.js';
import type { RequestQueueOwner } from './request.js';
import { RequestQueue } from './request-queue.js';
import { UpstreamSocket } from './upstream-socket.js';
import { DEFAULT_PARSER_LIMITS } from './response-parser.js';
import type {
  H1Dialer,
  H1PoolOptions,
  H1PoolStats,
  H1RequestInit,
  H1ResponseHandler,
  RequestHandle,
} from './types.js';

const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_QUEUED = 1024;
const DEFAULT_CONTINUE_TIMEOUT_MS = 1_000;

function defaultDial(host: string, port: number): Socket {
  // An UpstreamSocket survives a failed body write, so an early answer can still be read.
  const socket = new UpstreamSocket();
  socket.setNoDelay(true);
  return socket.connect({ host, port });
}

function checkNumber(
  name: string,
  value: number,
  min: number,
  integer: boolean,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (
    typeof value !== 'number' ||
    !(value >= min && value <= max) ||
    (integer && !Number.isInteger(value))
  ) {
    throw new H1Error(
      'TRL_H1_INVALID_OPTIONS',
      `${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}] (got ${value})`,
    );
  }
  return value;
}

export class H1Pool {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  readonly #maxConnections: number;
  readonly #maxQueued: number;
  readonly #dial: H1Dialer;
  readonly #config: ConnectionConfig;
  readonly #all = new Set<H1Connection>();
  /** Idle connections; the top of the stack is the most recently used. */
  readonly #idle: H1Connection[] = [];
  readonly #queue = new RequestQueue<H1Request>();
  readonly #owner: ConnectionOwner & RequestQueueOwner;
  #created = 0;
  #reused = 0;
  #requests = 0;
  #closing = false;
  #closed: Promise<void> | null = null;
  #resolveClosed: (() => void) | null = null;

  constructor(options: H1PoolOptions) {
    if (typeof options.host !== 'string' || options.host.length === 0) {
      throw new H1Error('TRL_H1_INVALID_OPTIONS', 'host must be a non-empty string');
    }
    this.#host = options.host;
    this.#port = checkNumber('port', options.port, 1, true, 65535);
    this.#maxConnections = checkNumber('maxConnections', options.maxConnections, 1, true);
    this.#maxQueued = checkNumber('maxQueued', options.maxQueued ?? DEFAULT_MAX_QUEUED, 0, true);
    const limits = {
      maxHeaderBytes: checkNumber(
        'maxHeaderBytes',
        options.maxHeaderBytes ?? DEFAULT_PARSER_LIMITS.maxHeaderBytes,
        64,
        true,
      ),
      maxHeaderCount: checkNumber(
        'maxHeaderCount',
        options.maxHeaderCount ?? DEFAULT_PARSER_LIMITS.maxHeaderCount,
        1,
        true,
      ),
    };
    const authority = this.#host.includes(':')
      ? `[${this.#host}]:${this.#port}`
      : `${this.#host}:${this.#port}`;
    this.#hostHeader = authority;
    this.#config = {
      clock: options.clock ?? systemClock,
      authority,
      connectTimeoutMs: checkNumber('connectTimeoutMs', options.connectTimeoutMs, 0, false),
      idleTimeoutMs: checkNumber('idleTimeoutMs', options.idleTimeoutMs, 0, false),
      responseTimeoutMs: checkNumber(
        'responseTimeoutMs',
        options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
        0,
        false,
      ),
      continueTimeoutMs: checkNumber(
        'continueTimeoutMs',
        options.continueTimeoutMs ?? DEFAULT_CONTINUE_TIMEOUT_MS,
        0,
        false,
      ),
      maxRequests:
        options.maxRequestsPerConnection === undefined
          ? Infinity
          : checkNumber('maxRequestsPerConnection', options.maxRequestsPerConnection, 1, true),
      parserLimits: limits,
    };
    this.#dial = options.dial ?? defaultDial;
    // Callbacks for connections and queued requests, kept off the public surface.
    this.#owner = {
      connectionFree: (conn) => this.#connectionFree(conn),
      connectionGone: (conn) => this.#connectionGone(conn),
      dequeue: (req) => {
        this.#queue.remove(req);
        this.#settleClose();
      },
    };
  }

  /**
   * Sends a request. Throws H1Error before any I/O for an invalid request
   * (TRL_H1_INVALID_REQUEST), a full queue (TRL_H1_POOL_QUEUE_FULL) or a closing pool
   * (TRL_H1_POOL_CLOSED); every later failure reaches `handler.onError`.
   */
  request(init: H1RequestInit, handler: H1ResponseHandler): RequestHandle {
    if (this.#closing) throw new H1Error('TRL_H1_POOL_CLOSED', 'the pool is closed');
    const req = new H1Request(init, handler, this.#hostHeader, this.#owner);
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      this.#dispatch(idle, req);
    } else if (this.#all.size < this.#maxConnections) {
      this.#open(req);
    } else if (this.#queue.size < this.#maxQueued) {
      this.#queue.push(req);
    } else {
      throw new H1Error(
        'TRL_H1_POOL_QUEUE_FULL',
        `${this.#maxConnections} connections busy and ${this.#queue.size} requests queued for ${this.#hostHeader}`,
      );
    }
    return req;
  }

  stats(): H1PoolStats {
    let connecting = 0;
    let busy = 0;
    for (const conn of this.#all) {
      if (conn.connecting) connecting++;
      else if (conn.busy) busy++;
    }
    return {
      open: this.#all.size,
      connecting,
      busy,
      idle: this.#idle.length,
      queued: this.#queue.size,
      created: this.#created,
      reused: this.#reused,
      requests: this.#requests,
    };
  }

  /**
   * Stops taking requests and drains: idle connections close now, queued and in-flight
   * requests run to their end, then their connections close. Resolves when none is left.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      for (const conn of this.#idle.splice(0)) conn.shutdown();
    }
    this.#closed ??= new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#settleClose();
    return this.#closed;
  }

  /** Closes at once: queued and in-flight requests fail with TRL_H1_POOL_CLOSED. */
  destroy(): void {
    this.#closing = true;
    const error = new H1Error('TRL_H1_POOL_CLOSED', 'the pool was destroyed');
    for (let req = this.#queue.shift(); req !== null; req = this.#queue.shift()) req.fail(error);
    for (const conn of [...this.#all]) conn.destroyWith(error);
    this.#settleClose();
  }

  #dispatch(conn: H1Connection, req: H1Request): void {
    if (conn.requestsServed > 0) this.#reused++;
    this.#requests++;
    conn.dispatch(req);
  }

  #open(req: H1Request): void {
    this.#created++;
    this.#requests++;
    const socket = this.#dial(this.#host, this.#port);
    this.#all.add(new H1Connection(this.#owner, this.#config, socket, req));
  }

  #connectionFree(conn: H1Connection): void {
    const next = this.#queue.shift();
    if (next !== null) {
      this.#dispatch(conn, next);
    } else if (this.#closing) {
      conn.shutdown();
    } else {
      conn.makeIdle();
      this.#idle.push(conn);
    }
  }

  #connectionGone(conn: H1Connection): void {
    this.#all.delete(conn);
    const at = this.#idle.lastIndexOf(conn);
    if (at >= 0) this.#idle.splice(at, 1);
    // A slot opened: the oldest waiting request gets a new connection.
    if (this.#queue.size > 0 && this.#all.size < this.#maxConnections) {
      const next = this.#queue.shift();
      if (next !== null) this.#open(next);
    }
    this.#settleClose();
  }

  #settleClose(): void {
    if (this.#resolveClosed !== null && this.#all.size === 0 && this.#queue.size === 0) {
      const resolve = this.#resolveClosed;
      this.#resolveClosed = null;
      resolve();
    }
  }
}
