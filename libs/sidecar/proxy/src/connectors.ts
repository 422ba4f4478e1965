// The real upstream side: the lean HTTP/1.1 keep-alive pool for `http1` destinations and the
// lean h2c client for `h2c` and `grpc`, one pool per endpoint, adapted to UpstreamConnector.
// Both clients report typed errors; here they become the failures retry and outlier logic use.
import { H1Pool, isH1Error } from '@trellis/sidecar-h1';
import type { H1Error, H1ResponseHandler, RequestHandle } from '@trellis/sidecar-h1';
import { H2Error, H2Pool } from '@trellis/sidecar-h2';
import type { H2ClientStream } from '@trellis/sidecar-h2';
import type { Clock } from '@trellis/time';
import { lowerCaseNames } from './flat-headers.js';
import type { FlatHeaders } from './flat-headers.js';
import { UpstreamError, targetKey } from './upstream.js';
import type {
  UpstreamCall,
  UpstreamConnector,
  UpstreamHandler,
  UpstreamHead,
  UpstreamPoolSettings,
  UpstreamTarget,
} from './upstream.js';

export const DEFAULT_POOL: UpstreamPoolSettings = Object.freeze({
  connectTimeoutMs: 1000,
  idleTimeoutMs: 60_000,
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequestsPerConnection: undefined,
});

export function fromH1Error(error: H1Error): UpstreamError {
  // A reused connection that died before the socket took a byte of the request and before any
  // response byte cannot have delivered it: any method may be resent. If the request may have
  // been written, the pool's `retriable` (reused, no response byte) only marks a stale
  // connection, which the retry layer resends for idempotent methods alone.
  const unwritten = error.reusedConnection && !error.requestWritten && !error.responseStarted;
  const options = {
    retriableAnyMethod: error.code === 'TRL_H1_CONNECTION_RESET' ? unwritten : error.retriable,
    staleConnection: error.code === 'TRL_H1_CONNECTION_RESET' && error.retriable,
    cause: error,
  };
  switch (error.code) {
    case 'TRL_H1_CONNECT_TIMEOUT':
      return new UpstreamError('connect-timeout', error.message, options);
    case 'TRL_H1_CONNECT_REFUSED':
    case 'TRL_H1_CONNECT_FAILED':
    case 'TRL_H1_POOL_CLOSED':
      return new UpstreamError('connect-failure', error.message, options);
    case 'TRL_H1_POOL_QUEUE_FULL':
      return new UpstreamError('pool-overflow', error.message, options);
    case 'TRL_H1_PARSE_ERROR':
    case 'TRL_H1_INVALID_REQUEST':
    case 'TRL_H1_BODY_LENGTH_MISMATCH':
      return new UpstreamError('protocol-error', error.message, options);
    default:
      return new UpstreamError('reset', error.message, options);
  }
}

function fromH2Error(error: unknown): UpstreamError {
  if (!(error instanceof H2Error))
    return new UpstreamError('reset', String(error), { cause: error });
  const options = { retriableAnyMethod: error.retriable, cause: error };
  switch (error.code) {
    case 'TRL_H2_CONNECT_TIMEOUT':
      return new UpstreamError('connect-timeout', error.message, options);
    case 'TRL_H2_CONNECT_FAILED':
    case 'TRL_H2_POOL_CLOSED':
      return new UpstreamError('connect-failure', error.message, options);
    case 'TRL_H2_REFUSED_STREAM':
    case 'TRL_H2_GOAWAY':
      return new UpstreamError('refused-stream', error.message, options);
    case 'TRL_H2_PROTOCOL_ERROR':
    case 'TRL_H2_INVALID_HEADER':
      return new UpstreamError('protocol-error', error.message, options);
    default:
      return new UpstreamError('reset', error.message, options);
  }
}

/** A call that failed before it started: reports the error on the next tick, ignores the rest. */
function failedCall(handler: UpstreamHandler, error: UpstreamError): UpstreamCall {
  queueMicrotask(() => handler.onError(error));
  return {
    write: () => true,
    onDrain: () => undefined,
    end: () => undefined,
    abort: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
  };
}

/** The call and the pool's response handler in one object: no closures per request. */
class H1Call implements UpstreamCall, H1ResponseHandler {
  #trailers: FlatHeaders | undefined;
  readonly #handler: UpstreamHandler;
  readonly handle: RequestHandle;

  constructor(pool: H1Pool, head: UpstreamHead, handler: UpstreamHandler) {
    this.#handler = handler;
    this.handle = pool.request(
      {
        method: head.method,
        path: head.target,
        host: head.authority,
        headers: head.headers,
        hasBody: head.hasBody,
      },
      this,
    );
  }

