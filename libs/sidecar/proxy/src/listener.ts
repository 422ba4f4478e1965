// One listening port that serves HTTP/1.1 and HTTP/2 cleartext side by side: the first bytes
// of each connection decide. HTTP/2 clients start with the connection preface (prior
// knowledge); everything else goes to the HTTP/1.1 server. `Upgrade: h2c` requests are
// answered over HTTP/1.1 — RFC 9113 §3.1 deprecated that upgrade, and clients fall back.
import { createServer as createH1Server } from 'node:http';
import type { IncomingMessage, Server as H1Server, ServerResponse } from 'node:http';
import { constants, createServer as createH2Server } from 'node:http2';
import type {
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { h1Exchange } from './downstream-h1.js';
import { h2Exchange } from './downstream-h2.js';
import type { DownstreamExchange } from './exchange.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Client resets on one connection before the rapid-reset guard may close it. */
const PREMATURE_RESET_MIN = 100;

export interface ListenerLimits {
  /** Largest request head (HTTP/1.1) or header list (HTTP/2), bytes. */
  readonly maxHeaderBytes: number;
  /** Most header fields in a request. */
  readonly maxHeaderCount: number;
  /** Idle keep-alive connection lifetime, ms. */
  readonly idleTimeoutMs: number;
  /** Longest time to receive a complete request head, ms. */
  readonly headersTimeoutMs: number;
  /** Concurrent streams per HTTP/2 connection. */
  readonly maxConcurrentStreams: number;
}

export const defaultListenerLimits: ListenerLimits = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 100,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 30_000,
  maxConcurrentStreams: 256,
});

export interface ListenerEvents {
  onExchange(exchange: DownstreamExchange): void;
  /** HTTP/1.1 `Upgrade` requests other than h2c (WebSocket …): the caller owns the socket. */
  onUpgrade?(req: IncomingMessage, socket: Socket | Duplex, head: Buffer): void;
  /** A request the HTTP parser refused (smuggling shapes, oversized heads, bad bytes). */
  onBadRequest?(
    reason: string,
    protocol: 'http/1.1' | 'h2',
    remoteAddress: string | undefined,
  ): void;
}

export class ProxyListener {
  readonly #net: NetServer;
  readonly #h1: H1Server;
  readonly #h2: Http2Server;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #limits: ListenerLimits;
  /** The latest response on each HTTP/1.1 connection. */
  readonly #responses = new WeakMap<Duplex, ServerResponse>();
  /** HTTP/1.1 connections that got a refusal and close after it. */
  readonly #refused = new WeakSet<Duplex>();
  /** Open HTTP/1.1 connections (Node's server never listens itself, so it tracks none). */
  readonly #h1Sockets = new Set<Socket>();
  #draining = false;

