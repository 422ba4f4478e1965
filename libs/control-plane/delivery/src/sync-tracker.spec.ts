import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '@trellis/config';
import type { ProxyIdentity, ProxyStatus, ProxyStatusKind } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { SyncTracker } from './sync-tracker.js';
import type { SyncChange } from './sync-tracker.js';

const identity = (pod = 'web-1', startedAt = '2025-01-01T00:00:00.000Z'): ProxyIdentity => ({
  namespace: 'shop',
  pod,
  service: 'web',
  role: 'sidecar',
  labels: {},
  startedAt,
});

const status = (
  kind: ProxyStatusKind,
  version: number,
  extra: Partial<ProxyStatus> = {},
): ProxyStatus => ({
  proxy: identity(),
  kind,
  version,
  hash: `h${version}`,
  at: '2025-01-01T00:00:00.000Z',
  ...extra,
});

const issue: ConfigIssue = {
  code: 'TRL_CFG_REFERENCE',
  severity: 'error',
  path: 'spec.destination',
  message: 'route points at a missing service',
};

function setup(
  options: { staleAfterMs?: number; heartbeatMs?: number; forgetAfterMs?: number } = {},
) {
  const clock = new FakeClock(1_000);
  const tracker = new SyncTracker({ clock, staleAfterMs: 5_000, heartbeatMs: 10_000, ...options });
  const changes: SyncChange[] = [];
  tracker.changes.subscribe((c) => changes.push(c));
  const states = () => changes.map((c) => (c.kind === 'updated' ? c.proxy.state : 'removed'));
  return { clock, tracker, changes, states };
}

