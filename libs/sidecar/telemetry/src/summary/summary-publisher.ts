// Publishes the sidecar's telemetry summary (docs/protocol.md, Telemetry) every interval: the
// destination windows, stamped with who and when, encoded as one compact JSON message. It runs
// on its own timer, never on the request path; a publish that fails or finds NATS away is
// counted and skipped (the next interval carries a fresh window anyway). The windows are those
// of the process itself, or (--concurrency) a source that gathers and merges its workers'
// windows asynchronously: the schedule is the same, the message leaves once the merge is done.
import { TELEMETRY_SUMMARY_VERSION, encodeTelemetrySummary } from '@trellis/mesh-protocol';
import type { TelemetrySource, TelemetrySummary } from '@trellis/mesh-protocol';
import type { Clock, Timer } from '@trellis/time';
import type { WindowSummary } from './window-contents.js';

export const DEFAULT_SUMMARY_INTERVAL_MS = 5_000;

export interface SummaryPublisherLogger {
  warn(fields: object, message: string): void;
}

/**
 * Where a summary's figures come from: a DestinationWindows (synchronous), or a source that
 * gathers them from elsewhere first (the --concurrency primary's merge of its workers' windows).
 */
export interface SummarySource {
  summarize(): WindowSummary | Promise<WindowSummary>;
}

export interface SummaryPublisherOptions {
  readonly windows: SummarySource;
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
  /** Summaries dropped because NATS was away, or because the previous one was still gathering. */
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
  #gathering = false;
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

  /** The summary of the window as it stands now; a promise when the source gathers first. */
  summary(): TelemetrySummary | Promise<TelemetrySummary> {
    const window = this.#o.windows.summarize();
    return window instanceof Promise ? window.then((w) => this.#stamp(w)) : this.#stamp(window);
  }

  /**
   * Builds and publishes one summary now; true when NATS took it (a promise when the source
   * gathers first). Never throws, and the promise never rejects.
   */
  publishNow(): boolean | Promise<boolean> {
    return this.#publish(() => true);
  }

  #stamp({ windowSeconds, destinations, edges }: WindowSummary): TelemetrySummary {
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

  /** `wanted` is asked again once a gathered summary is ready: a stopped publisher sends none. */
  #publish(wanted: () => boolean): boolean | Promise<boolean> {
    let built: TelemetrySummary | Promise<TelemetrySummary>;
    try {
      built = this.summary();
    } catch (error) {
      return this.#fail(error);
    }
    if (!(built instanceof Promise)) return this.#send(built);
    this.#gathering = true;
    return built
      .then(
        (summary) => (wanted() ? this.#send(summary) : false),
        (error: unknown) => this.#fail(error),
      )
      .finally(() => (this.#gathering = false));
  }

  #send(summary: TelemetrySummary): boolean {
    try {
      if (this.#o.publish(encodeTelemetrySummary(summary))) {
        this.#published++;
        return true;
      }
      this.#skipped++;
      return false;
    } catch (error) {
      return this.#fail(error);
    }
  }

  #fail(error: unknown): false {
    this.#failed++;
    this.#o.log?.warn(
      { code: 'TRL_TELEMETRY_PUBLISH_FAILED', reason: (error as Error).message },
      'telemetry summary not published',
    );
    return false;
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimer(this.#intervalMs, () => {
      if (!this.#running) return;
      // A source slower than the interval is not asked twice at once: this round is skipped.
      if (this.#gathering) this.#skipped++;
      else void this.#publish(() => this.#running);
      this.#schedule();
    });
  }
}
