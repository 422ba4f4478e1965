// What a follower replica answers a sync request from. Normally the store read after the request
// came (the follower's watch may lag behind the writer); when that read takes longer than a bound
// (a KV stalled by a reconnect storm holds every sidecar for seconds), the snapshot the replica
// already knows. A known snapshot can be older than the stored one, and a sidecar behind could
// then be confirmed on it: so every such answer is verified by a later read, and a newer stored
// version found there is handed to `onNewerStored`, which announces it as the head (every sidecar
// behind sees a gap and syncs). No sidecar is left on an old version silently.
import type { Snapshot } from '@trellis/config';
import type { Clock } from '@trellis/time';

/** A follower's store waits at most this long for its read before a sync answer. */
export const DEFAULT_SYNC_READ_BOUND_MS = 500;

export interface FollowerStore {
  /** The newest stored snapshot from a read made after the call (never rejects). */
  fresh(): Promise<Snapshot | undefined>;
  /** The newest snapshot this replica knows, without reading. */
  known(): Snapshot | undefined;
  /** One read of the store; rejects when the store does not answer. */
  read(): Promise<Snapshot | undefined>;
}

export interface FollowerAnswersOptions {
  readonly store: FollowerStore;
  /** How long an answer waits for the fresh read before it uses the known snapshot. */
  readonly boundMs: number;
  /** Pause before a failed verifying read is tried again. */
  readonly retryMs: number;
  readonly clock: Clock;
  /** The store holds `stored`, newer than the `answered` version some answers gave. */
  readonly onNewerStored: (stored: Snapshot, answered: number) => void;
  readonly onReadError: (error: unknown) => void;
}

export class FollowerAnswers {
  readonly #o: FollowerAnswersOptions;
  /** Newest version answered without a read (0: every answer given so far is verified). */
  #unverified = 0;
  #verifying: Promise<void> | undefined;
  /** Ends the pause before a retried read (close() ends it early). */
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(options: FollowerAnswersOptions) {
    this.#o = options;
  }

  /**
   * The known snapshot at once, verified later: for a writer whose lease lapsed in a stalled KV
   * (its own stored version is likely the newest). Undefined when none is known yet.
   */
  known(): Snapshot | undefined {
    const known = this.#o.store.known();
    if (known) this.unverified(known.version);
    return known;
  }

  /** The snapshot to answer one sync request from. */
  answer(): Promise<Snapshot | undefined> {
    const fresh = this.#o.store.fresh();
    return new Promise((resolve) => {
      const timer = this.#o.clock.setTimer(this.#o.boundMs, () => {
        const known = this.#o.store.known();
        // Nothing known: `unavailable` would only send the sidecar into backoff; keep waiting.
        if (!known) return;
        this.unverified(known.version);
        resolve(known);
      });
      void fresh.then((snapshot) => {
        timer.cancel();
        resolve(snapshot);
      });
    });
  }

  /** `version` was said without a read (e.g. a head announcement): verify it like an answer. */
  unverified(version: number): void {
    this.#unverified = Math.max(this.#unverified, version);
    this.#verify();
  }

  /** Stops verifying (after the read in flight). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#verifying;
  }

  /** Reads until one read succeeds after the last unverified answer. */
  #verify(): void {
    if (this.#verifying || this.#closed) return;
    this.#verifying = (async () => {
      while (this.#unverified > 0 && !this.#closed) {
        const answered = this.#unverified;
        this.#unverified = 0;
        let stored: Snapshot | undefined;
        try {
          stored = await this.#o.store.read();
        } catch (error) {
          this.#unverified = Math.max(this.#unverified, answered);
          this.#o.onReadError(error);
          await new Promise<void>((resolve) => {
            const timer = this.#o.clock.setTimer(this.#o.retryMs, resolve);
            this.#wake = () => {
              timer.cancel();
              resolve();
            };
          });
          this.#wake = undefined;
          continue;
        }
        if (stored && stored.version > answered && !this.#closed)
          this.#o.onNewerStored(stored, answered);
      }
    })().finally(() => (this.#verifying = undefined));
  }
}
