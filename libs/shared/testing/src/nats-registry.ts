// Every nats-server this process started, so a suite's afterAll can stop them all and so none
// outlives the test process: on 'exit' (and on SIGINT/SIGTERM/SIGHUP that nothing else handles)
// they are SIGKILLed synchronously and their temp dirs removed.
import { TestingError } from './errors.js';

export interface TrackedServer {
  stop(): Promise<void>;
  /** Synchronous last resort for process exit: SIGKILL and remove the temp dir. */
  reapNow(): void;
}

const live = new Set<TrackedServer>();
let hooksInstalled = false;

export function trackServer(server: TrackedServer): void {
  installExitHooks();
  live.add(server);
}

export function untrackServer(server: TrackedServer): void {
  live.delete(server);
}

/** How many servers started by this process have not been stopped yet. */
export function countLiveNatsServers(): number {
  return live.size;
}

/**
 * Stops every server this process started and has not stopped (call it from `afterAll`).
 * Stops them all even when some fail, then throws TRL_TESTING_NATS_STOP_FAILED.
 */
export async function stopAllNatsServers(): Promise<void> {
  const results = await Promise.allSettled([...live].map((server) => server.stop()));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    throw new TestingError(
      'TRL_TESTING_NATS_STOP_FAILED',
      `${failures.length} nats-server(s) failed to stop`,
      {
        cause: new AggregateError(failures),
      },
    );
  }
}

function reapAll(): void {
  for (const server of live) server.reapNow();
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', reapAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // A program that handles the signal itself (the demo) stops its children first, then its
      // servers, which must stay up meanwhile; 'exit' still reaps whatever it leaves.
      if (process.listenerCount(signal) > 0) return;
      reapAll();
      // Our listener replaced the default "terminate": restore it.
      process.kill(process.pid, signal);
    });
  }
}
