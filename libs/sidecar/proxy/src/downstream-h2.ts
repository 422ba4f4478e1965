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

class H2Body implements RequestBodyReader {
  constructor(private readonly stream: ServerHttp2Stream) {}

  start(handlers: BodyHandlers): void {
    const stream = this.stream;
    let trailers: FlatHeaders | undefined;
    stream.on('data', (chunk: Buffer) => handlers.onData(chunk));
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

  constructor(private readonly stream: ServerHttp2Stream) {}

  get headSent(): boolean {
    return this.#headSent;
  }

  get finished(): boolean {
    return this.stream.writableEnded || this.stream.destroyed;
  }

  head(status: number, headers: FlatHeaders, endStream: boolean, trailers: boolean): void {
    if (this.stream.destroyed) return;
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
    return this.stream.destroyed ? true : this.stream.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.stream.once('drain', callback);
  }

  end(trailers?: FlatHeaders): void {
    this.#pendingTrailers = trailers;
    if (!this.stream.destroyed) this.stream.end();
  }

  abort(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

export function h2Exchange(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[] | undefined,
): DownstreamExchange {
  return {
    protocol: 'h2',
    method: String(headers[':method'] ?? 'GET'),
    authority: String(headers[':authority'] ?? headers.host ?? ''),
    target: String(headers[':path'] ?? '/'),
    headers: rawHeaders ? withoutPseudo(rawHeaders) : flatten(headers),
    remoteAddress: stream.session?.socket?.remoteAddress ?? '',
    hasBody: !stream.endAfterHeaders,
    body: new H2Body(stream),
    response: new H2Response(stream),
    onAbort(callback) {
      stream.once('close', () => {
        if (!stream.writableFinished || stream.rstCode !== constants.NGHTTP2_NO_ERROR) callback();
      });
    },
  };
}
