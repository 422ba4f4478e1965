// The primary's admin views with --concurrency N, built from what each worker answered: /stats
// keeps the single-process shape with counters summed over the workers (config counters are the
// primary's: it decides each version once) and adds each worker's own view, labelled by worker;
// /clusters lists each worker's clusters labelled by worker, since each balances on its own.
import type { Collected, WorkerStatus } from './worker-fleet.js';

type Body = Record<string, unknown>;

interface ListenerStats {
  readonly address: string;
  readonly connections: number;
}

/**
 * /stats over the workers. `primary` (config_applied, config_rejected, config_version) replaces
 * the workers' copies of those numbers; `listeners` sums connections per listener.
 */
export function gatherStats(
  collected: readonly Collected[],
  primary: Readonly<Record<string, number>>,
): Body {
  const totals: Record<string, number> = {};
  const listeners: Record<string, ListenerStats> = {};
  const workers: Record<string, unknown> = {};
  for (const entry of collected) {
    if (!('status' in entry) || entry.status !== 200 || !isObject(entry.body)) {
      workers[entry.worker] = { error: 'error' in entry ? entry.error : `status ${entry.status}` };
      continue;
    }
    workers[entry.worker] = entry.body;
    for (const [name, value] of Object.entries(entry.body)) {
      if (typeof value === 'number') totals[name] = (totals[name] ?? 0) + value;
    }
    const own = entry.body.listeners;
    if (!isObject(own)) continue;
    for (const [name, stats] of Object.entries(own)) {
      if (!isObject(stats)) continue;
      const before = listeners[name];
      listeners[name] = {
        address: before?.address || String(stats.address ?? ''),
        connections: (before?.connections ?? 0) + Number(stats.connections ?? 0),
      };
    }
  }
  const merged = { ...totals, ...primary };
  const sorted = Object.fromEntries(
    Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return { ...sorted, listeners, workers };
}

/** /clusters over the workers: each cluster tagged with its worker; silent workers say why. */
export function gatherClusters(collected: readonly Collected[]): Body[] {
  return collected.flatMap((entry): Body[] => {
    if (!('status' in entry) || entry.status !== 200 || !Array.isArray(entry.body))
      return [
        {
          worker: entry.worker,
          error: 'error' in entry ? entry.error : `status ${entry.status}, no cluster list`,
        },
      ];
    return entry.body.map((cluster: unknown) => ({
      worker: entry.worker,
      ...(isObject(cluster) ? cluster : {}),
    }));
  });
}

/** /ready's answer: ready only when every worker listens with the primary's version in force. */
export function readiness(
  ready: boolean,
  stopping: boolean,
  version: number | undefined,
  workers: readonly WorkerStatus[],
): { status: number; body: string } {
  if (ready) return { status: 200, body: 'ready\n' };
  if (stopping) return { status: 503, body: 'draining\n' };
  if (version === undefined) return { status: 503, body: 'not ready: no config yet\n' };
  const waiting = workers
    .filter((w) => !(w.listening && w.version === version))
    .map((w) => `worker ${w.worker} ${w.state}${w.listening ? ` at version ${w.version}` : ''}`);
  return { status: 503, body: `not ready: ${waiting.join(', ')}\n` };
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
