// HTTP/1.1 Upgrade pass-through (WebSocket and the like). An upgrade request is routed like any
// request — the route, rate-limit and balance layers run with the runtime in force — and sent
// to the chosen endpoint over a fresh HTTP/1.1 connection. A 101 answer turns both connections
// into one tunnel: bytes piped both ways with back-pressure, the two sockets closed together,
// closed when idle. Any other answer (or a proxy-made one) is relayed as a normal response,
// after which the client connection closes: what the client sends after an unanswered upgrade
// cannot be told apart from a new request.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { HostPort } from '@trellis/address';
import { H1Pool } from '@trellis/sidecar-h1';
import type { H1Error, H1ResponseHandler, RequestHandle } from '@trellis/sidecar-h1';
import type { RequestHead } from '@trellis/sidecar-h1-server';
import type { Clock } from '@trellis/time';
import type { Handler, ProxyRequest } from './context.js';
import { cancel, compose, newProxyRequest } from './context.js';
import type { DownstreamExchange, ResponseWriter } from './exchange.js';
import { forwardableHeaders, getHeader, lowerCaseNames } from './flat-headers.js';
import type { FlatHeaders } from './flat-headers.js';
import { balanceLayer } from './layers/balance.js';
import { inboundLayer } from './layers/inbound.js';
import { rateLimitLayer } from './layers/rate-limit.js';
import { routeLayer } from './layers/route.js';
import { completedRequest } from './proxy.js';
import type { CompletedRequest } from './proxy.js';
import { UpstreamBody, localResponse } from './response.js';
import type { BodyOutcome, ProxyResponse, ResponseBody } from './response.js';
import type { ProxyRuntime } from './runtime.js';
import { DEFAULT_POOL, fromH1Error } from './connectors.js';
import { UPSTREAM_FAILURE_CODES, targetKey } from './upstream.js';
import type { UpstreamError } from './upstream.js';
import type { UpstreamCall, UpstreamTarget } from './upstream.js';

export interface UpgradeOptions {
  /** The runtime in force now (undefined before the first config). */
  readonly runtime: () => ProxyRuntime | undefined;
  readonly clock: Clock;
  readonly random: () => number;
  /** A tunnel with no byte either way for this long is closed, ms (0: never). */
  readonly idleTimeoutMs: number;
  /** Inbound listener: every upgrade goes to this local app instead of being routed. */
  readonly app?: HostPort;
  /** Called once per upgrade request: when its tunnel closed, or its answer was written. */
  readonly onComplete?: (completed: CompletedRequest) => void;
}

function failureResponse(request: ProxyRequest, error: UpstreamError): ProxyResponse {
  const response = localResponse(UPSTREAM_FAILURE_CODES[error.failure], error.message);
  request.record.error ??= getHeader(response.headers, 'x-trellis-error');
  return response;
}

/**
 * The upstream connections of upgrades: HTTP/1.1 pools of their own, one per endpoint, so a
 * long-lived tunnel never holds a slot of the request pools (a 101 takes its connection out of
 * the pool anyway; a refused upgrade leaves it reusable for the next upgrade).
 */
