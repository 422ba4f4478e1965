import { describe, expect, it } from 'vitest';
import { FakeClock } from '@trellis/time';
import { LeaderElection } from './leader-election.js';
import type { LeaseEntry, LeaseRecord, LeaseRegister } from './leader-election.js';

const LEASE_MS = 300;

/** One key with revisions and compare-and-set, as JetStream KV keeps it. */
class MemoryLease {
  revision = 0;
  record: LeaseRecord | undefined;
  released = false;
  writes = 0;

  write(record: LeaseRecord, revision: number): number | undefined {
    if (revision !== this.revision) return undefined;
    this.revision += 1;
    this.record = record;
    this.released = false;
    this.writes += 1;
    return this.revision;
  }

  read(): LeaseEntry | undefined {
    if (this.revision === 0) return undefined;
    return {
      revision: this.revision,
      state: this.released ? 'released' : 'held',
      holder: this.record?.holder,
    };
  }

  release(revision: number): boolean {
    if (revision !== this.revision) return false;
    this.revision += 1;
    this.released = true;
    return true;
  }

  /** One replica's access; `cut` makes its requests fail, as over a lost connection. */
  view(): LeaseRegister & { cut: boolean } {
    const view = {
      cut: false,
      read: async (): Promise<LeaseEntry | undefined> => (check(), this.read()),
      write: async (record: LeaseRecord, revision: number): Promise<number | undefined> => (
        check(),
        this.write(record, revision)
      ),
      release: async (revision: number): Promise<boolean> => (check(), this.release(revision)),
    };
    const check = (): void => {
      if (view.cut) throw new Error('connection lost');
    };
    return view;
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const clock = new FakeClock(10_000);
  const lease = new MemoryLease();
  const elections: LeaderElection[] = [];
  const history: string[] = [];
  const replica = (id: string, wallClock: () => number = () => 1_700_000_000_000) => {
    const register = lease.view();
    const election = new LeaderElection({
      register,
      replicaId: id,
      leaseMs: LEASE_MS,
      clock,
      wallClock,
    });
    election.writerChanges.subscribe((w) =>
      history.push(`${clock.now() - 10_000}:${id}:${w ? 'writer' : 'follower'}`),
    );
    elections.push(election);
    return { election, register };
  };
  /** Moves time in 10 ms steps, letting promises settle, and checks there is never more than one writer. */
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      await flush();
      expect(elections.filter((e) => e.isWriter).length).toBeLessThanOrEqual(1);
    }
  };
  return { clock, lease, replica, run, history };
}

