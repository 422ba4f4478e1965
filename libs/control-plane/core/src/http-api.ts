// The control plane's HTTP JSON API (read-only): what is in force and what is wrong with the
// sources. The dashboard and scripts read it; meshctl will get the same data over gRPC. Other
// libs add endpoint groups (`routes`, e.g. delivery's proxies, events and metrics).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { formatIssue } from '@trellis/config';
import type { CompileResult } from './compile-pipeline.js';

export interface ApiState {
  current(): CompileResult | undefined;
}

/** An extra group of read-only endpoints served by the same server. */
export interface ApiRoute {
  /** Listed in the 404 answer. */
  readonly endpoints: readonly string[];
  /** Answers and returns true when `path` is one of its endpoints (only GET and HEAD get here). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

const ENDPOINTS = ['/healthz', '/readyz', '/api/v1/snapshot', '/api/v1/issues'];

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

export function handleApiRequest(
  state: ApiState,
  req: IncomingMessage,
  res: ServerResponse,
  routes: readonly ApiRoute[] = [],
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, { error: `method ${req.method} not allowed: the API is read-only` });
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const result = state.current();
  switch (path) {
    case '/healthz':
      send(res, 200, { status: 'ok' });
      return;
    case '/readyz':
      send(res, result?.snapshot ? 200 : 503, { ready: Boolean(result?.snapshot) });
      return;
    case '/api/v1/snapshot':
      if (!result?.snapshot) {
        send(res, 404, {
          error: 'no valid config yet',
          issues: result?.issues.map(formatIssue) ?? [],
        });
        return;
      }
      send(res, 200, result.snapshot);
      return;
    case '/api/v1/issues':
      send(res, 200, {
        version: result?.snapshot?.version ?? null,
        issues: (result?.issues ?? []).map((issue) => ({ ...issue, text: formatIssue(issue) })),
      });
      return;
    default:
      if (routes.some((route) => route.handle(req, res, path))) return;
      send(res, 404, {
        error: `no such endpoint: ${path}`,
        endpoints: [...ENDPOINTS, ...routes.flatMap((route) => route.endpoints)],
      });
  }
}

export function createApiServer(state: ApiState, routes: readonly ApiRoute[] = []): Server {
  return createServer((req, res) => handleApiRequest(state, req, res, routes));
}
