// Integration-test wiring: a ControlPlaneClient as its pod's NATS user on a FakeClock, with a
// recording logger, its own build cache and a ConfigHolder, plus bounded waits that move the fake
// clock while they poll (so backoff timers fire without real sleeps).
import type { Snapshot } from '@trellis/config';
import { ConfigHolder } from '@trellis/sidecar-runtime';
import { waitFor } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { FakeClock } from '@trellis/time';
import { SnapshotBuildCache } from '../src/build-cache.js';
import { ControlPlaneClient } from '../src/control-plane-client.js';
import type { ControlPlaneClientOptions } from '../src/control-plane-client.js';
import { sidecarUser } from './fake-control-plane.js';
import { identity, midRandom, recordingLogger } from './fixtures.js';

export const WALL_START = Date.parse('2025-06-01T12:00:00.000Z');

export interface TestSidecar {
  readonly client: ControlPlaneClient;
  readonly holder: ConfigHolder<number>;
  readonly clock: FakeClock;
  readonly log: ReturnType<typeof recordingLogger>;
  /** Version in the holder (0 when none). */
  version(): number;
}

export function makeSidecar(
  nats: NatsServerHandle,
  overrides: Partial<ControlPlaneClientOptions> = {},
): TestSidecar {
  const clock = new FakeClock();
  const log = recordingLogger();
  const holder = new ConfigHolder((snapshot: Snapshot) => snapshot.version);
  const pod = overrides.identity?.pod ?? identity.pod;
  const { user, password } = nats.users[sidecarUser(pod)]!;
  const client = new ControlPlaneClient({
    servers: nats.url,
    user,
    password,
    identity,
    holder,
    clock,
    wallClock: () => WALL_START + clock.now(),
    random: midRandom,
    log,
    cache: new SnapshotBuildCache(),
    requestTimeoutMs: 1_000,
    reconnectWaitMs: 50,
    reconnectJitterMs: 0,
    ...overrides,
  });
  return { client, holder, clock, log, version: () => holder.current?.snapshot.version ?? 0 };
}

/** Polls `probe` (real time, bounded); each poll also moves the fake clock by `stepMs`. */
export function eventually<T>(
  what: string,
  probe: () => T | undefined | null | false,
  clock?: FakeClock,
  stepMs = 100,
): Promise<T> {
  return waitFor(
    () => {
      const value = probe();
      if (!value) clock?.advance(stepMs);
      return value;
    },
    { what, timeoutMs: 8_000, intervalMs: 10 },
  );
}

/**
 * Moves the fake clock forward `totalMs` in steps, letting each sync request that a step starts
 * finish (against the real server) before the next step: retries then happen exactly when due.
 */
export async function advanceSettled(
  sidecar: TestSidecar,
  totalMs: number,
  stepMs = 100,
): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) {
    sidecar.clock.advance(stepMs);
    await waitFor(() => sidecar.client.state().sync !== 'requesting', {
      what: 'the sync request to finish',
      timeoutMs: 5_000,
      intervalMs: 2,
    });
  }
}
