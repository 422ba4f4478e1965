// The telemetry summary of a --concurrency sidecar. Each worker keeps its own destination
// windows on its request path; on each round the primary asks every worker for them (the
// `telemetry` view, plain data over IPC, checked on arrival), merges what came back and
// summarizes it as one window, so the pod publishes one summary with the single-process format.
// A worker that does not answer in time, has exited or is restarting is left out of that round
// (logged at debug: the message format has no field for it) rather than holding it up; a round
// no worker answered fails, so no summary claims an idle pod whose workers are all down.
import type { TelemetrySource } from '@trellis/mesh-protocol';
import { DEFAULT_WINDOW_SECONDS, DestinationWindows } from '@trellis/sidecar-telemetry';
import type { WindowSummary } from '@trellis/sidecar-telemetry';
import { WorkersError } from './errors.js';
import { parseWindow } from './ipc-messages.js';
import type { WireWindow } from './ipc-messages.js';
import type { Collected } from './worker-fleet.js';

/** A worker whose windows are not in a round's summary, and why. */
export interface LeftOutWorker {
  readonly worker: number;
  readonly reason: string;
}

/** What a round's answers give: the windows to merge, and the workers left out. */
export interface GatheredWindows {
  readonly windows: readonly WireWindow[];
  readonly leftOut: readonly LeftOutWorker[];
}

/**
 * Sorts the workers' answers to the `telemetry` view: a well-formed window of `windowSeconds` is
 * kept; an error, a status other than 200, a malformed body or another window length (which
 * would under- or over-report once merged) leaves its worker out.
 */
export function gatherWindows(
  collected: readonly Collected[],
  windowSeconds: number,
): GatheredWindows {
  const windows: WireWindow[] = [];
  const leftOut: LeftOutWorker[] = [];
  for (const entry of collected) {
    const { worker } = entry;
    if ('error' in entry) {
      leftOut.push({ worker, reason: entry.error });
      continue;
    }
    if (entry.status !== 200) {
      leftOut.push({ worker, reason: `status ${entry.status}` });
      continue;
    }
    let window: WireWindow;
    try {
      window = parseWindow(entry.body);
    } catch (error) {
      leftOut.push({ worker, reason: (error as WorkersError).message });
      continue;
    }
    if (window.windowSeconds === windowSeconds) windows.push(window);
    else
      leftOut.push({
        worker,
        reason: `a window of ${window.windowSeconds} s, not ${windowSeconds} s`,
      });
  }
  return { windows, leftOut };
}

/** The logging call FleetWindows makes; pino's logger satisfies it. */
export interface FleetWindowsLogger {
  debug(fields: object, message: string): void;
}

export interface FleetWindowsOptions {
  /** Asks every worker for one view: WorkerFleet.collect('telemetry') (its timeout applies). */
  readonly collect: () => Promise<readonly Collected[]>;
  /** The pod, as its workers' windows name it: the summary's edges start from its service. */
  readonly identity: TelemetrySource;
  /** The workers' window (default 10 s, theirs by default too). */
  readonly windowSeconds?: number;
  /** Named services per direction in the merged summary (default 128, as in one process). */
  readonly maxDestinations?: number;
  readonly log?: FleetWindowsLogger;
}

/** The primary's summary source (SummaryPublisher's `windows`): one round per summary. */
export class FleetWindows {
  readonly #o: FleetWindowsOptions;
  readonly #window: number;

  constructor(options: FleetWindowsOptions) {
    this.#o = options;
    this.#window = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  }

  /** Gathers every worker's windows and summarizes them merged; rejects when none answered. */
  async summarize(): Promise<WindowSummary> {
    const { windows, leftOut } = gatherWindows(await this.#o.collect(), this.#window);
    if (leftOut.length > 0 && windows.length > 0)
      this.#o.log?.debug({ leftOut }, 'telemetry summary leaves out workers that did not answer');
    if (windows.length === 0)
      throw new WorkersError(
        'TRL_WORKERS_NO_TELEMETRY',
        `no worker answered with its telemetry windows (${leftOut
          .map((w) => `worker ${w.worker}: ${w.reason}`)
          .join('; ')})`,
      );
    return DestinationWindows.summarizeMerged(windows, {
      identity: this.#o.identity,
      windowSeconds: this.#window,
      maxDestinations: this.#o.maxDestinations,
    });
  }
}
