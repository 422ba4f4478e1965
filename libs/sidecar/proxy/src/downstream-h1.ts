// HTTP/1.1 clients, served by Node's llhttp-based server: it already rejects the request
// smuggling shapes (conflicting Content-Length/Transfer-Encoding, obs-fold, bad bytes) before
// a request reaches us. This adapter turns one IncomingMessage/ServerResponse into an exchange.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  BodyHandlers,
  DownstreamExchange,
  RequestBodyReader,
  ResponseWriter,
} from './exchange.js';
import { headersToObject, lowerCaseNames } from './flat-headers.js';
import type { FlatHeaders } from './flat-headers.js';

class H1Body implements RequestBodyReader {
  constructor(private readonly req: IncomingMessage) {}

  start(handlers: BodyHandlers): void {
    const req = this.req;
    req.on('data', (chunk: Buffer) => handlers.onData(chunk));
    req.once('end', () =>
      handlers.onEnd(req.rawTrailers.length ? lowerCaseNames(req.rawTrailers) : undefined),
    );
    req.once('error', (error) => handlers.onError(error));
    req.once('aborted', () => handlers.onError(new Error('client aborted the request body')));
  }

  pause(): void {
    this.req.pause();
  }

  resume(): void {
    this.req.resume();
  }
}

class H1Response implements ResponseWriter {
  constructor(private readonly res: ServerResponse) {}

  get headSent(): boolean {
    return this.res.headersSent;
  }

  get finished(): boolean {
    return this.res.writableEnded;
  }

  head(status: number, headers: FlatHeaders, endStream: boolean): void {
    this.res.writeHead(status, headers);
    if (endStream) this.res.end();
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.res.once('drain', callback);
  }

  end(trailers?: FlatHeaders): void {
    if (trailers?.length) this.res.addTrailers(headersToObject(trailers) as Record<string, string>);
    this.res.end();
  }

  abort(): void {
    this.res.destroy();
  }
}

/**
 * Authority and origin-form target of a request. An absolute-form target (`GET http://a/b`)
 * names the authority itself, and Host must then be ignored (RFC 9112 §3.2.2): routing by Host
 * while the upstream reads the URI would let the two disagree on the destination.
 */
function targetOf(req: IncomingMessage): { authority: string; target: string } {
  const url = req.url ?? '/';
  if (url.startsWith('/') || url === '*' || !/^https?:\/\//i.test(url))
    return { authority: req.headers.host ?? '', target: url };
  try {
    const parsed = new URL(url);
    return { authority: parsed.host, target: `${parsed.pathname}${parsed.search}` };
  } catch {
    return { authority: req.headers.host ?? '', target: url };
  }
}

export function h1Exchange(req: IncomingMessage, res: ServerResponse): DownstreamExchange {
  const headers = lowerCaseNames(req.rawHeaders);
  const { authority, target } = targetOf(req);
  const length = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return {
    protocol: 'http/1.1',
    method: req.method ?? 'GET',
    authority,
    target,
    headers,
    remoteAddress: req.socket.remoteAddress ?? '',
    hasBody,
    body: new H1Body(req),
    response: new H1Response(res),
    onAbort(callback) {
      res.once('close', () => {
        if (!res.writableFinished) callback();
      });
    },
  };
}
