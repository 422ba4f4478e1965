// The sidecar's admin endpoint, bound to 127.0.0.1 only: liveness, readiness, the config in
// force and, as the proxy registers them, further views (clusters, stats, metrics, drain).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface AdminResponse {
  readonly status: number;
  /** Objects are sent as JSON; strings as text/plain. */
  readonly body: unknown;
}

export type AdminRoute = (req: IncomingMessage) => AdminResponse | Promise<AdminResponse>;

export interface AdminEndpoints {
  /** GET routes by exact path, e.g. `/ready`. POST-only routes go in `actions`. */
  readonly views: Readonly<Record<string, AdminRoute>>;
  readonly actions?: Readonly<Record<string, AdminRoute>>;
}

function send(res: ServerResponse, { status, body }: AdminResponse): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type':
      typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function createAdminServer(endpoints: AdminEndpoints): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const table = req.method === 'POST' ? endpoints.actions : endpoints.views;
    const route = table?.[path];
    if (!route) {
      const other = req.method === 'POST' ? endpoints.views[path] : endpoints.actions?.[path];
      send(
        res,
        other
          ? {
              status: 405,
              body: { error: `${path} needs ${req.method === 'POST' ? 'GET' : 'POST'}` },
            }
          : {
              status: 404,
              body: {
                error: `no admin endpoint ${path}`,
                endpoints: [
                  ...Object.keys(endpoints.views),
                  ...Object.keys(endpoints.actions ?? {}).map((p) => `POST ${p}`),
                ],
              },
            },
      );
      return;
    }
    Promise.resolve()
      .then(() => route(req))
      .then(
        (response) => send(res, response),
        (error: unknown) =>
          send(res, {
            status: 500,
            body: { error: error instanceof Error ? error.message : String(error) },
          }),
      );
  });
}
