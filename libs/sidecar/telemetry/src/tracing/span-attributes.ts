// OpenTelemetry attribute sets for the sidecar's spans: HTTP semantic conventions, the gRPC
// (rpc.*) ones when the request is gRPC, and the mesh's trellis.* facts.
import type { Attributes } from '@opentelemetry/api';
import type { CompletedRequest, ProxyRequest } from '@trellis/sidecar-proxy';
import { headerOf } from './trace-headers.js';

/** grpc-status codes that mark a span as failed (rpc semantic conventions, server side). */
const GRPC_SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]);

export function isGrpc(request: ProxyRequest): boolean {
  return headerOf(request.headers, 'content-type')?.startsWith('application/grpc') ?? false;
}

function pathOf(target: string): string {
  const cut = target.indexOf('?');
  return cut === -1 ? target : target.slice(0, cut);
}

function hostOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

/** `/pkg.Service/Method` → [`pkg.Service`, `Method`]; undefined for any other shape. */
export function grpcMethodOf(path: string): readonly [string, string] | undefined {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? [match[1]!, match[2]!] : undefined;
}

/**
 * Adds the rpc.* attributes of a gRPC call to `attributes` and returns the span name. Added in
 * place: V8 (Node 20) builds `{ ...a, ...b }` on a slow path (see startFinishedSpan).
 */
function addRpcAttributes(attributes: Attributes, path: string, method: string): string {
  attributes['rpc.system'] = 'grpc';
  const grpcMethod = grpcMethodOf(path);
  if (!grpcMethod) return method;
  attributes['rpc.service'] = grpcMethod[0];
  attributes['rpc.method'] = grpcMethod[1];
  return `${grpcMethod[0]}/${grpcMethod[1]}`;
}

/** Name and start attributes of the request's (server or internal) span. */
export function requestSpanStart(request: ProxyRequest): { name: string; attributes: Attributes } {
  const { exchange } = request;
  const path = pathOf(exchange.target);
  const attributes: Attributes = {
    'http.request.method': exchange.method,
    'url.path': path,
    'server.address': hostOf(exchange.authority),
    'network.protocol.version': exchange.protocol === 'h2' ? '2' : '1.1',
  };
  if (!isGrpc(request)) return { name: exchange.method, attributes };
  return { name: addRpcAttributes(attributes, path, exchange.method), attributes };
}

/**
 * Adds the attributes known once the request is answered to the request span's `attributes`,
 * and returns the error type if it failed.
 */
export function addRequestSpanEnd(
  attributes: Attributes,
  completed: CompletedRequest,
  grpcStatus: string | undefined,
): string | undefined {
  const { record } = completed.request;
  attributes['http.response.status_code'] = completed.status;
  attributes['trellis.attempt'] = record.attempts;
  if (record.route !== undefined) attributes['trellis.route'] = record.route;
  if (record.destination !== undefined) attributes['trellis.destination'] = record.destination;
  if (record.endpoint !== undefined) attributes['trellis.endpoint'] = record.endpoint;
  if (record.retryReasons.length > 0)
    attributes['trellis.retry_reason'] = record.retryReasons.join(',');
  if (record.error !== undefined) attributes['trellis.error'] = record.error;
  const code = grpcStatus === undefined ? undefined : Number(grpcStatus);
  if (code !== undefined && Number.isInteger(code)) attributes['rpc.grpc.status_code'] = code;
  let errorType: string | undefined = record.error;
  if (errorType === undefined && completed.outcome !== 'complete') errorType = completed.outcome;
  if (errorType === undefined && completed.status >= 500) errorType = String(completed.status);
  if (errorType === undefined && code !== undefined && GRPC_SERVER_ERRORS.has(code))
    errorType = String(code);
  if (errorType !== undefined) attributes['error.type'] = errorType;
  return errorType;
}

/** Start attributes of one forwarded attempt's client span. */
export function attemptSpanStart(request: ProxyRequest): { name: string; attributes: Attributes } {
  const { record, upstream } = request;
  const path = pathOf(request.upstreamTarget);
  const attributes: Attributes = {
    'http.request.method': request.exchange.method,
    'url.path': path,
    'server.address': upstream?.address ?? hostOf(request.upstreamAuthority),
    'trellis.attempt': request.attempt,
  };
  if (upstream) {
    attributes['server.port'] = upstream.port;
    attributes['network.protocol.version'] = upstream.protocol === 'http1' ? '1.1' : '2';
    attributes['trellis.endpoint'] = `${upstream.address}:${upstream.port}`;
  }
  if (record.route !== undefined) attributes['trellis.route'] = record.route;
  if (record.destination !== undefined) attributes['trellis.destination'] = record.destination;
  // The reason this attempt is a retry: the retry layer records one reason per retry.
  const reason = record.retryReasons[request.attempt - 2];
  if (reason !== undefined) attributes['trellis.retry_reason'] = reason;
  if (!isGrpc(request)) return { name: request.exchange.method, attributes };
  return { name: addRpcAttributes(attributes, path, request.exchange.method), attributes };
}
