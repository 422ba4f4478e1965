import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import type { ToWorker, WireSnapshot } from './ipc-messages.js';
import { WorkerFleet } from './worker-fleet.js';
import type { WorkerEvents, WorkerFleetOptions } from './worker-fleet.js';

interface FakeProcess {
  readonly worker: number;
  readonly events: WorkerEvents;
  readonly sent: ToWorker[];
  killed: boolean;
}

const snap = (version: number): WireSnapshot => ({
  version,
  hash: `sha256:${version}`,
  resources: [],
});

function setup(options: Partial<WorkerFleetOptions> = {}) {
  const clock = new FakeClock();
  const processes: FakeProcess[] = [];
  const logged: { level: string; message: string; fields: object }[] = [];
  const record = (level: string) => (fields: object, message: string) =>
    void logged.push({ level, message, fields });
  const startFailures: string[] = [];
  const fleet = new WorkerFleet({
    size: 2,
    clock,
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    backoff: { initialMs: 100, maxMs: 1_000, stableMs: 10_000 },
    collectTimeoutMs: 500,
    spawn(worker, events) {
      const p: FakeProcess = { worker, events, sent: [], killed: false };
      processes.push(p);
      return { send: (m) => void p.sent.push(m), kill: () => void (p.killed = true) };
    },
    onStartFailed: (error) => void startFailures.push(`${error.code}: ${error.message}`),
    ...options,
  });
  /** The live process of a slot (the last one spawned for it). */
  const live = (worker: number) => processes.filter((p) => p.worker === worker).at(-1)!;
  const bootWith = (worker: number, version: number) => {
    const p = live(worker);
    p.events.message({ type: 'trellis:hello' });
    p.events.message({ type: 'trellis:applied', version, hash: `sha256:${version}` });
    p.events.message({ type: 'trellis:listening', addresses: { gateway: '127.0.0.1:8080' } });
  };
  return { clock, fleet, processes, logged, startFailures, live, bootWith };
}

