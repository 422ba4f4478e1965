// Turns each downstream exchange into a ProxyRequest, runs it through the stack with the
// runtime in force when it arrived, and writes the response back — as a trailers-only gRPC
// error when a gRPC client gets a proxy-made answer.
import { errors } from '@trellis/sidecar-resilience';
import type { Clock } from '@trellis/time';
import type { Handler, ProxyRequest } from './context.js';
import { cancel, newProxyRequest } from './context.js';
import type { DownstreamExchange } from './exchange.js';
import { forwardableHeaders, getHeader, keepForwardable } from './flat-headers.js';
import type { FlatHeaders } from './flat-headers.js';
import { RequestBodyFeed } from './request-body.js';
import { newRequestId } from './request-id.js';
import { localResponse } from './response.js';
import type { BodyOutcome, ProxyResponse } from './response.js';
import type { ProxyRuntime } from './runtime.js';
import type { RequestTracer } from './tracing.js';

export interface CompletedRequest {
  readonly request: ProxyRequest;
  readonly status: number;
  readonly grpcStatus: string | undefined;
  readonly outcome: BodyOutcome | 'internal-error';
  readonly durationMs: number;
  /** Request body bytes received from the client (for a tunnel: all its bytes upstream). */
  readonly bytesIn: number;
  /** Response body bytes sent to the client (for a tunnel: all its bytes downstream). */
  readonly bytesOut: number;
}

/**
 * `request` as it ends now: its duration from its start and, unless `end` gives them (a tunnel
 * counts its own), the request-body bytes received.
 */
export function completedRequest(
  request: ProxyRequest,
  clock: Clock,
  end: Pick<CompletedRequest, 'status' | 'grpcStatus' | 'outcome' | 'bytesOut'> & {
    readonly bytesIn?: number | undefined;
  },
): CompletedRequest {
  return {
    request,
    status: end.status,
    grpcStatus: end.grpcStatus,
    outcome: end.outcome,
    durationMs: clock.now() - request.startedAt,
    bytesIn: end.bytesIn ?? request.body?.bytes ?? 0,
    bytesOut: end.bytesOut,
  };
}

export interface ProxyOptions {
  /** The runtime in force now (undefined before the first config). */
  readonly runtime: () => ProxyRuntime | undefined;
  readonly stack: Handler;
  readonly clock: Clock;
  readonly random: () => number;
  /** Most request-body bytes kept for replaying on retries; larger bodies are not retried. */
  readonly replayLimitBytes: number;
  readonly onComplete?: (completed: CompletedRequest) => void;
  readonly onInternalError?: (error: unknown, request: ProxyRequest) => void;
  /** Traces every request; `listenerName` tells the tracer which listener it came in on. */
  readonly tracer?: RequestTracer;
  readonly listenerName?: string;
}

const NO_BODY_STATUSES = new Set([204, 304]);
const CLIENT_CLOSED_REQUEST = 499;

export class Proxy {
  readonly #options: ProxyOptions;

  constructor(options: ProxyOptions) {
    this.#options = options;
  }

