// Responses as layers pass them outward. An upstream response arrives as its head first, with
// the body still in the upstream connection: the retry layer can look at the status and drop
// the body, and only the outermost layer starts the body flowing to the client.
import { errors } from '@trellis/sidecar-resilience';
import type { TrellisErrorCode } from '@trellis/sidecar-resilience';
import type { ResponseWriter } from './exchange.js';
import type { FlatHeaders } from './flat-headers.js';
import type { UpstreamCall, UpstreamError } from './upstream.js';

export type BodyOutcome = 'complete' | 'upstream-error' | 'client-gone';

export interface ResponseBody {
  /** Streams the body into `writer` with back-pressure; `done` is called once. */
  pipe(writer: ResponseWriter, done: (outcome: BodyOutcome, bytes: number) => void): void;
  /** Gives the body up (a retry, or the client went away): the upstream call is aborted. */
  discard(): void;
  /** Runs `callback` once the body is finished, however it finished (or at once if it has). */
  whenDone(callback: (outcome: BodyOutcome) => void): void;
  /**
   * Already complete with no bytes and no trailers: the head can end the stream (a gRPC
   * trailers-only answer must stay one HEADERS frame with END_STREAM).
   */
  readonly isEmpty: boolean;
  /**
   * Already complete, without trailers: the head need not announce trailers (HTTP/2 would
   * otherwise end the stream with an extra, empty HEADERS frame).
   */
  readonly endedWithoutTrailers: boolean;
  /** The trailers the body ended with, once it has (gRPC puts grpc-status there). */
  readonly endTrailers: FlatHeaders | undefined;
}

export interface ProxyResponse {
  readonly status: number;
  readonly headers: FlatHeaders;
  readonly body: ResponseBody | undefined;
  /** Whether trailers may follow the body (gRPC): HTTP/2 must announce it with the head. */
  readonly trailers: boolean;
  /** Set when the proxy produced the response itself. */
  readonly error: TrellisErrorCode | undefined;
  /** `address:port` of the endpoint that answered, if any. */
  readonly endpoint: string | undefined;
  /** For local responses to gRPC clients: the grpc-status to answer with (trailers-only). */
  readonly grpcStatus?: number;
}

/** A response the proxy makes itself, carrying `x-trellis-error` so clients and logs can tell. */
export function localResponse(
  code: TrellisErrorCode,
  detail: string,
  options: { status?: number; grpcStatus?: number; headers?: FlatHeaders } = {},
): ProxyResponse {
  const spec = errors[code];
  const text = `${detail}\n`;
  const headers: FlatHeaders = [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(text)),
    'x-trellis-error',
    spec.headerValue,
    ...(options.headers ?? []),
  ];
  return {
    status: options.status ?? spec.httpStatus,
    headers,
    body: new FixedBody(Buffer.from(text)),
    trailers: false,
    error: code,
    endpoint: undefined,
    grpcStatus: options.grpcStatus ?? spec.grpcStatus,
  };
}

/** A body known in full: direct responses, redirects, local errors. */
export class FixedBody implements ResponseBody {
  constructor(readonly content: Buffer) {}

  pipe(writer: ResponseWriter, done: (outcome: BodyOutcome, bytes: number) => void): void {
    if (this.content.length) writer.write(this.content);
    writer.end();
    done('complete', this.content.length);
  }

  discard(): void {}

  whenDone(callback: (outcome: BodyOutcome) => void): void {
    callback('complete');
  }

  get isEmpty(): boolean {
    return this.content.length === 0;
  }

  get endedWithoutTrailers(): boolean {
    return true;
  }

  get endTrailers(): undefined {
    return undefined;
  }
}

/**
 * Most bytes held before `pipe` without pausing the upstream. Small bodies usually arrive with
 * their head, before the layers have passed the response out; pausing and resuming the socket
 * for them would cost two epoll_ctl system calls per request.
 */
const HOLD_WITHOUT_PAUSE_BYTES = 64 * 1024;

/**
 * The body of an upstream response: chunks that arrive before `pipe` are held (past
 * HOLD_WITHOUT_PAUSE_BYTES the upstream is paused); after `pipe` they stream straight to the
 * client, pausing the upstream whenever the client cannot keep up.
 */
export class UpstreamBody implements ResponseBody {
  #call: UpstreamCall | undefined;
  #writer: ResponseWriter | undefined;
  #done: ((outcome: BodyOutcome, bytes: number) => void) | undefined;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #ended = false;
  #trailers: FlatHeaders | undefined;
  #error: UpstreamError | undefined;
  #bytes = 0;
  #finished: BodyOutcome | undefined;
  #settled: ((outcome: BodyOutcome) => void)[] = [];

  bind(call: UpstreamCall): void {
    this.#call = call;
  }

  push(chunk: Buffer): void {
    if (this.#finished) return;
    const writer = this.#writer;
    if (!writer) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes > HOLD_WITHOUT_PAUSE_BYTES) this.#call?.pause();
      return;
    }
    this.#bytes += chunk.length;
    if (!writer.write(chunk)) {
      this.#call?.pause();
      writer.onDrain(() => this.#call?.resume());
    }
  }

  end(trailers: FlatHeaders | undefined): void {
    this.#ended = true;
    this.#trailers = trailers;
    if (this.#writer) this.#finish('complete');
  }

  fail(error: UpstreamError): void {
    this.#error = error;
    if (this.#writer) this.#finish('upstream-error');
  }

  pipe(writer: ResponseWriter, done: (outcome: BodyOutcome, bytes: number) => void): void {
    this.#writer = writer;
    this.#done = done;
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const chunk of held) {
      this.#bytes += chunk.length;
      writer.write(chunk);
    }
    if (this.#error) this.#finish('upstream-error');
    else if (this.#ended) this.#finish('complete');
    else this.#call?.resume();
  }

  discard(): void {
    this.#held = [];
    this.#heldBytes = 0;
    if (!this.#ended && !this.#error) this.#call?.abort();
    this.#finish('client-gone');
  }

  whenDone(callback: (outcome: BodyOutcome) => void): void {
    if (this.#finished) callback(this.#finished);
    else this.#settled.push(callback);
  }

  get isEmpty(): boolean {
    return this.#ended && this.#held.length === 0 && !this.#trailers?.length;
  }

  get endedWithoutTrailers(): boolean {
    return this.#ended && !this.#trailers?.length;
  }

  get endTrailers(): FlatHeaders | undefined {
    return this.#trailers;
  }

  #finish(outcome: BodyOutcome): void {
    if (this.#finished) return;
    this.#finished = outcome;
    const writer = this.#writer;
    if (writer) {
      if (outcome === 'complete') writer.end(this.#trailers);
      else if (outcome === 'upstream-error') writer.abort();
    }
    this.#done?.(outcome, this.#bytes);
    const callbacks = this.#settled;
    this.#settled = [];
    for (const callback of callbacks) callback(outcome);
  }
}
