// The delivery's read-only HTTP endpoints, served by the control plane's API server next to its
// own: the proxies and their sync state, a server-sent event stream of sync-state changes (for
// the dashboard), and the Prometheus metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import type { DeliveryMetrics } from './metrics.js';
import type { SyncTracker } from './sync-tracker.js';

/** An extra group of endpoints for the API server (createApiServer's `routes`). */
export interface HttpRoute {
  /** Listed in the API's 404 answer. */
  readonly endpoints: readonly string[];
  /** Answers and returns true when `path` is one of its endpoints (GET or HEAD only reach it). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export const DEFAULT_SSE_KEEPALIVE_MS = 15_000;

export interface DeliveryRoutesOptions {
  readonly tracker: SyncTracker;
  readonly metrics: DeliveryMetrics;
  /** Paces the SSE keep-alive comments (default the system clock). */
  readonly clock?: Clock;
  readonly keepAliveMs?: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

const PROXIES = '/api/v1/proxies';
const EVENTS = '/api/v1/events';
const METRICS = '/metrics';

export function deliveryRoutes(options: DeliveryRoutesOptions): HttpRoute {
  const { tracker, metrics } = options;
  const clock = options.clock ?? systemClock;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_SSE_KEEPALIVE_MS;

  const proxies = (res: ServerResponse): void =>
    sendJson(res, 200, {
      latest: tracker.latest ?? null,
      counts: tracker.counts(),
      proxies: tracker.list(),
    });

  const oneProxy = (res: ServerResponse, rest: string): void => {
    const parts = rest.split('/');
    const [namespace, pod] = parts.map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    if (parts.length !== 2 || !namespace || !pod) {
      sendJson(res, 404, { error: `expected ${PROXIES}/<namespace>/<pod>` });
      return;
    }
    const proxy = tracker.get(namespace, pod);
    if (!proxy) {
      sendJson(res, 404, { error: `no proxy ${namespace}/${pod} is known to this replica` });
      return;
    }
    sendJson(res, 200, {
      proxy,
      configInForce: { version: proxy.version, hash: proxy.hash },
      latest: tracker.latest ?? null,
    });
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let id = 0;
    const send = (event: string, data: unknown): void => {
      id += 1;
      res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    // The current list first, so a client needs no separate GET to start from.
    send('snapshot', { latest: tracker.latest ?? null, proxies: tracker.list() });
    const subscription = tracker.changes.subscribe({
      next: (change) => send('change', change),
      complete: () => res.end(),
    });
    let timer: Timer | undefined;
    const keepAlive = (): void => {
      timer = clock.setTimer(keepAliveMs, () => {
        // Proxies and load balancers close idle streams; a comment line keeps it open.
        res.write(': keep-alive\n\n');
        keepAlive();
      });
    };
    keepAlive();
    res.on('close', () => {
      subscription.unsubscribe();
      timer?.cancel();
    });
  };

  const metricsText = (res: ServerResponse): void => {
    metrics.text().then(
      (text) => {
        res.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        res.end(text);
      },
      (error: unknown) =>
        sendJson(res, 500, { error: `metrics failed: ${(error as Error).message}` }),
    );
  };

  return {
    endpoints: [PROXIES, `${PROXIES}/<namespace>/<pod>`, EVENTS, METRICS],
    handle(req, res, path) {
      if (path === PROXIES || path === `${PROXIES}/`) proxies(res);
      else if (path.startsWith(`${PROXIES}/`)) oneProxy(res, path.slice(PROXIES.length + 1));
      else if (path === EVENTS) events(req, res);
      else if (path === METRICS) metricsText(res);
      else return false;
      return true;
    },
  };
}
