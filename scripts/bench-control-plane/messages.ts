// The IPC messages between the control-plane benchmark (scripts/bench-control-plane.ts) and its
// sidecar-simulation workers (sidecar-worker.ts), and the clock both sides time events with.

/** The simulated sidecars' namespace; pods are named `sc-<index>`. */
export const BENCH_NAMESPACE = 'bench';

/** One simulated sidecar: its pod and its own NATS user. */
export interface SidecarLogin {
  readonly pod: string;
  readonly user: string;
  readonly password: string;
}

/** Wall-clock ms comparable across processes on one machine, from a monotonic source. */
export function benchNow(): number {
  return performance.timeOrigin + performance.now();
}

export type ToWorker =
  | {
      readonly type: 'start';
      readonly servers: string;
      /** This worker's sidecars. */
      readonly sidecars: readonly SidecarLogin[];
      /** Sidecars started at once; the next batch waits until these are connected. */
      readonly batch: number;
      readonly connectTimeoutMs: number;
    }
  | { readonly type: 'query-version'; readonly id: number; readonly version: number }
  | { readonly type: 'query-resync'; readonly id: number; readonly since: number }
  | { readonly type: 'stop'; readonly closeTimeoutMs: number };

export type FromWorker =
  | { readonly type: 'started'; readonly connected: number }
  | {
      readonly type: 'version-status';
      readonly id: number;
      /** Sidecars that applied `version` or a newer one. */
      readonly applied: number;
      /** Each sidecar's first apply time (benchNow) at `version` or newer; only once all have. */
      readonly times: readonly number[] | undefined;
    }
  | {
      readonly type: 'resync-status';
      readonly id: number;
      /** Sidecars connected whose version was last confirmed (sync answer or head) after `since`. */
      readonly resynced: number;
      /** Sidecars connected to NATS now (reconnected, whether confirmed yet or not). */
      readonly connected: number;
      /** The latest such answer (benchNow), once all have one. */
      readonly latest: number | undefined;
    }
  /** Warnings the sidecars logged, counted by `<code>: <message>`. */
  | {
      readonly type: 'stopped';
      readonly warnings: Readonly<Record<string, number>>;
      /** The clients' delivery counters, summed. */
      readonly counters: Readonly<Record<string, number>>;
    }
  | { readonly type: 'failed'; readonly message: string };
