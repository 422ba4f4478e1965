// One request/response exchange on an h2c connection: the shared stream core (send queue, receive
// buffer, windows) plus the request header list and the response-head events. The object that
// currently hosts it (a session, or a pool waiting for a session) turns queued bytes into frames
// and credits flow-control windows.
import type { H2Error } from './errors.js';
import type { HeaderInput } from './headers.js';
import { StreamCore } from './stream-core.js';
import type { StreamBodyHandler, StreamHost as CoreStreamHost } from './stream-core.js';

/**
 * Receives a stream's events. After onEnd or onError no further method is called, except that a
 * stream whose response ended while its request body is still open stays writable. Header lists
 * are flat [name, value, …] arrays without pseudo-headers, in wire order.
 */
export interface H2StreamHandler extends StreamBodyHandler {
  /** Final response headers; `endStream` is true for a headers-only (e.g. gRPC trailers-only) reply. */
  onResponseHeaders?(status: number, headers: string[], endStream: boolean): void;
  /** A 1xx interim response (100 Continue, 103 Early Hints); the final headers follow. */
  onInformational?(status: number, headers: string[]): void;
  /** A body chunk; a view of received bytes, owned by the handler from now on. */
  onData?(chunk: Buffer): void;
  onTrailers?(trailers: string[]): void;
  onEnd?(): void;
  onError?(error: H2Error): void;
  /** The request body queue emptied after write() returned false. */
  onDrain?(): void;
}

/** The public face of a client stream. */
export interface H2ClientStream {
  /** Stream id, 0 while the stream waits for a connection or a concurrency slot. */
  readonly id: number;
  /** Request body bytes queued but not yet framed (flow control, socket back-pressure). */
  readonly writableLength: number;
  /** Response body bytes received so far, including bytes held while paused. */
  readonly receivedBytes: number;
  readonly isPaused: boolean;
  /** True after onError was delivered or reset() was called. */
  readonly isTerminated: boolean;
  setHandler(handler: H2StreamHandler): void;
  /**
   * Queues a body chunk (kept by reference: do not modify it afterwards). Returns false when the
   * queue reached the high-water mark: wait for onDrain before writing more.
   */
  write(chunk: Buffer): boolean;
  /** Ends the request body, optionally with trailers. Calling it twice is harmless. */
  end(trailers?: HeaderInput): void;
  /** Abandons the stream (RST_STREAM `code`, default CANCEL); no further callbacks. */
  reset(code?: number): void;
  /** Stops delivering data and stops crediting the server's window: real back-pressure. */
  pause(): void;
  /** Delivers data held while paused, then resumes crediting the window. */
  resume(): void;
}

/** What a client stream needs from whoever currently hosts it. */
export type StreamHost = CoreStreamHost<ClientStream>;

const NO_HANDLER: H2StreamHandler = {};

export class ClientStream extends StreamCore<H2StreamHandler> implements H2ClientStream {
  /** Request header list, kept until the HEADERS frame is written. */
  fields: readonly string[] | null;
  gotHeaders = false;

  constructor(
    fields: readonly string[],
    handler: H2StreamHandler | undefined,
    highWaterMark: number,
    endStream: boolean,
  ) {
    super(handler ?? NO_HANDLER, highWaterMark);
    this.fields = fields;
    this.localEnd = endStream;
  }

  setHandler(handler: H2StreamHandler): void {
    this.handler = handler;
  }
}
