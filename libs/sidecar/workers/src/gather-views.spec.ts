import { describe, expect, it } from 'vitest';
import { gatherClusters, gatherStats, readiness } from './gather-views.js';
import type { WorkerStatus } from './worker-fleet.js';

const workerStats = (requests: number, connections: number) => ({
  requests_total: requests,
  responses_2xx: requests,
  config_applied: 1,
  config_version: 2,
  listeners: { gateway: { address: '127.0.0.1:8080', connections } },
});

describe('gatherStats', () => {
  it('sums the workers, takes config counters from the primary, and keeps each worker', () => {
    const body = gatherStats(
      [
        { worker: 1, status: 200, body: workerStats(3, 1) },
        { worker: 2, status: 200, body: workerStats(4, 2) },
      ],
      { config_applied: 1, config_rejected: 0, config_version: 2 },
    );
    expect(body).toEqual({
      config_applied: 1,
      config_rejected: 0,
      config_version: 2,
      requests_total: 7,
      responses_2xx: 7,
      listeners: { gateway: { address: '127.0.0.1:8080', connections: 3 } },
      workers: { '1': workerStats(3, 1), '2': workerStats(4, 2) },
    });
  });

  it('lists a worker that did not answer, without counting it', () => {
    const body = gatherStats(
      [
        { worker: 1, status: 200, body: workerStats(3, 1) },
        { worker: 2, error: 'timeout' },
        { worker: 3, status: 500, body: { error: 'boom' } },
      ],
      {},
    );
    expect(body.requests_total).toBe(3);
    expect(body.workers).toEqual({
      '1': workerStats(3, 1),
      '2': { error: 'timeout' },
      '3': { error: 'status 500' },
    });
  });
});

describe('gatherClusters', () => {
  it('labels each cluster with its worker, and says why a worker has none', () => {
    expect(
      gatherClusters([
        { worker: 1, status: 200, body: [{ name: 'a' }, { name: 'b' }] },
        { worker: 2, status: 200, body: [{ name: 'a' }] },
        { worker: 3, error: 'exited' },
        { worker: 4, status: 200, body: { not: 'a list' } },
      ]),
    ).toEqual([
      { worker: 1, name: 'a' },
      { worker: 1, name: 'b' },
      { worker: 2, name: 'a' },
      { worker: 3, error: 'exited' },
      { worker: 4, error: 'status 200, no cluster list' },
    ]);
  });
});

const status = (worker: number, state: WorkerStatus['state'], version: number | null) => ({
  worker,
  state,
  listening: state === 'running',
  version,
  restarts: 0,
  lastExit: null,
  lastRejection: null,
});

describe('readiness', () => {
  it('is 200 when the fleet is ready', () => {
    expect(readiness(true, false, 1, [])).toEqual({ status: 200, body: 'ready\n' });
  });

  it('says draining, or no config yet', () => {
    expect(readiness(false, true, 1, [])).toEqual({ status: 503, body: 'draining\n' });
    expect(readiness(false, false, undefined, [])).toEqual({
      status: 503,
      body: 'not ready: no config yet\n',
    });
  });

  it('names the workers that are not serving the version in force', () => {
    expect(
      readiness(false, false, 3, [
        status(1, 'running', 3),
        status(2, 'running', 2),
        status(3, 'restarting', null),
      ]),
    ).toEqual({
      status: 503,
      body: 'not ready: worker 2 running at version 2, worker 3 restarting\n',
    });
  });
});
