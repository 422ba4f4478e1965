// One writer among the control-plane replicas: a lease under one key, taken and renewed by
// compare-and-set on the key's revision. Nobody trusts another process's clock: `expiresAt` in
// the lease is for humans. A follower takes over only after the lease's revision has stayed the
// same for a full lease period on its own clock, while the writer gives up after 2/3 of the
// lease without a renewal on its clock; since the follower's period starts no earlier than the
// writer's last renewal, the two never both believe they write (up to clock rate, not offset).
// A writer that lost the lease only because the KV did not answer takes it back at once when the
// lease is still one it wrote, including one whose write timed out yet landed: the
// compare-and-set on that revision proves nobody wrote in between.
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import { DeliveryError } from './errors.js';

export const DEFAULT_LEASE_MS = 5_000;

/** The lease as stored. `expiresAt` (ISO, the holder's wall clock) is informational only. */
export interface LeaseRecord {
  readonly holder: string;
  readonly expiresAt: string;
}

export interface LeaseEntry {
  /** The key's revision: what a compare-and-set must name. */
  readonly revision: number;
  /** `released`: deleted by a writer that shut down; `held`: anything else, readable or not. */
  readonly state: 'held' | 'released';
  /** The holder named in a readable lease. */
  readonly holder: string | undefined;
}

/** Storage of the lease: one key with revisions and compare-and-set (JetStream KV in production). */
export interface LeaseRegister {
  /** The current entry, or undefined when the key was never written. */
  read(): Promise<LeaseEntry | undefined>;
  /**
   * Writes `record` if the key's revision is still `revision` (0: the key does not exist yet);
   * resolves to the new revision, or undefined when another write came first.
   */
  write(record: LeaseRecord, revision: number): Promise<number | undefined>;
  /** Deletes the lease if its revision is still `revision`; false when it is not. */
  release(revision: number): Promise<boolean>;
}

export interface LeaderElectionOptions {
  readonly register: LeaseRegister;
  /** Unique per replica (pod name); written as the holder. */
  readonly replicaId: string;
  /** Lease time (default 5 s); renewed every third of it. */
  readonly leaseMs?: number;
  readonly clock?: Clock;
  /** Wall clock for `expiresAt` only (default Date.now). */
  readonly wallClock?: () => number;
  /** A read or write that failed (timeout, disconnected); the election carries on. */
  readonly onError?: (error: unknown) => void;
}

export class LeaderElection {
  readonly #register: LeaseRegister;
  readonly #replicaId: string;
  readonly #leaseMs: number;
  readonly #clock: Clock;
  readonly #wallClock: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #changes = new Subject<boolean>();
  #writer = false;
  /** Local time until which this replica may act as writer. */
  #validUntil = 0;
  /** Revision of this process's own last lease write (0: none). */
  #ownRevision = 0;
  /**
   * A lease write of this process failed (timeout, disconnect) after its last known one: it may
   * have landed all the same, at a revision this process never learnt.
   */
  #writeInDoubt = false;
  /** No lease write by another replica seen since this one last took the lease. */
  #lastWriter = false;
  /** The lease revision a follower watches, and since when (local time) it has not changed. */
  #observed: { readonly revision: number; readonly since: number } | undefined;
  #round: Promise<void> | undefined;
  #tickTimer: Timer | undefined;
  /** The next round came due while one was still running. */
  #roundDue = false;
  #expiryTimer: Timer | undefined;
  #running = false;

  /** Each change of role: true on becoming the writer, false on stepping down. */
  readonly writerChanges: Observable<boolean> = this.#changes.asObservable();