  constructor(events: ListenerEvents, limits: ListenerLimits = defaultListenerLimits) {
    this.#limits = limits;
    this.#h1 = createH1Server(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        requestTimeout: 0,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.idleTimeoutMs,
        // Checked in refusalOf, so the 400 carries x-trellis-error like every other refusal.
        requireHostHeader: false,
        joinDuplicateHeaders: true,
        noDelay: true,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        // Pipelined requests that Node parsed after one we refused: the connection closes
        // once the refusal is written, so they must not reach the upstream.
        if (this.#refused.has(req.socket)) return;
        const refusal = refusalOf(req, limits);
        if (refusal) {
          events.onBadRequest?.(refusal.reason, 'http/1.1', req.socket.remoteAddress);
          this.#refused.add(req.socket);
          res.writeHead(refusal.status, [
            'content-type',
            'text/plain',
            'x-trellis-error',
            refusal.status === 431 ? 'headers-too-large' : 'bad-request',
            'connection',
            'close',
          ]);
          res.end(`${refusal.reason}\n`);
          return;
        }
        this.#responses.set(req.socket, res);
        if (this.#draining) res.setHeader('connection', 'close');
        // A response that began before the drain ends its keep-alive connection when done.
        res.once('finish', () => {
          if (this.#draining) req.socket.end();
        });
        events.onExchange(h1Exchange(req, res));
      },
    );
    this.#h1.maxHeadersCount = limits.maxHeaderCount + 1;
    this.#h1.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      const reason = error.code ?? error.message;
      events.onBadRequest?.(reason, 'http/1.1', (socket as Socket).remoteAddress);
      // A body framing error can come after the response to that request has started (or was
      // refused above): writing a 400 now would splice a second response into the first.
      const current = this.#responses.get(socket);
      if (this.#refused.has(socket) || (current?.headersSent && !current.writableFinished)) {
        if (current?.writableEnded === false) socket.destroy();
        else socket.end();
        return;
      }
      if (socket.writable && !(error.code === 'ECONNRESET')) {
        const status =
          error.code === 'HPE_HEADER_OVERFLOW'
            ? 431
            : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
              ? 408
              : 400;
        const text =
          status === 431
            ? 'Request Header Fields Too Large'
            : status === 408
              ? 'Request Timeout'
              : 'Bad Request';
        const body = `${text}\n`;
        socket.end(
          `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nx-trellis-error: ${status === 431 ? 'headers-too-large' : 'bad-request'}\r\nconnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy();
      }
    });
    this.#h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (events.onUpgrade && !/^h2c$/i.test(String(req.headers.upgrade))) {
        events.onUpgrade(req, socket, head);
        return;
      }
      socket.destroy();
    });

    this.#h2 = createH2Server({
      maxHeaderListPairs: limits.maxHeaderCount + 4,
      maxSendHeaderBlockLength: limits.maxHeaderBytes,
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderBytes,
        initialWindowSize: 1024 * 1024,
      },
    });
    this.#h2.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      session.setTimeout(limits.idleTimeoutMs, () => session.close());
      if (this.#draining) session.close();
      // Larger connection-level window than the 64 KiB default: one slow stream must not stall the rest.
      session.once('connect', () => session.setLocalWindowSize(16 * 1024 * 1024));
      const resets = { streams: 0, resets: 0 };
      session.on(
        'stream',
        (
          stream: ServerHttp2Stream,
          headers: IncomingHttpHeaders,
          _flags: number,
          rawHeaders?: string[],
        ) => {
          // A client reset with an error code (PROTOCOL_ERROR, …) makes Node emit 'error' on
          // the stream; unlistened, it would crash the process. The exchange learns of the
          // reset from 'aborted'/'close', and a started body reader has its own listener.
          stream.on('error', () => undefined);
          resets.streams++;
          // Node hands streams over in batches: one the client already reset is gone by now,
          // and its 'close' has fired, so nothing would ever cancel its upstream request.
          if (stream.destroyed) {
            this.#countReset(session, resets);
            return;
          }
          // Only resets before the response head count: after it, 'aborted' may be the proxy
          // itself abandoning a response whose upstream failed mid-body.
          stream.once('aborted', () => {
            if (!stream.headersSent) this.#countReset(session, resets);
          });
          events.onExchange(h2Exchange(stream, headers, rawHeaders));
        },
      );
    });
    this.#h2.on('sessionError', (error: Error) =>
      events.onBadRequest?.(error.message, 'h2', undefined),
    );

    this.#net = createNetServer({ noDelay: true }, (socket) => this.#dispatch(socket));
  }

  /** Resolves with the bound address once listening. */
  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(port, host, () => {
        this.#net.off('error', reject);
        const address = this.#net.address();
        if (address === null || typeof address === 'string')
          reject(new Error('listener has no TCP address'));
        else resolve({ host: address.address, port: address.port });
      });
    });
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Stops accepting connections and asks clients to go: GOAWAY on HTTP/2, `Connection: close`
   * on the next HTTP/1.1 response, idle keep-alive connections closed now. In-flight requests
   * carry on; resolves when every connection has closed, or at `deadlineMs` after forcing the
   * rest closed.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    for (const socket of this.#h1Sockets) {
      const response = this.#responses.get(socket);
      if (!response || response.writableFinished) socket.end();
    }
    const timer = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
      for (const socket of this.#sockets) socket.destroy();
    }, deadlineMs);
    await closed;
    clearTimeout(timer);
  }

  /**
   * Rapid reset (CVE-2023-44487): a client that opens streams and resets them at once makes the
   * proxy start an upstream request for each, at no cost to itself. A connection on which most
   * streams end in a client reset before their response started is closed with GOAWAY
   * ENHANCE_YOUR_CALM, as Envoy does for premature resets.
   */
  #countReset(session: ServerHttp2Session, counts: { streams: number; resets: number }): void {
    counts.resets++;
    if (
      counts.resets >= PREMATURE_RESET_MIN &&
      counts.resets * 2 > counts.streams &&
      !session.destroyed
    ) {
      // The error reaches onBadRequest through 'sessionError'; the code goes in the GOAWAY.
      session.destroy(
        new Error('rapid reset: most streams reset by the client'),
        constants.NGHTTP2_ENHANCE_YOUR_CALM,
      );
    }
  }

  #dispatch(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // Until the first bytes decide the protocol no server's timeouts apply: a client that
    // sends nothing, or part of the preface, must not hold the connection forever.
    socket.setTimeout(this.#limits.headersTimeoutMs, () => socket.destroy());
    let received: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      const n = Math.min(received.length, PREFACE.length);
      const isH2 = received.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && received.length < PREFACE.length) return; // could still be the preface
      socket.off('data', onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(received);
      if (isH2) {
        // The HTTP/2 session reads the unshifted bytes itself on the next tick; resuming the
        // socket here would flush them as 'data' events nobody listens to.
        this.#h2.emit('connection', socket);
      } else {
        this.#h1Sockets.add(socket);
        socket.once('close', () => this.#h1Sockets.delete(socket));
        this.#h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }
}

/**
 * Requests Node's parser lets through that the proxy must not forward (RFC 9112): a body whose
 * length cannot be known (chunked not the final coding), codings the proxy would silently drop,
 * a missing or repeated Host, and more header fields than allowed.
 */
function refusalOf(
  req: IncomingMessage,
  limits: ListenerLimits,
): { status: 400 | 431; reason: string } | undefined {
  if (req.rawHeaders.length / 2 > limits.maxHeaderCount)
    return { status: 431, reason: 'too many header fields' };
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if ((req.rawHeaders[i] as string).toLowerCase() === 'host') hosts++;
  if (hosts > 1 || (hosts === 0 && req.httpVersionMinor >= 1))
    return { status: 400, reason: 'a request needs exactly one Host field' };
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = te.split(',').map((c) => c.trim().toLowerCase());
    if (codings.at(-1) !== 'chunked')
      return { status: 400, reason: 'chunked must be the final transfer coding' };
    // Node removes only the chunked coding: forwarding the rest would drop the others unseen.
    if (codings.length > 1) return { status: 400, reason: `transfer coding ${te} not supported` };
  }
  return undefined;
}