  // === H1ResponseHandler ===

  onInformational(status: number, _reason: string, headers: string[]): void {
    this.#handler.onInformational?.(status, lowerCaseNames(headers));
  }

  onResponseHead(status: number, _reason: string, headers: string[]): void {
    this.#handler.onResponseHead(status, lowerCaseNames(headers));
  }

  onData(chunk: Buffer): void {
    this.#handler.onData(chunk);
  }

  onTrailers(trailers: string[]): void {
    this.#trailers = lowerCaseNames(trailers);
  }

  onEnd(): void {
    this.#handler.onEnd(this.#trailers);
  }

  onError(error: H1Error): void {
    this.#handler.onError(fromH1Error(error));
  }

  // === UpstreamCall ===

  write(chunk: Buffer): boolean {
    return this.handle.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.handle.onDrain = () => {
      this.handle.onDrain = null;
      callback();
    };
  }

  end(): void {
    this.handle.end();
  }

  abort(): void {
    this.handle.abort();
  }

  pause(): void {
    this.handle.pause();
  }

  resume(): void {
    this.handle.resume();
  }
}

class H2Call implements UpstreamCall {
  readonly stream: H2ClientStream;
  #drain: (() => void) | undefined;
  #trailers: FlatHeaders | undefined;

  constructor(pool: H2Pool, target: UpstreamTarget, head: UpstreamHead, handler: UpstreamHandler) {
    const fields = [
      ':method',
      head.method,
      ':scheme',
      'http',
      ':authority',
      head.authority,
      ':path',
      head.target,
      ...head.headers,
    ];
    this.stream = pool.request({ host: target.address, port: target.port }, fields, {
      endStream: !head.hasBody,
      handler: {
        // HTTP/2 field names are lower-case on the wire already.
        onInformational: (status, headers) => handler.onInformational?.(status, headers),
        onResponseHeaders: (status, headers, endStream) => {
          handler.onResponseHead(status, headers);
          if (endStream) handler.onEnd(undefined);
        },
        onData: (chunk) => handler.onData(chunk),
        onTrailers: (trailers) => (this.#trailers = trailers),
        onEnd: () => handler.onEnd(this.#trailers),
        onError: (error) => handler.onError(fromH2Error(error)),
        onDrain: () => {
          const drain = this.#drain;
          this.#drain = undefined;
          drain?.();
        },
      },
    });
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.#drain = callback;
  }

  end(trailers?: FlatHeaders): void {
    this.stream.end(trailers);
  }

  abort(): void {
    if (!this.stream.isTerminated) this.stream.reset();
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

export class PoolConnector implements UpstreamConnector {
  readonly #h1 = new Map<string, H1Pool>();
  readonly #h2: H2Pool;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#h2 = new H2Pool({
      connectTimeoutMs: DEFAULT_POOL.connectTimeoutMs,
      idleTimeoutMs: DEFAULT_POOL.idleTimeoutMs,
    });
  }

  request(target: UpstreamTarget, head: UpstreamHead, handler: UpstreamHandler): UpstreamCall {
    try {
      if (target.protocol === 'http1') return new H1Call(this.#h1Pool(target), head, handler);
      return new H2Call(this.#h2, target, head, handler);
    } catch (error) {
      return failedCall(handler, isH1Error(error) ? fromH1Error(error) : fromH2Error(error));
    }
  }

  retain(targets: ReadonlySet<string>): void {
    for (const [key, pool] of this.#h1) {
      if (!targets.has(key)) {
        this.#h1.delete(key);
        void pool.close();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...[...this.#h1.values()].map((pool) => pool.close()), this.#h2.close()]);
    this.#h1.clear();
  }

  h1Stats(): Record<string, ReturnType<H1Pool['stats']>> {
    return Object.fromEntries([...this.#h1].map(([key, pool]) => [key, pool.stats()]));
  }

  #h1Pool(target: UpstreamTarget): H1Pool {
    const key = targetKey(target);
    let pool = this.#h1.get(key);
    if (!pool) {
      const settings = target.pool ?? DEFAULT_POOL;
      pool = new H1Pool({
        host: target.address,
        port: target.port,
        maxConnections: settings.maxConnections,
        connectTimeoutMs: settings.connectTimeoutMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        maxRequestsPerConnection: settings.maxRequestsPerConnection,
        maxQueued: settings.maxPendingRequests,
        clock: this.#clock,
      });
      this.#h1.set(key, pool);
    }
    return pool;
  }
}