  constructor(options: LeaderElectionOptions) {
    this.#register = options.register;
    this.#replicaId = options.replicaId;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isFinite(this.#leaseMs) || this.#leaseMs < 30) {
      throw new DeliveryError(
        'TRL_DELIVERY_INVALID_OPTION',
        `leaseMs must be at least 30 (got ${this.#leaseMs})`,
      );
    }
    if (this.#replicaId === '') {
      throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', 'replicaId must not be empty');
    }
    this.#clock = options.clock ?? systemClock;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
  }

  get replicaId(): string {
    return this.#replicaId;
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** Whether this replica may write now: it holds the lease and renewed it recently enough. */
  get isWriter(): boolean {
    return this.#writer && this.#clock.now() < this.#validUntil;
  }

  /**
   * This replica took the lease last as far as it knows: it is the writer, or lost the lease
   * without seeing another holder since (the KV did not answer). Its newest stored version is
   * then likely the newest; what it says from it must be verified once the KV answers.
   */
  get isLastWriter(): boolean {
    return this.isWriter || this.#lastWriter;
  }

  /** Starts the rounds: one now, then one every third of the lease time. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.tick();
  }

  /**
   * Runs one round now (also after a reconnect); resolves when it is done. A round already
   * running is joined rather than doubled.
   */
  tick(): Promise<void> {
    if (this.#round) return this.#round;
    this.#armTick();
    this.#round = this.#runRound().finally(() => {
      this.#round = undefined;
      if (this.#roundDue) {
        this.#roundDue = false;
        if (this.#running) void this.tick();
      }
    });
    return this.#round;
  }

  /**
   * The next round starts a third of the lease after this one started, not after it ended: the
   * writer's validity runs from the start of its last renewal, so on a busy NATS server (KV
   * writes taking a second under a burst of 10,000 ACKs) waiting for the end first let the lease
   * lapse between two successful renewals. A round still running when the next is due is
   * followed at once by it.
   */
  #armTick(): void {
    this.#tickTimer?.cancel();
    if (!this.#running) return;
    this.#tickTimer = this.#clock.setTimer(this.#leaseMs / 3, () => {
      if (this.#round) this.#roundDue = true;
      else void this.tick();
    });
  }

  /** Stops the rounds; a writer steps down at once and then releases the lease for a quick handover. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#tickTimer?.cancel();
    await this.#round;
    const wasWriter = this.#writer;
    this.#stepDown();
    if (wasWriter && this.#ownRevision > 0) {
      try {
        await this.#register.release(this.#ownRevision);
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#changes.complete();
  }

  async #runRound(): Promise<void> {
    this.#expireIfDue();
    try {
      if (this.#writer) await this.#renew();
      else await this.#follow();
    } catch (error) {
      // A writer whose renewals keep failing steps down on its expiry timer.
      this.#onError(error);
    }
  }

  async #renew(): Promise<void> {
    const started = this.#clock.now();
    const revision = await this.#write(this.#ownRevision);
    if (revision === undefined) {
      this.#lastWriter = false;
      this.#stepDown(); // someone else holds the lease now
      return;
    }
    // Remembered even when the lease lapsed meanwhile: the next round takes it back at once
    // (announcing it), rather than this late renewal reviving the role silently.
    this.#ownRevision = revision;
    this.#expireIfDue();
    if (this.#writer) this.#extend(started);
  }

  async #follow(): Promise<void> {
    const entry = await this.#register.read();
    const now = this.#clock.now();
    if (entry && entry.holder !== this.#replicaId) this.#lastWriter = false;
    if (!entry) {
      await this.#take(0);
    } else if (
      entry.state === 'released' ||
      entry.revision === this.#ownRevision ||
      (this.#writeInDoubt && entry.holder === this.#replicaId)
    ) {
      // Released by its writer, or still a lease this process wrote (nobody wrote since): the
      // last one it knows of, or one whose answer it lost (no other replica names it the holder;
      // replica ids are unique). The compare-and-set on that revision proves nobody came between.
      await this.#take(entry.revision);
    } else if (this.#observed?.revision !== entry.revision) {
      this.#observed = { revision: entry.revision, since: now };
    } else if (now - this.#observed.since >= this.#leaseMs) {
      await this.#take(entry.revision);
    }
  }

  async #take(revision: number): Promise<void> {
    const started = this.#clock.now();
    const written = await this.#write(revision);
    if (written === undefined) return;
    this.#ownRevision = written;
    this.#lastWriter = true;
    this.#observed = undefined;
    this.#extend(started);
    this.#writer = true;
    this.#changes.next(true);
  }

  /** A lease write whose failure leaves its outcome in doubt until a later write succeeds. */
  async #write(revision: number): Promise<number | undefined> {
    let written: number | undefined;
    try {
      written = await this.#register.write(this.#record(), revision);
    } catch (error) {
      this.#writeInDoubt = true;
      throw error;
    }
    if (written !== undefined) this.#writeInDoubt = false;
    return written;
  }

  #extend(renewalStarted: number): void {
    // Measured from before the write: the stored renewal cannot be older than this.
    this.#validUntil = renewalStarted + (this.#leaseMs * 2) / 3;
    this.#armExpiry();
  }

  #armExpiry(): void {
    this.#expiryTimer?.cancel();
    this.#expiryTimer = this.#clock.setTimer(this.#validUntil - this.#clock.now(), () => {
      // Timers may fire a little early: re-arm rather than leave an expired writer in place.
      if (this.#clock.now() >= this.#validUntil) this.#stepDown();
      else this.#armExpiry();
    });
  }

  #expireIfDue(): void {
    if (this.#writer && this.#clock.now() >= this.#validUntil) this.#stepDown();
  }

  #stepDown(): void {
    this.#expiryTimer?.cancel();
    this.#validUntil = 0;
    this.#observed = undefined;
    if (this.#writer) {
      this.#writer = false;
      this.#changes.next(false);
    }
  }

  #record(): LeaseRecord {
    return {
      holder: this.#replicaId,
      expiresAt: new Date(this.#wallClock() + this.#leaseMs).toISOString(),
    };
  }
}
