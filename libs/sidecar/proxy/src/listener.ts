// One listening port that serves HTTP/1.1 and HTTP/2 cleartext side by side: the first bytes
// of each connection decide. HTTP/2 clients start with the connection preface (prior
// knowledge) and go to our lean HTTP/2 server (@trellis/sidecar-h2); everything else goes to
// our lean HTTP/1.1 server (@trellis/sidecar-h1-server), which parses strictly (smuggling
// shapes, Host, codings, limits) and answers its own refusals. An HTTP/1.1 request asking for
// `Upgrade: h2c` (RFC 7540 §3.2) without a body is switched to HTTP/2 and answered as stream 1;
// one with a body or a bad HTTP2-Settings stays HTTP/1.1.
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { H1Server } from '@trellis/sidecar-h1-server';
import type { RequestHead } from '@trellis/sidecar-h1-server';
import { H2Server, isH2cUpgrade } from '@trellis/sidecar-h2';
import { h2Exchange, refuseStream } from './downstream-h2.js';
import type { DownstreamExchange } from './exchange.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

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
  readonly #h2: H2Server;
  readonly #sockets = new Set<Socket>();
  readonly #limits: ListenerLimits;

  constructor(events: ListenerEvents, limits: ListenerLimits = defaultListenerLimits) {
    this.#limits = limits;
    const onUpgrade = events.onUpgrade;
    this.#h1 = new H1Server({
      onExchange: (exchange) => events.onExchange(exchange),
      onUpgrade:
        onUpgrade === undefined
          ? undefined
          : (request, socket, head) => onUpgrade.call(events, request, socket, head),
      onH2cUpgrade: {
        accepts: (request) => isH2cUpgrade(request),
        upgrade: (request, socket, head) => this.#h2.upgrade(socket, request, head),
      },
      onBadRequest: (reason, remoteAddress) =>
        events.onBadRequest?.(reason, 'http/1.1', remoteAddress),
      maxHeaderBytes: limits.maxHeaderBytes,
      maxHeaderCount: limits.maxHeaderCount,
      maxBodyBytes: limits.maxRequestBodyBytes,
      headersTimeoutMs: limits.headersTimeoutMs,
      idleTimeoutMs: limits.idleTimeoutMs,
    });

    const maxBody = limits.maxRequestBodyBytes;
    this.#h2 = new H2Server({
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderBytes,
      maxHeaderCount: limits.maxHeaderCount,
      initialWindowSize: 1024 * 1024,
      // Larger than the 64 KiB default: one slow stream must not stall the rest.
      connectionWindowSize: 16 * 1024 * 1024,
      idleTimeoutMs: limits.idleTimeoutMs,
      onStream: (stream) => {
        if (maxBody !== Infinity && stream.contentLength > maxBody) {
          // Refused from the head alone: nothing of this request goes upstream.
          events.onBadRequest?.('body-too-large', 'h2', stream.remoteAddress);
          refuseStream(stream, 413, 'request-too-large', 'request body too large');
          return;
        }
        events.onExchange(h2Exchange(stream, maxBody));
      },
      onClientError: (error, remoteAddress) =>
        events.onBadRequest?.(error.message, 'h2', remoteAddress),
    });

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

  /** HTTP/2 streams open now (an HTTP/1.1 connection carries one request at a time). */
  get streams(): number {
    return this.#h2.activeStreams;
  }

  /**
   * Stops accepting connections and asks clients to go: GOAWAY on HTTP/2, `Connection: close`
   * on the next HTTP/1.1 response, idle keep-alive connections closed now. In-flight requests
   * carry on; resolves when every connection has closed, or at `deadlineMs` after forcing the
   * rest closed.
   */
  async drain(deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    this.#h2.drain();
    // Idle HTTP/1.1 connections close now; busy ones after their response (Connection: close).
    void this.#h1.drain();
    const timer = setTimeout(() => {
      this.#h2.destroy();
      this.#h1.destroy();
      // Upgraded tunnels and connections still sniffing are no server's: closed here.
      for (const socket of this.#sockets) socket.destroy();
    }, deadlineMs);
    await closed;
    clearTimeout(timer);
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
        this.#h2.serve(socket, received);
      } else {
        // Parsed first, before anything else the socket reads.
        this.#h1.handle(socket, received);
      }
    };
    socket.on('data', onData);
  }
}
