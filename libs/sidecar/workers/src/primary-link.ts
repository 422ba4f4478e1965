// A worker's side of --concurrency N: it says hello, applies each snapshot the primary sends
// (re-validated, hash-checked, swapped whole by the config holder), reports what it applied,
// answers the primary's view requests, and drains when the primary says so. (Should the primary
// die, Node's cluster worker exits at once by itself: no orphan keeps the ports.)
import { buildSnapshot, formatIssue } from '@trellis/config';
import type { ConfigIssue, Resource, Snapshot } from '@trellis/config';
import { WorkersError } from './errors.js';
import { isTrellisMessage, parseToWorker } from './ipc-messages.js';
import type { ToPrimary, WireSnapshot, WorkerView } from './ipc-messages.js';

/** The IPC channel to the primary (process.send / process.on('message') in a cluster worker). */
export interface PrimaryChannel {
  send(message: ToPrimary): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** Where snapshots go: a ConfigHolder satisfies it. */
export interface SnapshotTarget {
  apply(snapshot: Snapshot):
    | { readonly accepted: true; readonly version: number }
    | {
        readonly accepted: false;
        readonly version: number;
        readonly issues: readonly ConfigIssue[];
      };
  readonly current: { readonly snapshot: Snapshot } | undefined;
}

/** The logging calls the link makes; pino's logger satisfies it. */
export interface LinkLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ViewAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ServeOptions {
  /** Bound listeners, reported to the primary (listener name → HOST:PORT). */
  readonly addresses: Readonly<Record<string, string>>;
  readonly views: Readonly<Record<WorkerView, () => ViewAnswer | Promise<ViewAnswer>>>;
  /** Drain the listeners and exit (the primary asked). */
  readonly drain: () => void;
}

export interface PrimaryLinkOptions {
  readonly channel: PrimaryChannel;
  readonly target: SnapshotTarget;
  readonly log: LinkLogger;
  /** The primary asked to stop before this worker listened: nothing to drain. */
  readonly exitBeforeServing: () => void;
}

export class PrimaryLink {
  /** No admin views of its own: the primary serves the admin endpoint. */
  readonly views = {};
  readonly #options: PrimaryLinkOptions;
  #serving: ServeOptions | undefined;
  #firstApplied: (() => void) | undefined;
  #stopping = false;
  #started = false;

  constructor(options: PrimaryLinkOptions) {
    this.#options = options;
    options.channel.onMessage((message) => this.#receive(message));
  }

  /** Says hello; resolves once the first snapshot from the primary is in force. */
  start(): Promise<void> {
    if (this.#started) throw new WorkersError('TRL_WORKERS_INVALID_OPTION', 'started twice');
    this.#started = true;
    const first = new Promise<void>((resolve) => {
      if (this.#options.target.current) resolve();
      else this.#firstApplied = resolve;
    });
    this.#options.channel.send({ type: 'trellis:hello' });
    return first;
  }

  /** Nothing to release: the channel closes with the process. */
  stop(): void {}

  /** The listeners are bound: tells the primary, and answers its view and drain requests. */
  serve(options: ServeOptions): void {
    this.#serving = options;
    this.#options.channel.send({ type: 'trellis:listening', addresses: options.addresses });
    // Asked to stop while starting: drain once the caller has finished its own start-up.
    if (this.#stopping) queueMicrotask(options.drain);
  }

  #receive(raw: unknown): void {
    if (!isTrellisMessage(raw)) return;
    let message;
    try {
      message = parseToWorker(raw);
    } catch (error) {
      this.#options.log.error(
        { code: (error as WorkersError).code, err: error },
        'ignored a malformed message from the primary',
      );
      return;
    }
    switch (message.type) {
      case 'trellis:snapshot':
        this.#apply(message.snapshot);
        return;
      case 'trellis:collect':
        void this.#answer(message.id, message.view);
        return;
      case 'trellis:drain':
        this.#stop();
        return;
    }
  }

  #apply(wire: WireSnapshot): void {
    const { target, channel, log } = this.#options;
    const current = target.current?.snapshot;
    // The same version again (a hello after a reconnect): already in force, nothing to rebuild.
    if (current && current.version === wire.version && current.hash === wire.hash) {
      channel.send({ type: 'trellis:applied', version: current.version, hash: current.hash });
      return;
    }
    let issues: readonly string[];
    try {
      // Rebuilding validates, freezes and hashes the resources as the primary did; the hash
      // then proves the worker runs exactly the config the primary accepted.
      const snapshot = buildSnapshot(wire.resources as Resource[], wire.version);
      if (snapshot.hash !== wire.hash)
        throw new WorkersError(
          'TRL_WORKERS_HASH_MISMATCH',
          `snapshot ${wire.version} hashes to ${snapshot.hash}, not ${wire.hash}`,
        );
      const result = target.apply(snapshot);
      if (result.accepted) {
        channel.send({ type: 'trellis:applied', version: snapshot.version, hash: snapshot.hash });
        this.#firstApplied?.();
        this.#firstApplied = undefined;
        return;
      }
      issues = result.issues.map(formatIssue);
    } catch (error) {
      const listed = (error as { issues?: ConfigIssue[] }).issues;
      issues = Array.isArray(listed) ? listed.map(formatIssue) : [(error as Error).message];
    }
    log.error({ version: wire.version, issues }, 'refused the config from the primary');
    channel.send({ type: 'trellis:rejected', version: wire.version, issues });
  }

  async #answer(id: number, view: WorkerView): Promise<void> {
    const route = this.#serving?.views[view];
    let answer: ViewAnswer;
    try {
      answer = route ? await route() : { status: 503, body: { error: 'not listening yet' } };
    } catch (error) {
      answer = { status: 500, body: { error: (error as Error).message } };
    }
    this.#options.channel.send({ type: 'trellis:collected', id, ...answer });
  }

  #stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#serving) this.#serving.drain();
    else this.#options.exitBeforeServing();
  }
}
