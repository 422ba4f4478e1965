// Options of the HTTP/1.1 downstream server and the resolved configuration its connections share.
import type { Socket } from 'node:net';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';
import { H1ServerError } from './errors.js';
import type { DownstreamExchange } from './exchange.js';
import type { RequestHead } from './request-head.js';
import type { RequestParserLimits } from './request-parser.js';

/** Takes `Upgrade: h2c` requests to an HTTP/2 server (RFC 7540 §3.2). */
export interface H2cUpgradeHook {
  /** True when the request qualifies (HTTP2-Settings, no body…); false: served as HTTP/1.1. */
  readonly accepts: (request: RequestHead) => boolean;
  /** Receives the socket as onUpgrade would: paused, without our listeners, with `head`. */
  readonly upgrade: (request: RequestHead, socket: Socket, head: Buffer) => void;
}

export interface H1ServerOptions {
  /** Receives each request, one at a time per connection. */
  readonly onExchange: (exchange: DownstreamExchange) => void;
  /**
   * Receives `Connection: upgrade` requests (except `Upgrade: h2c`: see onH2cUpgrade).
   * The socket is paused, has none of our listeners and belongs to the callee; `head` holds the
   * bytes read past the request head. Without this callback, upgrade requests are served as
   * ordinary requests (RFC 9110 §7.8 lets a server ignore Upgrade).
   */
  readonly onUpgrade?: (request: RequestHead, socket: Socket, head: Buffer) => void;
  /** `Upgrade: h2c` requests it accepts; without it they are served as plain HTTP/1.1. */
  readonly onH2cUpgrade?: H2cUpgradeHook;
  /** A request was refused (parse error, smuggling shape, limits, headers timeout). */
  readonly onBadRequest?: (reason: string, remoteAddress: string) => void;
  /**
   * A client FIN (default false): aborts the request in progress and closes, as Node's http
   * server does, so upstream work stops when the client leaves. With true, a client that
   * half-closes after a complete request still gets its answer, then the connection closes
   * (the accepting net server must then be created with `allowHalfOpen: true` too).
   */
  readonly allowHalfOpen?: boolean;
  /** Time source and timers (default systemClock). */
  readonly clock?: Clock;
  /** Largest request head or trailer section, bytes (default 64 KiB). Over it: 431. */
  readonly maxHeaderBytes?: number;
  /** Most fields in a request head or trailer section (default 100). Over it: 431. */
  readonly maxHeaderCount?: number;
  /**
   * Largest request body, bytes (default Infinity: no limit). Over it: 413, the connection
   * closed after the answer; a declared Content-Length is refused before dispatch, a chunked
   * body as soon as a chunk size would pass it (the exchange then fails like on any framing
   * error, and the connection is cut instead when its response already started).
   */
  readonly maxBodyBytes?: number;
  /** From a request's first byte to the end of its head, ms (default 30 s; 0: none). 408. */
  readonly headersTimeoutMs?: number;
  /** Keep-alive connection idle between requests, ms (default 5 min; 0: none). Closed. */
  readonly idleTimeoutMs?: number;
  /**
   * After the server's FIN, how long it keeps reading (and discarding) before it destroys the
   * socket, ms (default 2 s, at least 1). Closing with unread input would send a RST that can
   * destroy the final response in the client's receive buffer.
   */
  readonly lingerMs?: number;
}

export interface ServerConfig {
  readonly onExchange: (exchange: DownstreamExchange) => void;
  readonly onUpgrade: ((request: RequestHead, socket: Socket, head: Buffer) => void) | undefined;
  readonly onH2cUpgrade: H2cUpgradeHook | undefined;
  readonly onBadRequest: ((reason: string, remoteAddress: string) => void) | undefined;
  readonly allowHalfOpen: boolean;
  readonly clock: Clock;
  readonly limits: RequestParserLimits;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly lingerMs: number;
}

function nonNegative(
  name: string,
  value: number | undefined,
  fallback: number,
  infinite = false,
): number {
  const v = value ?? fallback;
  if (!(v >= 0) || (!infinite && !Number.isFinite(v))) {
    throw new H1ServerError(
      'TRL_H1S_INVALID_OPTIONS',
      `${name} must be ${infinite ? 'a number' : 'a finite number'} ≥ 0`,
    );
  }
  return v;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new H1ServerError('TRL_H1S_INVALID_OPTIONS', `${name} must be an integer ≥ 1`);
  }
  return v;
}

export function resolveConfig(options: H1ServerOptions): ServerConfig {
  if (typeof options.onExchange !== 'function') {
    throw new H1ServerError('TRL_H1S_INVALID_OPTIONS', 'onExchange is required');
  }
  return {
    onExchange: options.onExchange,
    onUpgrade: options.onUpgrade,
    onH2cUpgrade: options.onH2cUpgrade,
    onBadRequest: options.onBadRequest,
    allowHalfOpen: options.allowHalfOpen ?? false,
    clock: options.clock ?? systemClock,
    limits: {
      maxHeaderBytes: positiveInt('maxHeaderBytes', options.maxHeaderBytes, 64 * 1024),
      maxHeaderCount: positiveInt('maxHeaderCount', options.maxHeaderCount, 100),
      maxBodyBytes: nonNegative('maxBodyBytes', options.maxBodyBytes, Infinity, true),
    },
    headersTimeoutMs: nonNegative('headersTimeoutMs', options.headersTimeoutMs, 30_000),
    idleTimeoutMs: nonNegative('idleTimeoutMs', options.idleTimeoutMs, 300_000),
    lingerMs: positiveInt('lingerMs', options.lingerMs, 2_000),
  };
}
