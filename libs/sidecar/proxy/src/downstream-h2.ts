// HTTP/2 clients (h2c), served by our lean server (@trellis/sidecar-h2), which enforces the
// framing rules of RFC 9113 (preface, frame sizes, flow control, header validity, rapid-reset
// and flood limits). This adapter turns one server stream into an exchange: the exchange object
// is the stream's handler and its body reader, a second object writes the response.
import { H2Error, H2ErrorCode } from '@trellis/sidecar-h2';
import type { H2ServerStream, H2ServerStreamHandler } from '@trellis/sidecar-h2';
import { isSentInterimStatus } from './exchange.js';
import type {
  BodyHandlers,
  DownstreamExchange,
  RequestBodyReader,
  ResponseWriter,
} from './exchange.js';
import type { FlatHeaders } from './flat-headers.js';

/**
 * Answers a stream in the proxy's stead (`x-trellis-error: tag`). A client still sending its
 * body is then told to stop with RST_STREAM NO_ERROR (RFC 9113 §8.1), by the server.
 */
export function refuseStream(
  stream: H2ServerStream,
  status: number,
  tag: string,
  message: string,
): void {
  stream.respond(status, ['content-type', 'text/plain', 'x-trellis-error', tag]);
  stream.write(Buffer.from(`${message}\n`, 'latin1'));
  stream.end();
}

class H2Response implements ResponseWriter {
  /** The listener answered for the proxy (a limit): the writer is inert from then on. */
  refused = false;
  drainCallback: (() => void) | null = null;

  constructor(private readonly stream: H2ServerStream) {}

  get headSent(): boolean {
    return this.stream.headSent;
  }

  get finished(): boolean {
    return this.stream.finished;
  }

  /**
   * Answers `status` with `x-trellis-error: tag` in the proxy's stead; once the response
   * started it can only reset the stream.
   */
  refuse(status: number, tag: string, message: string): void {
    if (this.refused) return;
    this.refused = true;
    const stream = this.stream;
    if (stream.finished) return;
    if (stream.headSent) stream.reset(H2ErrorCode.CANCEL);
    else refuseStream(stream, status, tag, message);
  }

  informational(status: number, headers: FlatHeaders): void {
    const stream = this.stream;
    // A refusal sent a head or reset the stream: these checks cover it too.
    if (stream.headSent || stream.finished || !isSentInterimStatus(status)) return;
    try {
      stream.informational(status, headers);
    } catch (error) {
      // A field HTTP/2 cannot carry: the hint is advisory, so it is dropped and the stream lives.
      if (!(error instanceof H2Error)) throw error;
    }
  }

  head(status: number, headers: FlatHeaders, endStream: boolean): void {
    if (this.refused || this.stream.finished) return;
    try {
      this.stream.respond(status, headers, endStream);
    } catch {
      // A head HTTP/2 cannot carry (a field the upstream should not have sent): the client gets
      // a reset rather than a broken response.
      this.stream.reset(H2ErrorCode.INTERNAL_ERROR);
    }
  }

  write(chunk: Buffer): boolean {
    return this.refused || this.stream.finished ? true : this.stream.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.drainCallback = callback;
  }

  end(trailers?: FlatHeaders): void {
    if (this.refused || this.stream.finished) return;
    try {
      this.stream.end(trailers !== undefined && trailers.length > 0 ? trailers : undefined);
    } catch {
      this.stream.reset(H2ErrorCode.INTERNAL_ERROR);
    }
  }

  abort(): void {
    if (!this.refused && !this.stream.finished) this.stream.reset(H2ErrorCode.INTERNAL_ERROR);
  }
}

class H2Exchange implements DownstreamExchange, RequestBodyReader, H2ServerStreamHandler {
  readonly protocol = 'h2';
  readonly method: string;
  readonly authority: string;
  readonly target: string;
  readonly headers: readonly string[];
  readonly remoteAddress: string;
  readonly hasBody: boolean;
  readonly body: RequestBodyReader = this;
  readonly response: H2Response;
  readonly #stream: H2ServerStream;
  readonly #maxBodyBytes: number;
  #handlers: BodyHandlers | null = null;
  #trailers: FlatHeaders | undefined;
  #received = 0;
  #abortCallback: (() => void) | null = null;
  #aborted = false;

  constructor(stream: H2ServerStream, maxBodyBytes: number) {
    this.#stream = stream;
    this.#maxBodyBytes = maxBodyBytes;
    this.method = stream.method;
    this.authority = stream.authority;
    this.target = stream.path;
    this.headers = stream.headers;
    this.remoteAddress = stream.remoteAddress;
    this.hasBody = stream.hasBody;
    this.response = new H2Response(stream);
    stream.setHandler(this);
  }

  // === RequestBodyReader ===

  start(handlers: BodyHandlers): void {
    this.#handlers = handlers;
    this.#stream.resume();
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    if (this.#handlers !== null) this.#stream.resume();
  }

  onAbort(callback: () => void): void {
    this.#abortCallback = callback;
    if (this.#aborted) callback();
  }

  // === stream events ===

  onData(chunk: Buffer): void {
    const max = this.#maxBodyBytes;
    if ((this.#received += chunk.length) > max) {
      if (!this.response.refused) {
        this.#handlers?.onError(new Error(`request body larger than ${max} bytes`));
        this.response.refuse(413, 'request-too-large', 'request body too large');
        this.#abort();
      }
      return;
    }
    this.#handlers?.onData(chunk);
  }

  onTrailers(trailers: string[]): void {
    this.#trailers = trailers;
  }

  onEnd(): void {
    this.#handlers?.onEnd(this.#trailers);
  }

  onError(error: H2Error): void {
    this.#handlers?.onError(error);
    // Cut after a complete response (the client was told to stop sending): nothing to abort.
    if (this.#stream.responseEnded && !this.response.refused) return;
    this.#abort();
  }

  onDrain(): void {
    const callback = this.response.drainCallback;
    this.response.drainCallback = null;
    callback?.();
  }

  #abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortCallback?.();
  }
}

/** `maxBodyBytes`: a body growing past it is refused with 413 (Infinity: no limit). */
export function h2Exchange(stream: H2ServerStream, maxBodyBytes = Infinity): DownstreamExchange {
  return new H2Exchange(stream, maxBodyBytes);
}
