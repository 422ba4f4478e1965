// HTTP/2 clients (h2c), served by Node's nghttp2-based server, which enforces the framing
// rules of RFC 9113 (preface, frame sizes, flow control, header validity, rapid-reset limits).
// This adapter turns one server stream into an exchange.
import { constants } from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type {
  BodyHandlers,
  DownstreamExchange,
  RequestBodyReader,
  ResponseWriter,
} from './exchange.js';
import { headersToObject } from './flat-headers.js';
import type { FlatHeaders } from './flat-headers.js';

function withoutPseudo(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) !== 58) out.push(name, raw[i + 1] as string);
  }
  return out;
}

function flatten(headers: IncomingHttpHeaders): FlatHeaders {
  const out: FlatHeaders = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.charCodeAt(0) === 58) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/**
 * Answers a stream in the proxy's stead (`x-trellis-error: tag`), then RST_STREAM NO_ERROR: the
 * client may stop sending its body (RFC 9113 §8.1).
 */
export function refuseStream(
  stream: ServerHttp2Stream,
  status: number,
  tag: string,
  message: string,
): void {
  stream.respond({ ':status': status, 'content-type': 'text/plain', 'x-trellis-error': tag });
  stream.end(`${message}\n`, () => stream.close(constants.NGHTTP2_NO_ERROR));
}

class H2Body implements RequestBodyReader {
  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly response: H2Response,
    private readonly maxBodyBytes: number,
  ) {}

  start(handlers: BodyHandlers): void {
    const stream = this.stream;
    let trailers: FlatHeaders | undefined;
    let received = 0;
    const max = this.maxBodyBytes;
    stream.on('data', (chunk: Buffer) => {
      if ((received += chunk.length) > max) {
        if (!this.response.refused) {
          handlers.onError(new Error(`request body larger than ${max} bytes`));
          this.response.refuse(413, 'request-too-large', 'request body too large');
        }
        return;
      }
      handlers.onData(chunk);
    });
    stream.once('trailers', (headers: IncomingHttpHeaders) => (trailers = flatten(headers)));
    stream.once('end', () => handlers.onEnd(trailers));
    stream.once('aborted', () => handlers.onError(new Error('client reset the stream')));
    stream.once('error', (error) => handlers.onError(error));
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

class H2Response implements ResponseWriter {
  #headSent = false;
  #pendingTrailers: FlatHeaders | undefined;
  /** The listener answered for the proxy (a limit): the writer is inert from then on. */
  refused = false;

  constructor(private readonly stream: ServerHttp2Stream) {}

  get headSent(): boolean {
    return this.#headSent;
  }

  get finished(): boolean {
    return this.stream.writableEnded || this.stream.destroyed;
  }

  /**
   * Answers `status` with `x-trellis-error: tag` in the proxy's stead and asks the client to stop
   * sending (RST_STREAM NO_ERROR after the response, RFC 9113 §8.1); once the response started
   * it can only reset the stream.
   */
  refuse(status: number, tag: string, message: string): void {
    if (this.refused) return;
    this.refused = true;
    const stream = this.stream;
    if (stream.destroyed) return;
    if (this.#headSent) {
      stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    this.#headSent = true;
    refuseStream(stream, status, tag, message);
  }

  head(status: number, headers: FlatHeaders, endStream: boolean, trailers: boolean): void {
    if (this.stream.destroyed || this.refused) return;
    this.#headSent = true;
    const object = headersToObject(headers);
    object[':status'] = String(status);
    this.stream.respond(object, { endStream, waitForTrailers: trailers && !endStream });
    if (trailers && !endStream) {
      this.stream.once('wantTrailers', () => {
        if (!this.stream.destroyed)
          this.stream.sendTrailers(headersToObject(this.#pendingTrailers ?? []));
      });
    }
  }

  write(chunk: Buffer): boolean {
    return this.stream.destroyed || this.refused ? true : this.stream.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.stream.once('drain', callback);
  }

  end(trailers?: FlatHeaders): void {
    this.#pendingTrailers = trailers;
    if (!this.stream.destroyed && !this.refused) this.stream.end();
  }

  abort(): void {
    if (!this.stream.destroyed && !this.refused)
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

/** `maxBodyBytes`: a body growing past it is refused with 413 (Infinity: no limit). */
export function h2Exchange(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[] | undefined,
  maxBodyBytes = Infinity,
): DownstreamExchange {
  const response = new H2Response(stream);
  return {
    protocol: 'h2',
    method: String(headers[':method'] ?? 'GET'),
    authority: String(headers[':authority'] ?? headers.host ?? ''),
    target: String(headers[':path'] ?? '/'),
    headers: rawHeaders ? withoutPseudo(rawHeaders) : flatten(headers),
    remoteAddress: stream.session?.socket?.remoteAddress ?? '',
    hasBody: !stream.endAfterHeaders,
    body: new H2Body(stream, response, maxBodyBytes),
    response,
    onAbort(callback) {
      stream.once('close', () => {
        // A refusal answered the client for the proxy, which must give its request up too.
        if (
          response.refused ||
          !stream.writableFinished ||
          stream.rstCode !== constants.NGHTTP2_NO_ERROR
        )
          callback();
      });
    },
  };
}
