// Reads nats-server's HTTP monitoring endpoints (/healthz, /varz, /jsz, /routez, /connz). One
// request per connection (no agent), so no pooled socket outlives the server it talked to.
import { get } from 'node:http';
import { LOOPBACK_HOST } from './nats-config.js';

export interface NatsMonitorResponse {
  /** HTTP status: /healthz answers 503 while the server is not ready. */
  readonly status: number;
  /** The parsed JSON body (nats-server always answers JSON on these endpoints). */
  readonly body: unknown;
}

/** GETs `path` (e.g. `/jsz`) from the monitor port; rejects on connection errors or bad JSON. */
export function fetchNatsMonitor(
  monitorPort: number,
  path: string,
  timeoutMs = 2000,
): Promise<NatsMonitorResponse> {
  return new Promise((resolve, reject) => {
    const request = get(
      { host: LOOPBACK_HOST, port: monitorPort, path, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch (err) {
            reject(
              new Error(
                `monitor ${path} on port ${monitorPort} answered non-JSON: ${text.slice(0, 200)}`,
                { cause: err },
              ),
            );
          }
        });
      },
    );
    request.once('timeout', () =>
      request.destroy(new Error(`monitor ${path} on port ${monitorPort} timed out`)),
    );
    request.once('error', reject);
  });
}

/** Reads a nested field of an untyped monitor body: `field(body, 'meta_cluster', 'leader')`. */
export function monitorField(body: unknown, ...keys: readonly string[]): unknown {
  let current = body;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
