// One listening port that serves HTTP/1.1 and HTTP/2 cleartext side by side: the first bytes
// of each connection decide. HTTP/2 clients start with the connection preface (prior
// knowledge) and go to Node's http2 server; everything else goes to our lean HTTP/1.1 server
// (@trellis/sidecar-h1-server), which parses strictly (smuggling shapes, Host, codings, limits)
// and answers its own refusals. `Upgrade: h2c` requests are answered over HTTP/1.1 — RFC 9113
// §3.1 deprecated that upgrade, and clients fall back.
import { constants, createServer as createH2Server } from 'node:http2';
import type {
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { H1Server } from '@trellis/sidecar-h1-server';
import type { RequestHead } from '@trellis/sidecar-h1-server';
import { h2Exchange, refuseStream } from './downstream-h2.js';
import type { DownstreamExchange } from './exchange.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Client resets on one connection before the rapid-reset guard may close it. */
const PREMATURE_RESET_MIN = 100;

export interface ListenerLimits {
  /** Largest request head (HTTP/1.1) or header list (HTTP/2), bytes. */
  readonly maxHeaderBytes: number;
  /** Most header fields in a request. */
  readonly maxHeaderCount: number;
  /** Idle keep-alive connection lifetime, ms; also the idle limit of an upgraded tunnel. */
  readonly idleTimeoutMs: number;
  /** Longest time to receive a complete request head, ms. */
  readonly headersTimeoutMs: number;
  /** Concurrent streams per HTTP/2 connection. */
  readonly maxConcurrentStreams: number;
  /**
   * Largest request body, bytes (Infinity: no limit). A larger declared Content-Length is
   * answered 413 before anything goes upstream; a streamed body that grows past it is cut.
   */
  readonly maxRequestBodyBytes: number;
}

export const defaultListenerLimits: ListenerLimits = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 100,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 30_000,
  maxConcurrentStreams: 256,
  maxRequestBodyBytes: Infinity,
});

export interface ListenerEvents {
  onExchange(exchange: DownstreamExchange): void;
  /**
   * HTTP/1.1 `Upgrade` requests other than h2c (WebSocket …): the caller owns the socket, which
   * is paused; `head` holds the bytes read past the request head. Without it, Upgrade is
   * ignored and the request served as an ordinary one (RFC 9110 §7.8).
   */
  onUpgrade?(request: RequestHead, socket: Socket, head: Buffer): void;
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
  #draining = false;

  constructor(events: ListenerEvents, limits: ListenerLimits = defaultListenerLimits) {
    this.#limits = limits;
    const onUpgrade = events.onUpgrade;
    this.#h1 = new H1Server({
      onExchange: (exchange) => events.onExchange(exchange),
      onUpgrade:
        onUpgrade === undefined
          ? undefined
          : (request, socket, head) => onUpgrade.call(events, request, socket, head),
      onBadRequest: (reason, remoteAddress) =>
        events.onBadRequest?.(reason, 'http/1.1', remoteAddress),
      maxHeaderBytes: limits.maxHeaderBytes,
      maxHeaderCount: limits.maxHeaderCount,
      maxBodyBytes: limits.maxRequestBodyBytes,
      headersTimeoutMs: limits.headersTimeoutMs,
      idleTimeoutMs: limits.idleTimeoutMs,
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
          const maxBody = limits.maxRequestBodyBytes;
          if (maxBody !== Infinity && Number(headers['content-length'] ?? 0) > maxBody) {
            // Refused from the head alone: nothing of this request goes upstream.
            events.onBadRequest?.('body-too-large', 'h2', session.socket?.remoteAddress);
            refuseStream(stream, 413, 'request-too-large', 'request body too large');
            return;
          }
          events.onExchange(h2Exchange(stream, headers, rawHeaders, maxBody));
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
    // Idle HTTP/1.1 connections close now; busy ones after their response (Connection: close).
    void this.#h1.drain();
    const timer = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
      this.#h1.destroy();
      // Upgraded tunnels and connections still sniffing are no server's: closed here.
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
      if (isH2) {
        socket.pause();
        socket.unshift(received);
        // The HTTP/2 session reads the unshifted bytes itself on the next tick; resuming the
        // socket here would flush them as 'data' events nobody listens to.
        this.#h2.emit('connection', socket);
      } else {
        // Parsed first, before anything else the socket reads.
        this.#h1.handle(socket, received);
      }
    };
    socket.on('data', onData);
  }
}
