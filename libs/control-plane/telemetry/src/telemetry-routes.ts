// The telemetry endpoints of the control plane's HTTP API (a route group for createApiServer):
// the per-service rollup with the service graph, and one sidecar's latest summary.
import type { ServerResponse } from 'node:http';
import type { ApiRoute } from '@trellis/control-plane-core';
import type { TelemetryAggregator } from './telemetry-aggregator.js';

export const TELEMETRY_PATH = '/api/v1/telemetry';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

export function telemetryRoutes(aggregator: TelemetryAggregator): ApiRoute {
  const oneSidecar = (res: ServerResponse, rest: string): void => {
    const parts = rest.split('/');
    const [namespace, pod] = parts;
    if (parts.length !== 2 || !namespace || !pod) {
      sendJson(res, 404, { error: `expected ${TELEMETRY_PATH}/<namespace>/<pod>` });
      return;
    }
    const summary = aggregator.latest(namespace, pod);
    if (!summary) {
      sendJson(res, 404, { error: `no live telemetry from ${namespace}/${pod}` });
      return;
    }
    sendJson(res, 200, summary);
  };
  return {
    endpoints: [TELEMETRY_PATH, `${TELEMETRY_PATH}/<namespace>/<pod>`],
    handle(_req, res, path) {
      if (path === TELEMETRY_PATH || path === `${TELEMETRY_PATH}/`)
        sendJson(res, 200, aggregator.view());
      else if (path.startsWith(`${TELEMETRY_PATH}/`))
        oneSidecar(res, path.slice(TELEMETRY_PATH.length + 1));
      else return false;
      return true;
    },
  };
}
