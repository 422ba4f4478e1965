// Publishes the sidecar's telemetry summary (docs/protocol.md, Telemetry) every interval: the
// destination windows, stamped with who and when, encoded as one compact JSON message. It runs
// on its own timer, never on the request path; a publish that fails or finds NATS away is
// counted and skipped (the next interval carries a fresh window anyway).
import { TELEMETRY_SUMMARY_VERSION, encodeTelemetrySummary } from '@trellis/mesh-protocol';
import type { TelemetrySource, TelemetrySummary } from '@trellis/mesh-protocol';
import type { Clock, Timer } from '@trellis/time';
import type { DestinationWindows } from './destination-window.js';

export const DEFAULT_SUMMARY_INTERVAL_MS = 5_000;

export interface SummaryPublisherLogger {
  warn(fields: object, message: string): void;
}

export interface SummaryPublisherOptions {
  readonly windows: DestinationWindows;
  readonly identity: TelemetrySource;
  /**
   * Hands one encoded summary to NATS without blocking (ControlPlaneClient.publishTelemetry);
   * returns false when it could not, e.g. while disconnected.
   */
  readonly publish: (payload: Uint8Array) => boolean;
  readonly clock: Clock;
  /** Wall-clock ms since the epoch for the `at` stamp (default Date.now). */
  readonly wallClock?: () => number;
  /** Between summaries (default 5 000 ms). */
  readonly intervalMs?: number;
  readonly log?: SummaryPublisherLogger;
}

export interface SummaryPublisherCounters {
  /** Summaries handed to NATS. */
  readonly published: number;
  /** Summaries dropped because NATS was away. */
  readonly skipped: number;
  /** Summaries that failed to build or publish (logged). */
  readonly failed: number;
}

export class SummaryPublisher {
  readonly #o: SummaryPublisherOptions;
  readonly #intervalMs: number;
  readonly #wallClock: () => number;
  #timer: Timer | undefined;
  #running = false;
  #published = 0;
  #skipped = 0;
  #failed = 0;

  constructor(options: SummaryPublisherOptions) {
    const interval = options.intervalMs ?? DEFAULT_SUMMARY_INTERVAL_MS;
    if (!(Number.isFinite(interval) && interval > 0))
      throw new RangeError(`intervalMs must be a positive number (got ${interval})`);
    this.#o = options;
    this.#intervalMs = interval;
    this.#wallClock = options.wallClock ?? Date.now;
  }

  get counters(): SummaryPublisherCounters {
    return { published: this.#published, skipped: this.#skipped, failed: this.#failed };
  }

  /** Publishes every interval from now on (the first one interval from now). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** The summary of the window as it stands now. */
  summary(): TelemetrySummary {
    const { windowSeconds, destinations, edges } = this.#o.windows.summarize();
    const { namespace, pod, service } = this.#o.identity;
    return {
      v: TELEMETRY_SUMMARY_VERSION,
      proxy: { namespace, pod, service },
      at: new Date(this.#wallClock()).toISOString(),
      windowSeconds,
      destinations,
      edges,
    };
  }

  /** Builds and publishes one summary now; true when NATS took it. Never throws. */
  publishNow(): boolean {
    try {
      if (this.#o.publish(encodeTelemetrySummary(this.summary()))) {
        this.#published++;
        return true;
      }
      this.#skipped++;
      return false;
    } catch (error) {
      this.#failed++;
      this.#o.log?.warn(
        { code: 'TRL_TELEMETRY_PUBLISH_FAILED', reason: (error as Error).message },
        'telemetry summary not published',
      );
      return false;
    }
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimer(this.#intervalMs, () => {
      if (!this.#running) return;
      this.publishNow();
      this.#schedule();
    });
  }
}
