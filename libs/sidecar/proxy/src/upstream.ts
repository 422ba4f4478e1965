// The proxy's view of an upstream call, whatever the protocol: the HTTP/1.1 pool and the h2c
// pool are adapted to this one interface (see connectors.ts), so layers never branch on it.
import type { Protocol } from '@trellis/config';
import type { TrellisErrorCode } from '@trellis/sidecar-resilience';
import type { FlatHeaders } from './flat-headers.js';

export interface UpstreamHead {
  readonly method: string;
  /** Request target (path and query) to send. */
  readonly target: string;
  readonly authority: string;
  /** Forwardable fields (lower-case names, no hop-by-hop, no pseudo-headers). */
  readonly headers: FlatHeaders;
  readonly hasBody: boolean;
}

export interface UpstreamHandler {
  /**
   * An interim 1xx response (103 Early Hints, …; names lower-cased), before the final head.
   * Optional: a handler that relays nothing (a mirrored copy) leaves it out.
   */
  onInformational?(status: number, headers: FlatHeaders): void;
  onResponseHead(status: number, headers: FlatHeaders): void;
  onData(chunk: Buffer): void;
  onEnd(trailers: FlatHeaders | undefined): void;
  onError(error: UpstreamError): void;
}

export interface UpstreamCall {
  write(chunk: Buffer): boolean;
  /** Called once when a write() that returned false may be followed by more. */
  onDrain(callback: () => void): void;
  end(trailers?: FlatHeaders): void;
  abort(): void;
  pause(): void;
  resume(): void;
}

export interface UpstreamTarget {
  readonly address: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** Connection settings of the destination; the first call to an endpoint sizes its pool. */
  readonly pool?: UpstreamPoolSettings;
}

export interface UpstreamPoolSettings {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequestsPerConnection: number | undefined;
}

export interface UpstreamConnector {
  request(target: UpstreamTarget, head: UpstreamHead, handler: UpstreamHandler): UpstreamCall;
  /** Closes idle connections to endpoints no longer in use. */
  retain(targets: ReadonlySet<string>): void;
  close(): Promise<void>;
}

/** How an upstream call failed, in the terms retry policies and outlier detection use. */
export type UpstreamFailure =
  | 'connect-failure'
  | 'connect-timeout'
  | 'reset'
  | 'refused-stream'
  | 'protocol-error'
  | 'per-try-timeout'
  | 'pool-overflow';

export interface UpstreamErrorOptions {
  /** Default: true for connect-failure, connect-timeout and refused-stream, else false. */
  readonly retriableAnyMethod?: boolean;
  readonly staleConnection?: boolean;
  readonly cause?: unknown;
}

export class UpstreamError extends Error {
  readonly failure: UpstreamFailure;
  /**
   * No byte of the request can have reached the upstream, so sending it again is safe whatever
   * the method: the connection never opened (connect failure or timeout); the HTTP/2 stream was
   * refused, excluded by GOAWAY or never sent; or the HTTP/1.1 pool's reused keep-alive
   * connection failed before the socket took any byte of the request and before any response
   * byte (the upstream's reset had already arrived). Not set when the request may have been
   * written, even if the upstream most likely dropped it unread (see staleConnection).
   */
  readonly retriableAnyMethod: boolean;
  /**
   * A reset on a reused HTTP/1.1 keep-alive connection before any response byte: typically the
   * upstream closing the connection as idle while the request was on its way. The request may
   * have been written and read, so this alone makes only idempotent methods safe to resend.
   */
  readonly staleConnection: boolean;

  constructor(failure: UpstreamFailure, message: string, options: UpstreamErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'UpstreamError';
    this.failure = failure;
    this.retriableAnyMethod =
      options.retriableAnyMethod ??
      (failure === 'connect-failure' ||
        failure === 'connect-timeout' ||
        failure === 'refused-stream');
    this.staleConnection = options.staleConnection ?? false;
  }
}

export const targetKey = (t: UpstreamTarget): string => `${t.protocol}/${t.address}:${t.port}`;

/** The proxy answer each upstream failure becomes when it is not retried. */
export const UPSTREAM_FAILURE_CODES: Readonly<Record<UpstreamFailure, TrellisErrorCode>> = {
  'connect-failure': 'TRL_UPSTREAM_CONNECT_FAILURE',
  'connect-timeout': 'TRL_UPSTREAM_CONNECT_TIMEOUT',
  reset: 'TRL_UPSTREAM_RESET',
  'refused-stream': 'TRL_UPSTREAM_RESET',
  'protocol-error': 'TRL_UPSTREAM_PROTOCOL_ERROR',
  'per-try-timeout': 'TRL_PER_TRY_TIMEOUT',
  'pool-overflow': 'TRL_OVERLOADED',
};