describe('SyncTracker', () => {
  it('lists a proxy that ACKed the newest version as SYNCED with its version and hash', () => {
    const { tracker } = setup();
    tracker.setLatest(3, 'h3');
    tracker.status(status('ack', 3));
    expect(tracker.get('shop', 'web-1')).toMatchObject({
      key: 'shop/web-1',
      state: 'SYNCED',
      version: 3,
      hash: 'h3',
      lastEvent: 'ack',
    });
    expect(tracker.counts()).toEqual({ SYNCED: 1, STALE: 0, NACKED: 0, DISCONNECTED: 0 });
  });

  it('records the push-to-ACK latency of a version on the clock', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(3, 'h3');
    clock.advance(42);
    expect(tracker.status(status('ack', 3)).ackLatencyMs).toBe(42);
    expect(tracker.get('shop', 'web-1')?.ackLatencies).toEqual([{ version: 3, latencyMs: 42 }]);
    // A second ACK of the same version (after a resync) is not a second delivery.
    expect(tracker.status(status('ack', 3)).ackLatencyMs).toBeUndefined();
  });

  it('keeps a proxy behind the newest version SYNCED until the stale threshold, then STALE', () => {
    const { clock, tracker, states } = setup();
    tracker.setLatest(1, 'h1');
    tracker.status(status('ack', 1));
    tracker.setLatest(2, 'h2');
    clock.advance(4_999);
    expect(tracker.get('shop', 'web-1')?.state).toBe('SYNCED');
    clock.advance(1);
    expect(tracker.get('shop', 'web-1')?.state).toBe('STALE');
    expect(states()).toEqual(['SYNCED', 'STALE']);
  });

  it('measures STALE from when the proxy fell behind, not from the newest version', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(1, 'h1');
    tracker.status(status('ack', 1));
    tracker.setLatest(2, 'h2');
    clock.advance(5_000);
    tracker.setLatest(3, 'h3');
    expect(tracker.get('shop', 'web-1')?.state).toBe('STALE');
  });

  it('turns a STALE proxy SYNCED again when it ACKs the newest version', () => {
    const { clock, tracker, states } = setup();
    tracker.setLatest(1, 'h1');
    tracker.status(status('ack', 1));
    tracker.setLatest(2, 'h2');
    clock.advance(6_000);
    tracker.status(status('ack', 2));
    expect(states()).toEqual(['SYNCED', 'STALE', 'SYNCED']);
  });

  it('counts a proxy on the newest version with another hash as behind', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(2, 'h2');
    tracker.status(status('heartbeat', 2, { hash: 'other' }));
    clock.advance(5_000);
    expect(tracker.get('shop', 'web-1')?.state).toBe('STALE');
  });

  it('counts a proxy ahead of this replica (it learned the version from the writer first) as SYNCED', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(2, 'h2');
    tracker.status(status('ack', 3));
    clock.advance(9_000);
    expect(tracker.get('shop', 'web-1')?.state).toBe('SYNCED');
  });

  it('marks a NACK as NACKED with the refused version and issues, until a newer ACK', () => {
    const { tracker, states } = setup();
    tracker.setLatest(2, 'h2');
    tracker.status(status('ack', 2));
    tracker.setLatest(3, 'h3');
    tracker.status(status('nack', 2, { rejectedVersion: 3, issues: [issue] }));
    expect(tracker.get('shop', 'web-1')).toMatchObject({
      state: 'NACKED',
      version: 2,
      nack: { version: 3, issues: [issue] },
    });
    tracker.status(status('heartbeat', 2));
    expect(tracker.get('shop', 'web-1')?.state).toBe('NACKED');
    tracker.setLatest(4, 'h4');
    tracker.status(status('ack', 4));
    expect(tracker.get('shop', 'web-1')).toMatchObject({
      state: 'SYNCED',
      version: 4,
      nack: undefined,
    });
    expect(states()).toEqual(['SYNCED', 'NACKED', 'SYNCED']);
  });

  it('keeps NACKED rather than STALE while the proxy stays behind', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(3, 'h3');
    tracker.status(status('nack', 2, { rejectedVersion: 3, issues: [issue] }));
    clock.advance(8_000);
    tracker.status(status('heartbeat', 2));
    expect(tracker.get('shop', 'web-1')?.state).toBe('NACKED');
  });

  it('marks a proxy DISCONNECTED after 3 missed heartbeats', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(1, 'h1');
    tracker.status(status('ack', 1));
    clock.advance(29_999);
    expect(tracker.get('shop', 'web-1')?.state).toBe('SYNCED');
    clock.advance(1);
    expect(tracker.get('shop', 'web-1')?.state).toBe('DISCONNECTED');
  });

  it('keeps a heartbeating proxy connected', () => {
    const { clock, tracker } = setup();
    tracker.status(status('ack', 1));
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      tracker.status(status('heartbeat', 1));
    }
    expect(tracker.get('shop', 'web-1')?.state).toBe('SYNCED');
  });

  it('marks a proxy that said goodbye DISCONNECTED at once', () => {
    const { tracker } = setup();
    tracker.status(status('ack', 1));
    tracker.status(status('goodbye', 1));
    expect(tracker.get('shop', 'web-1')).toMatchObject({
      state: 'DISCONNECTED',
      lastEvent: 'goodbye',
    });
  });

  it('forgets a DISCONNECTED proxy after forgetAfterMs and announces the removal', () => {
    const { clock, tracker, changes } = setup({ forgetAfterMs: 60_000 });
    tracker.status(status('goodbye', 1));
    clock.advance(59_999);
    expect(tracker.list()).toHaveLength(1);
    clock.advance(1);
    expect(tracker.list()).toEqual([]);
    expect(changes.at(-1)).toEqual({ kind: 'removed', key: 'shop/web-1', identity: identity() });
  });

  it('starts a returning proxy over: SYNCED again after DISCONNECTED, old NACK gone', () => {
    const { clock, tracker, changes } = setup();
    tracker.setLatest(2, 'h2');
    tracker.status(status('nack', 1, { rejectedVersion: 2, issues: [issue] }));
    clock.advance(30_000);
    tracker.announce(identity(), 2, 'h2');
    expect(tracker.get('shop', 'web-1')).toMatchObject({
      state: 'SYNCED',
      nack: undefined,
      lastEvent: 'sync',
    });
    expect(changes.at(-1)).toMatchObject({ kind: 'updated', previousState: 'DISCONNECTED' });
  });

  it('starts a restarted sidecar (new startedAt) over, forgetting its NACK', () => {
    const { tracker } = setup();
    tracker.setLatest(2, 'h2');
    tracker.status(status('nack', 1, { rejectedVersion: 2, issues: [issue] }));
    tracker.announce(identity('web-1', '2025-01-02T00:00:00.000Z'), 0, '');
    expect(tracker.get('shop', 'web-1')).toMatchObject({
      state: 'SYNCED',
      version: 0,
      nack: undefined,
      identity: { startedAt: '2025-01-02T00:00:00.000Z' },
    });
  });

  it('gives a newcomer behind the newest version the stale threshold to catch up', () => {
    const { clock, tracker } = setup();
    tracker.setLatest(5, 'h5');
    clock.advance(60_000);
    tracker.announce(identity('web-2'), 0, '');
    clock.advance(4_000);
    expect(tracker.get('shop', 'web-2')?.state).toBe('SYNCED');
    clock.advance(1_000);
    expect(tracker.get('shop', 'web-2')?.state).toBe('STALE');
  });

  it('announces heartbeats only when something changed', () => {
    const { clock, tracker, changes } = setup();
    tracker.status(status('ack', 1));
    clock.advance(10_000);
    tracker.status(status('heartbeat', 1));
    expect(changes).toHaveLength(1);
    expect(tracker.get('shop', 'web-1')?.lastSeenAgoMs).toBe(0);
  });

  it('ignores an older or equal newest version', () => {
    const { tracker } = setup();
    tracker.setLatest(4, 'h4');
    tracker.setLatest(3, 'h3');
    tracker.setLatest(4, 'other');
    expect(tracker.latest).toEqual({ version: 4, hash: 'h4' });
  });

  it('lists proxies sorted by namespace/pod', () => {
    const { tracker } = setup();
    tracker.announce(identity('b'), 0, '');
    tracker.announce({ ...identity('z'), namespace: 'a' }, 0, '');
    tracker.announce(identity('a'), 0, '');
    expect(tracker.list().map((p) => p.key)).toEqual(['a/z', 'shop/a', 'shop/b']);
  });

  it('keeps at most 10 ACK latencies per proxy', () => {
    const { tracker } = setup();
    for (let v = 1; v <= 12; v++) {
      tracker.setLatest(v, `h${v}`);
      tracker.status(status('ack', v));
    }
    expect(tracker.get('shop', 'web-1')?.ackLatencies.map((a) => a.version)).toEqual([
      3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it('stops its timers and completes changes on close', () => {
    const { clock, tracker } = setup();
    let completed = false;
    tracker.changes.subscribe({ complete: () => (completed = true) });
    tracker.status(status('ack', 1));
    tracker.close();
    expect(completed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a non-positive threshold', () => {
    expect(() => new SyncTracker({ clock: new FakeClock(), staleAfterMs: 0 })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
  });
});