describe('LeaderElection', () => {
  it('takes a free lease at once and names itself the holder', async () => {
    const { lease, replica } = setup();
    const { election } = replica('a');
    election.start();
    await flush();
    expect(election.isWriter).toBe(true);
    expect(lease.record).toEqual({ holder: 'a', expiresAt: '2023-11-14T22:13:20.300Z' });
  });

  it('renews the lease every third of the lease time', async () => {
    const { lease, replica, run } = setup();
    replica('a').election.start();
    await flush();
    await run(1_000);
    expect(lease.writes).toBe(11);
  });

  it('keeps a second replica following while the writer renews', async () => {
    const { replica, run } = setup();
    const a = replica('a').election;
    a.start();
    await flush();
    const b = replica('b').election;
    b.start();
    await flush();
    await run(3_000);
    expect(a.isWriter).toBe(true);
    expect(b.isWriter).toBe(false);
  });

  it('hands over when the writer is cut off: it steps down first, the follower takes over after a full lease of no change', async () => {
    const { replica, run, history } = setup();
    const a = replica('a');
    a.election.start();
    await flush();
    replica('b').election.start();
    await flush();
    await run(200);
    a.register.cut = true; // a's last renewal started at 200 ms, and b read it at 200 ms
    await run(1_000);
    // a gives up 2/3 of a lease after its last renewal started (400); b takes over a full lease
    // after it first saw that renewal (500). run() checked that they never both wrote.
    expect(history).toEqual(['0:a:writer', '400:a:follower', '500:b:writer']);
  });

  it('does not trust expiresAt: a lease "expired" on a skewed clock is waited out like any other', async () => {
    const { lease, replica, run, history } = setup();
    lease.write({ holder: 'z', expiresAt: '2000-01-01T00:00:00.000Z' }, 0);
    replica('b').election.start();
    await flush();
    await run(290);
    expect(history).toEqual([]);
    await run(100);
    expect(history).toEqual(['300:b:writer']);
  });

  it('does not trust expiresAt: a lease "valid" until 2100 is taken once its revision stands still', async () => {
    const { lease, replica, run, history } = setup();
    lease.write({ holder: 'z', expiresAt: '2100-01-01T00:00:00.000Z' }, 0);
    replica('b').election.start();
    await flush();
    await run(400);
    expect(history).toEqual(['300:b:writer']);
  });

  it('steps down at once when a renewal loses the compare-and-set', async () => {
    const { lease, replica, run, history } = setup();
    const { election } = replica('a');
    election.start();
    await flush();
    await run(50);
    lease.write({ holder: 'x', expiresAt: '' }, lease.revision);
    await run(50);
    expect(election.isWriter).toBe(false);
    expect(history).toEqual(['0:a:writer', '100:a:follower']);
  });

  it('takes its own lease back at once after an outage when nobody wrote meanwhile', async () => {
    const { replica, run, history } = setup();
    const a = replica('a');
    a.election.start();
    await flush();
    a.register.cut = true;
    await run(500);
    a.register.cut = false;
    await run(100);
    expect(history).toEqual(['0:a:writer', '200:a:follower', '600:a:writer']);
  });

  it('takes back at once a lease its own timed-out renewal wrote, instead of waiting a lease', async () => {
    const { lease, replica, run, history } = setup();
    const a = replica('a');
    a.election.start();
    await flush();
    const write = a.register.write;
    // The renewal at 100 ms lands on the server, but its answer is lost (a timeout).
    a.register.write = (record, revision) => {
      lease.write(record, revision);
      return Promise.reject(new Error('timeout'));
    };
    await run(100);
    a.register.write = write;
    expect(lease.revision).toBe(2);
    // a steps down at 200 ms (no renewal known since 0 ms); the same round reads the lease, finds
    // itself the holder of a revision it never learnt and takes it back on that revision.
    await run(100);
    expect(history).toEqual(['0:a:writer', '200:a:follower', '200:a:writer']);
    expect(lease.revision).toBe(3);
    expect(a.election.isWriter).toBe(true);
  });

  it('waits out a lease naming it the holder when none of its writes is in doubt (a previous process)', async () => {
    const { lease, replica, run, history } = setup();
    lease.write({ holder: 'a', expiresAt: '' }, 0);
    replica('a').election.start();
    await flush();
    await run(290);
    expect(history).toEqual([]);
    await run(100);
    expect(history).toEqual(['300:a:writer']);
  });

  it('does not take back a lease another replica wrote after its own write was in doubt', async () => {
    const { lease, replica, run, history } = setup();
    const a = replica('a');
    a.election.start();
    await flush();
    a.register.cut = true; // the renewal at 100 ms fails: in doubt
    await run(100);
    lease.write({ holder: 'b', expiresAt: '' }, lease.revision);
    a.register.cut = false;
    await run(290);
    expect(history).toEqual(['0:a:writer', '200:a:follower']);
    await run(300);
    expect(history).toEqual(['0:a:writer', '200:a:follower', '500:a:writer']);
  });

  it('stays the last writer while its lease lapsed with no other holder seen, not once it sees one', async () => {
    const { lease, replica, run } = setup();
    const a = replica('a');
    a.election.start();
    await flush();
    a.register.cut = true;
    await run(300);
    expect(a.election.isWriter).toBe(false);
    expect(a.election.isLastWriter).toBe(true);
    lease.write({ holder: 'b', expiresAt: '' }, lease.revision);
    a.register.cut = false;
    await run(100);
    expect(a.election.isLastWriter).toBe(false);
  });

  it('is not the last writer before it ever took the lease', async () => {
    const { lease, replica, run } = setup();
    lease.write({ holder: 'z', expiresAt: '' }, 0);
    const b = replica('b');
    b.election.start();
    await run(100);
    expect(b.election.isLastWriter).toBe(false);
  });

  it('releases the lease on stop, so a follower takes over without waiting a lease', async () => {
    const { lease, replica, run, history } = setup();
    const a = replica('a').election;
    a.start();
    await flush();
    replica('b').election.start();
    await flush();
    await run(50);
    await a.stop();
    expect(lease.released).toBe(true);
    await run(100);
    expect(history).toEqual(['0:a:writer', '50:a:follower', '100:b:writer']);
  });

  it('steps down when a slow renewal lands after the lease lapsed, then takes it back announcing it', async () => {
    const { clock, lease, replica, history } = setup();
    const a = replica('a');
    a.election.start();
    await flush();
    // The next renewal is held up past the lease's lapse on a's clock (2/3 of it after 0 ms).
    let release: () => void = () => undefined;
    const write = a.register.write;
    a.register.write = (record, revision) =>
      new Promise((resolve) => (release = () => resolve(lease.write(record, revision))));
    clock.advance(100);
    await flush();
    clock.advance(150);
    await flush();
    expect(a.election.isWriter).toBe(false);
    a.register.write = write;
    // The late renewal does not revive the role; the round that came due meanwhile (at 200)
    // runs as soon as it lands and takes the lease back, announcing it.
    release();
    await flush();
    expect(history).toEqual(['0:a:writer', '200:a:follower', '250:a:writer']);
    expect(lease.revision).toBe(3);
  });

  it('renews every third of the lease from the start of each round, so slow writes do not let it lapse', async () => {
    const { clock, lease, replica, run, history } = setup();
    const a = replica('a');
    // Every write takes 80 ms (a busy server): counted from each write's end, the rounds would
    // start 180 ms apart and the lease (valid 200 ms from a renewal's start) would lapse.
    a.register.write = (record, revision) =>
      new Promise((resolve) => clock.setTimer(80, () => resolve(lease.write(record, revision))));
    a.election.start();
    await run(1_000);
    expect(history).toEqual(['90:a:writer']);
    expect(a.election.isWriter).toBe(true);
    expect(lease.writes).toBe(10);
  });

  it('refuses a lease shorter than 30 ms and an empty replica id', () => {
    const register = new MemoryLease().view();
    expect(() => new LeaderElection({ register, replicaId: 'a', leaseMs: 10 })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
    expect(() => new LeaderElection({ register, replicaId: '' })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
  });
});