class TunnelPools {
  readonly #pools = new Map<string, H1Pool>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  request(
    target: UpstreamTarget,
    head: { method: string; path: string; headers: string[] },
    handler: H1ResponseHandler,
  ): RequestHandle {
    const key = targetKey(target);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      const settings = target.pool ?? DEFAULT_POOL;
      pool = new H1Pool({
        host: target.address,
        port: target.port,
        maxConnections: settings.maxConnections,
        maxQueued: settings.maxPendingRequests,
        connectTimeoutMs: settings.connectTimeoutMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        clock: this.#clock,
      });
      this.#pools.set(key, pool);
    }
    return pool.request({ ...head, hasBody: false }, handler);
  }

  retain(keys: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (keys.has(key)) continue;
      this.#pools.delete(key);
      void pool.close();
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/**
 * The upstream side of a 101: its socket, out of the pool. It is a response body only so the
 * balance layer holds the destination's admission until the tunnel closes; it carries no bytes
 * as a body (a 101 has none) and is consumed by `open`.
 */
class TunnelBody implements ResponseBody {
  readonly upstream: Socket;
  readonly head: Buffer;
  #finished: BodyOutcome | undefined;
  #settled: ((outcome: BodyOutcome) => void)[] = [];

  constructor(upstream: Socket, head: Buffer) {
    this.upstream = upstream;
    this.head = head;
  }

  get isEmpty(): boolean {
    return true;
  }

  get endedWithoutTrailers(): boolean {
    return true;
  }

  get endTrailers(): undefined {
    return undefined;
  }

  /** A 101 has no body: piping ends the writer and gives the tunnel up. */
  pipe(writer: ResponseWriter, done: (outcome: BodyOutcome, bytes: number) => void): void {
    writer.end();
    this.discard();
    done('complete', 0);
  }

  discard(): void {
    this.upstream.destroy();
    this.finish('client-gone');
  }

  whenDone(callback: (outcome: BodyOutcome) => void): void {
    if (this.#finished) callback(this.#finished);
    else this.#settled.push(callback);
  }

  finish(outcome: BodyOutcome): void {
    if (this.#finished) return;
    this.#finished = outcome;
    const callbacks = this.#settled;
    this.#settled = [];
    for (const callback of callbacks) callback(outcome);
  }
}

/**
 * The downstream side of an upgrade request as the layers see it: no body, and a response
 * writer over the raw socket that always closes the connection after the answer (the body is
 * delimited by that close, so upstream framing never needs translating).
 */
class UpgradeExchange implements DownstreamExchange, ResponseWriter {
  readonly protocol = 'http/1.1' as const;
  readonly method: string;
  readonly authority: string;
  readonly target: string;
  readonly headers: readonly string[];
  readonly remoteAddress: string;
  readonly hasBody = false;
  readonly socket: Socket;
  #headSent = false;
  #finished = false;

  constructor(request: RequestHead, socket: Socket) {
    this.method = request.method;
    this.authority = request.authority;
    this.target = request.target;
    this.headers = request.headers;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.socket = socket;
  }

  get body(): DownstreamExchange['body'] {
    return {
      start: (handlers) => handlers.onEnd(undefined),
      pause: () => undefined,
      resume: () => undefined,
    };
  }

  get response(): ResponseWriter {
    return this;
  }

  onAbort(callback: () => void): void {
    this.socket.once('close', () => {
      if (!this.#finished) callback();
    });
  }

  get headSent(): boolean {
    return this.#headSent;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Never called: upgrades are answered by the tunnel handler, which relays no 1xx but 101. */
  informational(): void {}

  head(status: number, headers: FlatHeaders, endStream: boolean): void {
    this.#headSent = true;
    this.socket.write(serializeHead(status, headers, 'close'), 'latin1');
    if (endStream) this.end();
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  onDrain(callback: () => void): void {
    if (this.socket.writableNeedDrain) this.socket.once('drain', callback);
    else process.nextTick(callback);
  }

  end(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.socket.end();
    // Read (and drop) what the client still sends, so its FIN is seen and the socket closes.
    this.socket.resume();
  }

  abort(): void {
    this.#finished = true;
    this.socket.destroy();
  }
}

/** A response head; `connection` is appended unless empty (101 carries the upstream's own). */
function serializeHead(status: number, headers: readonly string[], connection: string): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (connection) head += `connection: ${connection}\r\n`;
  return `${head}\r\n`;
}

export class UpgradeProxy {
  readonly #options: UpgradeOptions;
  readonly #pools: TunnelPools;
  readonly #stack: Handler;
  #active = 0;
  #total = 0;

  constructor(options: UpgradeOptions) {
    this.#options = options;
    this.#pools = new TunnelPools(options.clock);
    const tunnel = this.#tunnelHandler();
    this.#stack = options.app
      ? compose([inboundLayer(options.app)], tunnel)
      : compose(
          [
            // The same route lookup, rate limit and endpoint pick as ordinary requests. No
            // timeout or retry layers: a tunnel's life is not a request's, and an upgrade is
            // not safely repeatable once the upstream may have acted on it.
            routeLayer(),
            rateLimitLayer(),
            balanceLayer(),
          ],
          tunnel,
        );
  }

  /** Tunnels open now. */
  get active(): number {
    return this.#active;
  }

  /** Tunnels opened since start. */
  get total(): number {
    return this.#total;
  }

  /** Takes over an upgrade request's socket (paused) and `rest`, the bytes read past its head. */
  handle(head: RequestHead, socket: Socket, rest: Buffer): void {
    const options = this.#options;
    socket.on('error', () => socket.destroy());
    // Until the tunnel opens this bounds the wait for the answer; after, the tunnel's silence.
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs);
      socket.on('timeout', () => socket.destroy());
    }
    const exchange = new UpgradeExchange(head, socket);
    const runtime = options.runtime();
    if (head.hasBody || !runtime) {
      const response = head.hasBody
        ? localResponse('TRL_BAD_REQUEST', 'an upgrade request cannot carry a body')
        : localResponse('TRL_NO_ROUTE', 'the sidecar has no config yet');
      exchange.head(response.status, response.headers, false);
      response.body?.pipe(exchange, () => undefined);
      return;
    }
    const headers = forwardableHeaders(head.headers);
    let requestId = getHeader(headers, 'x-request-id');
    if (requestId === undefined) {
      requestId = randomUUID();
      headers.push('x-request-id', requestId);
    }
    if (exchange.remoteAddress) headers.push('x-forwarded-for', exchange.remoteAddress);
    // The two hop-by-hop fields that make it an upgrade, which forwardableHeaders dropped.
    headers.push('connection', 'upgrade', 'upgrade', head.upgrade);
    const request = newProxyRequest({
      exchange,
      runtime,
      clock: options.clock,
      random: options.random,
      requestId,
      headers,
      body: undefined,
    });
    exchange.onAbort(() => cancel(request, 'client-gone'));
    this.#stack(request).then(
      (response) => this.#respond(request, exchange, response, rest),
      () =>
        this.#respond(
          request,
          exchange,
          localResponse('TRL_UPSTREAM_RESET', 'internal proxy error'),
          rest,
        ),
    );
  }

  /** Closes idle pools of endpoints no longer in use (keys as `targetKey`). */
  retain(keys: ReadonlySet<string>): void {
    this.#pools.retain(keys);
  }

  /** Closes the upgrade pools; open tunnels close with their client connections. */
  close(): Promise<void> {
    return this.#pools.close();
  }

  #respond(
    request: ProxyRequest,
    exchange: UpgradeExchange,
    response: ProxyResponse,
    rest: Buffer,
  ): void {
    const socket = exchange.socket;
    const body = response.body;
    if (socket.destroyed || request.cancelled === 'client-gone') {
      body?.discard();
      this.#complete(request, 499, 'client-gone', 0);
      return;
    }
    if (body instanceof TunnelBody) {
      socket.write(serializeHead(101, response.headers, ''), 'latin1');
      this.#open(request, socket, rest, body);
      return;
    }
    const headers =
      response.error === undefined ? forwardableHeaders(response.headers) : response.headers;
    exchange.head(response.status, headers, body === undefined);
    if (body === undefined) {
      this.#complete(request, response.status, 'complete', 0);
      return;
    }
    exchange.onAbort(() => body.discard());
    body.pipe(exchange, (outcome, bytes) =>
      this.#complete(request, response.status, outcome, bytes),
    );
  }

  /** Joins the two sockets: each one's bytes go to the other, and they close together. */
  #open(request: ProxyRequest, client: Socket, rest: Buffer, tunnel: TunnelBody): void {
    const upstream = tunnel.upstream;
    this.#active++;
    this.#total++;
    let bytesIn = rest.length;
    let bytesOut = tunnel.head.length;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.#active--;
      client.destroy();
      upstream.destroy();
      tunnel.finish('complete');
      this.#complete(request, 101, 'complete', bytesOut, bytesIn);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.once('close', close);
    }
    // The client socket has had its idle timeout since handle(); any byte either way resets
    // both, since each is read from one socket and written to the other.
    if (this.#options.idleTimeoutMs > 0) {
      upstream.setTimeout(this.#options.idleTimeoutMs);
      upstream.on('timeout', close);
    }
    client.on('data', (chunk: Buffer) => (bytesIn += chunk.length));
    upstream.on('data', (chunk: Buffer) => (bytesOut += chunk.length));
    if (tunnel.head.length > 0) client.write(tunnel.head);
    if (rest.length > 0) upstream.write(rest);
    // pipe() pauses the source while the destination's buffer is full, and ends the
    // destination when the source ends.
    client.pipe(upstream);
    upstream.pipe(client);
  }

  #tunnelHandler(): Handler {
    const pools = this.#pools;
    return (request) =>
      new Promise<ProxyResponse>((resolve) => {
        const upstream = request.upstream;
        if (!upstream || upstream.protocol !== 'http1') {
          request.record.error = 'upstream-protocol-error';
          resolve(
            localResponse(
              'TRL_UPSTREAM_PROTOCOL_ERROR',
              `upgrades need an http1 destination (got ${upstream?.protocol ?? 'none'})`,
            ),
          );
          return;
        }
        const endpoint = `${upstream.address}:${upstream.port}`;
        request.record.attempts = 1;
        let body: UpstreamBody | undefined;
        let switching: string[] | undefined;
        const handler: H1ResponseHandler = {
          onResponseHead(status, _reason, headers) {
            if (status === 101) {
              switching = headers;
              return;
            }
            body = new UpstreamBody();
            body.bind(call);
            resolve({
              status,
              headers: lowerCaseNames(headers),
              body,
              trailers: false,
              error: undefined,
              endpoint,
            });
          },
          onData: (chunk) => body?.push(chunk),
          onTrailers: () => undefined,
          onEnd: () => body?.end(undefined),
          onError(error) {
            const failure = fromH1Error(error);
            if (body) body.fail(failure);
            else resolve(failureResponse(request, failure));
          },
          onUpgrade(socket, head) {
            resolve({
              status: 101,
              headers: lowerCaseNames(switching ?? []),
              body: new TunnelBody(socket, head),
              trailers: false,
              error: undefined,
              endpoint,
            });
          },
        };
        let handle: RequestHandle;
        try {
          handle = pools.request(
            upstream,
            {
              method: request.exchange.method,
              path: request.upstreamTarget,
              headers: ['host', request.upstreamAuthority, ...request.headers],
            },
            handler,
          );
        } catch (error) {
          resolve(failureResponse(request, fromH1Error(error as H1Error)));
          return;
        }
        const call: UpstreamCall = {
          write: (chunk) => handle.write(chunk),
          onDrain: (callback) => (handle.onDrain = callback),
          end: () => handle.end(),
          abort: () => handle.abort(),
          pause: () => handle.pause(),
          resume: () => handle.resume(),
        };
        request.onCancel = () => {
          handle.abort();
          resolve(localResponse('TRL_UPSTREAM_RESET', 'the client went away'));
        };
      });
  }

  /** `bytesIn`: a tunnel counts its own; otherwise the request body's. */
  #complete(
    request: ProxyRequest,
    status: number,
    outcome: BodyOutcome,
    bytesOut: number,
    bytesIn?: number,
  ): void {
    this.#options.onComplete?.(
      completedRequest(request, this.#options.clock, {
        status,
        grpcStatus: undefined,
        outcome,
        bytesOut,
        bytesIn,
      }),
    );
  }
}