describe('WorkerFleet', () => {
  it('starts one process per slot, numbered from 1', () => {
    const { fleet, processes } = setup({ size: 3 });
    fleet.start();
    expect(processes.map((p) => p.worker)).toEqual([1, 2, 3]);
    expect(fleet.status().map((s) => s.state)).toEqual(['starting', 'starting', 'starting']);
  });

  it('sends the snapshot in force to each worker once it says hello', () => {
    const { fleet, live } = setup();
    fleet.start();
    live(1).events.message({ type: 'trellis:hello' });
    expect(live(1).sent).toEqual([]);
    fleet.publish(snap(1));
    expect(live(1).sent).toEqual([{ type: 'trellis:snapshot', snapshot: snap(1) }]);
    expect(live(2).sent).toEqual([]);
    live(2).events.message({ type: 'trellis:hello' });
    expect(live(2).sent).toEqual([{ type: 'trellis:snapshot', snapshot: snap(1) }]);
  });

  it('is ready only when every worker listens with the version in force', () => {
    const { fleet, bootWith, live } = setup();
    fleet.start();
    expect(fleet.ready).toBe(false);
    fleet.publish(snap(1));
    bootWith(1, 1);
    expect(fleet.ready).toBe(false);
    bootWith(2, 1);
    expect(fleet.ready).toBe(true);
    fleet.publish(snap(2));
    expect(fleet.ready).toBe(false);
    live(1).events.message({ type: 'trellis:applied', version: 2, hash: 'sha256:2' });
    live(2).events.message({ type: 'trellis:applied', version: 2, hash: 'sha256:2' });
    expect(fleet.ready).toBe(true);
  });

  it('restarts a crashed worker after the backoff delay and gives it the current snapshot', () => {
    const { fleet, clock, bootWith, live, processes } = setup();
    fleet.start();
    fleet.publish(snap(4));
    bootWith(1, 4);
    bootWith(2, 4);
    live(2).events.exit(null, 'SIGKILL');
    expect(fleet.ready).toBe(false);
    expect(fleet.status()[1]).toEqual({
      worker: 2,
      state: 'restarting',
      listening: false,
      version: null,
      restarts: 1,
      lastExit: { code: null, signal: 'SIGKILL' },
      lastRejection: null,
    });
    clock.advance(99);
    expect(processes).toHaveLength(2);
    clock.advance(1);
    expect(processes).toHaveLength(3);
    live(2).events.message({ type: 'trellis:hello' });
    expect(live(2).sent).toEqual([{ type: 'trellis:snapshot', snapshot: snap(4) }]);
  });

  it('doubles the restart delay while a worker keeps crashing', () => {
    const { fleet, clock, bootWith, live, processes } = setup();
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    live(2).events.exit(1, null);
    clock.advance(100);
    live(2).events.exit(1, null);
    clock.advance(199);
    expect(processes).toHaveLength(3);
    clock.advance(1);
    expect(processes).toHaveLength(4);
    expect(fleet.status()[1]?.restarts).toBe(2);
  });

  it('reports a failed start when a worker fails before any worker listened', () => {
    const { fleet, clock, live, startFailures, processes } = setup();
    fleet.start();
    live(1).events.exit(1, null);
    live(2).events.exit(1, null);
    clock.advance(10_000);
    expect(startFailures).toEqual([
      'TRL_WORKERS_START_FAILED: worker 1 exited before listening (code 1, signal null)',
    ]);
    expect(processes).toHaveLength(2);
  });

  it('ignores events of a process that already exited', () => {
    const { fleet, clock, bootWith, live, processes } = setup();
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    const first = live(1);
    first.events.exit(1, null);
    first.events.exit(1, null);
    first.events.message({ type: 'trellis:listening', addresses: {} });
    clock.advance(100);
    expect(processes).toHaveLength(3);
    expect(fleet.status()[0]).toMatchObject({ state: 'starting', restarts: 1 });
  });

  it('logs and ignores malformed messages, and leaves other protocols alone', () => {
    const { fleet, live, logged } = setup();
    fleet.start();
    live(1).events.message({ type: 'prom-client:getMetricsReq' });
    live(1).events.message({ type: 'trellis:applied', version: 'x' });
    expect(logged.map((l) => [l.level, l.message])).toEqual([
      ['warn', 'ignored a malformed message from a worker'],
    ]);
    expect(fleet.status()[0]?.version).toBeNull();
  });

  it('records a worker that refused a snapshot', () => {
    const { fleet, live } = setup();
    fleet.start();
    live(1).events.message({ type: 'trellis:rejected', version: 3, issues: ['hash mismatch'] });
    expect(fleet.status()[0]?.lastRejection).toEqual({ version: 3, issues: ['hash mismatch'] });
  });

  it('collects one view from every worker, matching answers by id', async () => {
    const { fleet, bootWith, live } = setup();
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    bootWith(2, 1);
    const collecting = fleet.collect('stats');
    const ask = (w: number) => live(w).sent.at(-1) as { id: number };
    expect(live(1).sent.at(-1)).toEqual({ type: 'trellis:collect', id: ask(1).id, view: 'stats' });
    live(2).events.message({ type: 'trellis:collected', id: ask(2).id, status: 200, body: 'b' });
    // An answer carrying another worker's id is not taken.
    live(2).events.message({ type: 'trellis:collected', id: ask(1).id, status: 200, body: 'x' });
    live(1).events.message({ type: 'trellis:collected', id: ask(1).id, status: 200, body: 'a' });
    expect(await collecting).toEqual([
      { worker: 1, status: 200, body: 'a' },
      { worker: 2, status: 200, body: 'b' },
    ]);
  });

  it('reports workers that time out, exit while asked, or are not running', async () => {
    const { fleet, clock, bootWith, live } = setup({ size: 3 });
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    bootWith(2, 1);
    const collecting = fleet.collect('metrics');
    live(2).events.exit(1, null);
    clock.advance(500);
    expect(await collecting).toEqual([
      { worker: 1, error: 'timeout' },
      { worker: 2, error: 'exited' },
      { worker: 3, error: 'not running' },
    ]);
  });

  it('drains every worker, never restarts them, and resolves true when all exit 0', async () => {
    const { fleet, clock, bootWith, live, processes } = setup();
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    bootWith(2, 1);
    let result: boolean | undefined;
    void fleet.drain().then((clean) => (result = clean));
    expect(fleet.ready).toBe(false);
    expect(live(1).sent.at(-1)).toEqual({ type: 'trellis:drain' });
    expect(live(2).sent.at(-1)).toEqual({ type: 'trellis:drain' });
    live(1).events.exit(0, null);
    await Promise.resolve();
    expect(result).toBeUndefined();
    live(2).events.exit(0, null);
    await new Promise((resolve) => setImmediate(resolve));
    expect(result).toBe(true);
    clock.advance(60_000);
    expect(processes).toHaveLength(2);
  });

  it('resolves the drain false when a worker did not exit cleanly', async () => {
    const { fleet, bootWith, live } = setup();
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    bootWith(2, 1);
    const drained = fleet.drain();
    live(1).events.exit(0, null);
    live(2).events.exit(null, 'SIGKILL');
    expect(await drained).toBe(false);
  });

  it('cancels a pending restart when draining, and tells a late hello to drain', async () => {
    const { fleet, clock, bootWith, live, processes } = setup();
    fleet.start();
    fleet.publish(snap(1));
    bootWith(1, 1);
    live(2).events.message({ type: 'trellis:hello' });
    live(2).events.exit(1, null);
    const drained = fleet.drain();
    clock.advance(1_000);
    expect(processes).toHaveLength(2);
    live(1).events.message({ type: 'trellis:hello' });
    expect(live(1).sent.slice(-2)).toEqual([
      { type: 'trellis:snapshot', snapshot: snap(1) },
      { type: 'trellis:drain' },
    ]);
    live(1).events.exit(0, null);
    expect(await drained).toBe(true);
  });

  it('kills every live worker', () => {
    const { fleet, live } = setup();
    fleet.start();
    live(1).events.exit(0, null);
    fleet.kill();
    expect([live(1).killed, live(2).killed]).toEqual([false, true]);
  });

  it('refuses a size outside 1..64', () => {
    for (const size of [0, 65, 1.5])
      expect(() => setup({ size })).toThrow(
        `worker count must be a whole number from 1 to 64 (got ${size})`,
      );
  });
});