  handle(exchange: DownstreamExchange): void {
    const options = this.#options;
    const runtime = options.runtime();
    if (!runtime) {
      writeResponse(
        exchange,
        localResponse('TRL_NO_ROUTE', 'the sidecar has no config yet'),
        () => undefined,
      );
      return;
    }
    const headers = forwardableHeaders(exchange.headers);
    let requestId = getHeader(headers, 'x-request-id');
    if (requestId === undefined) {
      requestId = newRequestId();
      headers.push('x-request-id', requestId);
    }
    appendForwardedFor(headers, exchange.remoteAddress);
    const request = newProxyRequest({
      exchange,
      runtime,
      clock: options.clock,
      random: options.random,
      requestId,
      headers,
      body: exchange.hasBody
        ? new RequestBodyFeed(exchange.body, options.replayLimitBytes)
        : undefined,
    });
    request.trace = options.tracer?.startRequest(request, options.listenerName ?? 'outbound');
    exchange.onAbort(() => cancel(request, 'client-gone'));
    options.stack(request).then(
      (response) => this.#respond(request, response),
      (error: unknown) => {
        options.onInternalError?.(error, request);
        this.#respond(
          request,
          localResponse('TRL_UPSTREAM_RESET', 'internal proxy error'),
          'internal-error',
        );
      },
    );
  }

  #respond(request: ProxyRequest, response: ProxyResponse, failure?: 'internal-error'): void {
    const { exchange } = request;
    if (request.cancelled === 'client-gone' || exchange.response.finished) {
      response.body?.discard();
      request.body?.release();
      // Counted and logged like any request, with nginx's 499 "client closed request".
      this.#complete(
        completedRequest(request, this.#options.clock, {
          status: CLIENT_CLOSED_REQUEST,
          grpcStatus: undefined,
          outcome: 'client-gone',
          bytesOut: 0,
        }),
      );
      return;
    }
    const headGrpcStatus = grpcStatusOf(exchange, response);
    writeResponse(exchange, response, (outcome, bytes) => {
      request.body?.release();
      this.#complete(
        completedRequest(request, this.#options.clock, {
          status: response.status,
          // A gRPC call that returned data ends with grpc-status in the trailers.
          grpcStatus: headGrpcStatus ?? getHeader(response.body?.endTrailers ?? [], 'grpc-status'),
          outcome: failure ?? outcome,
          bytesOut: bytes,
        }),
      );
    });
  }

  #complete(completed: CompletedRequest): void {
    completed.request.trace?.end(completed);
    this.#options.onComplete?.(completed);
  }
}

function appendForwardedFor(headers: FlatHeaders, remoteAddress: string): void {
  if (!remoteAddress) return;
  const address = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'x-forwarded-for') {
      headers[i + 1] = `${headers[i + 1]}, ${address}`;
      return;
    }
  }
  headers.push('x-forwarded-for', address);
}

function isGrpcClient(exchange: DownstreamExchange): boolean {
  return getHeader(exchange.headers, 'content-type')?.startsWith('application/grpc') ?? false;
}

/** The grpc-status the client gets in the response head (trailers-only answers), if any. */
function grpcStatusOf(exchange: DownstreamExchange, response: ProxyResponse): string | undefined {
  if (response.error !== undefined && isGrpcClient(exchange)) {
    return String(response.grpcStatus ?? errors[response.error].grpcStatus);
  }
  return getHeader(response.headers, 'grpc-status');
}

/**
 * grpc-message encoding (gRPC over HTTP/2): UTF-8, with every byte outside printable ASCII and
 * `%` itself percent-encoded. encodeURIComponent would also encode `:` and the like, which
 * clients decode with decodeURI (grpc-js) and so show as `%3A`.
 */
function percentEncodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function writeResponse(
  exchange: DownstreamExchange,
  response: ProxyResponse,
  done: (outcome: BodyOutcome, bytes: number) => void,
): void {
  const writer = exchange.response;
  if (response.error !== undefined && isGrpcClient(exchange)) {
    // gRPC clients read errors from grpc-status, not the HTTP status (trailers-only response).
    response.body?.discard();
    const value = errors[response.error].headerValue;
    writer.head(
      200,
      [
        'content-type',
        'application/grpc',
        'grpc-status',
        grpcStatusOf(exchange, response) as string,
        'grpc-message',
        percentEncodeGrpcMessage(`trellis: ${value}`),
        'x-trellis-error',
        value,
      ],
      true,
      false,
    );
    done('complete', 0);
    return;
  }
  // The response's own list (fresh from the upstream, or the route's answer), filtered in place.
  const headers =
    response.error === undefined ? keepForwardable(response.headers) : response.headers;
  const noBody =
    exchange.method === 'HEAD' ||
    NO_BODY_STATUSES.has(response.status) ||
    !response.body ||
    response.body.isEmpty;
  // A body that has already ended without trailers (a small upstream answer read whole) needs
  // none announced.
  const trailers = response.trailers && !response.body?.endedWithoutTrailers;
  writer.head(response.status, headers, noBody, trailers);
  exchange.onAbort(() => response.body?.discard());
  if (noBody) {
    response.body?.discard();
    done('complete', 0);
  } else {
    response.body?.pipe(writer, done);
  }
}
