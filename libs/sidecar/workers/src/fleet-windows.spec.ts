import { decodeTelemetrySummary } from '@trellis/mesh-protocol';
import { DestinationWindows, SummaryPublisher } from '@trellis/sidecar-telemetry';
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { FleetWindows, gatherWindows } from './fleet-windows.js';
import type { WorkerEvents } from './worker-fleet.js';
import { WorkerFleet } from './worker-fleet.js';

const identity = { namespace: 'shop', pod: 'web-1', service: 'web' };
const snapshot = { version: 1, hash: 'sha256:1', resources: [] };
const emptyWindow = { windowSeconds: 10, series: [] };

/** Lets the workers' answers (queued like IPC) and the promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A primary's fleet of fake workers on one fake clock. Each worker keeps its own windows and
 * answers the telemetry view as the real one does, through a JSON round trip (Node's cluster
 * IPC serialises messages as JSON); a worker marked silent never answers.
 */
function pod(size: number) {
  const clock = new FakeClock(1_000_000);
  const windows = Array.from({ length: size }, () => new DestinationWindows({ clock, identity }));
  const silent = new Set<number>();
  const events = new Map<number, WorkerEvents>();
  const debug: object[] = [];
  const fleet = new WorkerFleet({
    size,
    clock,
    collectTimeoutMs: 500,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onStartFailed: () => undefined,
    spawn(worker, workerEvents) {
      events.set(worker, workerEvents);
      return {
        send(message) {
          if (message.type !== 'trellis:collect' || silent.has(worker)) return;
          const body = JSON.parse(JSON.stringify(windows[worker - 1]!.contents())) as unknown;
          queueMicrotask(() =>
            workerEvents.message({ type: 'trellis:collected', id: message.id, status: 200, body }),
          );
        },
        kill: () => undefined,
      };
    },
  });
  fleet.start();
  fleet.publish(snapshot);
  for (const worker of events.keys()) {
    const e = events.get(worker)!;
    e.message({ type: 'trellis:hello' });
    e.message({ type: 'trellis:applied', version: 1, hash: 'sha256:1' });
    e.message({ type: 'trellis:listening', addresses: { outbound: '127.0.0.1:15001' } });
  }
  const source = new FleetWindows({
    collect: () => fleet.collect('telemetry'),
    identity,
    log: { debug: (fields) => void debug.push(fields) },
  });
  /** What one process that saw every request would hold. */
  const all = new DestinationWindows({ clock, identity });
  /** One request, served by `worker` (1..size). */
  const serve = (worker: number, key: string | undefined, ok: boolean, ms: number) => {
    windows[worker - 1]!.observe('outbound', key, ok, ms);
    all.observe('outbound', key, ok, ms);
  };
  return { clock, fleet, events, silent, source, all, serve, debug };
}

describe('gatherWindows', () => {
  it('keeps well-formed windows and says why each other worker is left out', () => {
    expect(
      gatherWindows(
        [
          { worker: 1, status: 200, body: emptyWindow },
          { worker: 2, error: 'timeout' },
          { worker: 3, status: 503, body: { error: 'not listening yet' } },
          { worker: 4, status: 200, body: { windowSeconds: 10 } },
          { worker: 5, status: 200, body: { windowSeconds: 5, series: [] } },
        ],
        10,
      ),
    ).toEqual({
      windows: [emptyWindow],
      leftOut: [
        { worker: 2, reason: 'timeout' },
        { worker: 3, reason: 'status 503' },
        { worker: 4, reason: 'bad cluster message: telemetry.series must be a list' },
        { worker: 5, reason: 'a window of 5 s, not 10 s' },
      ],
    });
  });
});

describe('FleetWindows', () => {
  it('summarizes the workers’ windows as one window that saw every request', async () => {
    const { clock, source, all, serve } = pod(3);
    for (let i = 0; i < 5; i++) serve(1, 'catalog.shop:8080', true, 2);
    serve(2, 'catalog.shop:8080', false, 40);
    serve(3, 'payments.shop:50051', true, 1);
    serve(3, undefined, true, 1);
    clock.advance(1_000);
    const summary = await source.summarize();
    expect(summary).toEqual(all.summarize());
    expect(summary.destinations.map((d) => [d.service, d.requests, d.failures, d.p99Ms])).toEqual([
      ['__unrouted__', 1, 0, 1.008],
      ['catalog.shop', 6, 1, 39.936],
      ['payments.shop', 1, 0, 1.008],
    ]);
  });

  it('leaves out a worker that does not answer in time, and logs it at debug', async () => {
    const { clock, source, silent, serve, debug } = pod(2);
    serve(1, 'catalog.shop:8080', true, 1);
    serve(2, 'catalog.shop:8080', true, 1);
    clock.advance(1_000);
    silent.add(2);
    const summary = source.summarize();
    await settle();
    clock.advance(500);
    expect((await summary).destinations.map((d) => d.requests)).toEqual([1]);
    expect(debug).toEqual([{ leftOut: [{ worker: 2, reason: 'timeout' }] }]);
  });

  it('leaves out a worker that exited and is waiting to restart', async () => {
    const { clock, source, events, serve, debug } = pod(2);
    serve(1, 'catalog.shop:8080', true, 1);
    serve(2, 'catalog.shop:8080', true, 1);
    clock.advance(1_000);
    events.get(2)!.exit(null, 'SIGKILL');
    expect((await source.summarize()).destinations.map((d) => d.requests)).toEqual([1]);
    expect(debug).toEqual([{ leftOut: [{ worker: 2, reason: 'not running' }] }]);
  });

  it('fails the round when no worker answered', async () => {
    const { clock, source, silent, debug } = pod(2);
    silent.add(1).add(2);
    const summary = source.summarize();
    clock.advance(500);
    await expect(summary).rejects.toThrow(
      expect.objectContaining({
        code: 'TRL_WORKERS_NO_TELEMETRY',
        message:
          'no worker answered with its telemetry windows (worker 1: timeout; worker 2: timeout)',
      }),
    );
    expect(debug).toEqual([]);
  });

  it('feeds one summary per interval to the publisher, with the pod’s identity', async () => {
    const { clock, source, serve } = pod(2);
    const sent: Uint8Array[] = [];
    const publisher = new SummaryPublisher({
      windows: source,
      identity,
      clock,
      wallClock: () => Date.parse('2026-11-25T16:00:00.000Z'),
      publish: (payload) => sent.push(payload) > 0,
    });
    publisher.start();
    serve(1, 'catalog.shop:8080', true, 2);
    serve(2, 'catalog.shop:8080', true, 2);
    clock.advance(5_000);
    await settle();
    expect(sent.map((p) => decodeTelemetrySummary(p))).toEqual([
      {
        v: 1,
        proxy: identity,
        at: '2026-11-25T16:00:00.000Z',
        windowSeconds: 10,
        destinations: [
          {
            direction: 'outbound',
            service: 'catalog.shop',
            requests: 2,
            failures: 0,
            rps: 0.2,
            successRate: 1,
            p50Ms: 2.016,
            p95Ms: 2.016,
            p99Ms: 2.016,
            latency: [127, 2],
          },
        ],
        edges: [{ from: 'web.shop', to: 'catalog.shop', requests: 2, failures: 0 }],
      },
    ]);
    publisher.stop();
  });
});
