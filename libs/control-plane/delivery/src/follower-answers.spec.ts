import { describe, expect, it } from 'vitest';
import type { Snapshot } from '@trellis/config';
import { FakeClock } from '@trellis/time';
import { FollowerAnswers } from './follower-answers.js';
import type { FollowerStore } from './follower-answers.js';

const snap = (version: number): Snapshot => ({ version, hash: `sha256:${version}`, resources: [] });

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A store whose reads the test answers by hand, in order. */
class ManualStore implements FollowerStore {
  knownSnapshot: Snapshot | undefined;
  readonly freshReads: ((s: Snapshot | undefined) => void)[] = [];
  readonly reads: { resolve: (s: Snapshot | undefined) => void; reject: (e: Error) => void }[] = [];

  constructor(known: Snapshot | undefined) {
    this.knownSnapshot = known;
  }

  fresh(): Promise<Snapshot | undefined> {
    return new Promise((resolve) => this.freshReads.push(resolve));
  }

  known(): Snapshot | undefined {
    return this.knownSnapshot;
  }

  read(): Promise<Snapshot | undefined> {
    return new Promise((resolve, reject) => this.reads.push({ resolve, reject }));
  }
}

function setup(known: Snapshot | undefined) {
  const clock = new FakeClock(0);
  const store = new ManualStore(known);
  const newer: [number, number][] = [];
  const errors: string[] = [];
  const answers = new FollowerAnswers({
    store,
    boundMs: 500,
    retryMs: 1_000,
    clock,
    onNewerStored: (stored, answered) => newer.push([stored.version, answered]),
    onReadError: (error) => errors.push((error as Error).message),
  });
  /** The answer's value once settled, or 'pending'. */
  const settle = async (p: Promise<Snapshot | undefined>): Promise<number | 'none' | 'pending'> => {
    let out: number | 'none' | 'pending' = 'pending';
    void p.then((s) => (out = s?.version ?? 'none'));
    await flush();
    return out;
  };
  return { clock, store, answers, newer, errors, settle };
}

describe('FollowerAnswers', () => {
  it('answers from the fresh read when it comes within the bound, and verifies nothing', async () => {
    const { clock, store, answers, settle } = setup(snap(3));
    const answer = answers.answer();
    clock.advance(499);
    store.freshReads[0]?.(snap(4));
    expect(await settle(answer)).toBe(4);
    clock.advance(10_000);
    await flush();
    expect(store.reads).toHaveLength(0);
  });

  it('answers from the known snapshot once the fresh read took the bound, not before', async () => {
    const { clock, answers, settle } = setup(snap(3));
    const answer = answers.answer();
    clock.advance(499);
    expect(await settle(answer)).toBe('pending');
    clock.advance(1);
    expect(await settle(answer)).toBe(3);
  });

  it('keeps waiting for the fresh read when it knows no snapshot yet', async () => {
    const { clock, store, answers, settle } = setup(undefined);
    const answer = answers.answer();
    clock.advance(5_000);
    expect(await settle(answer)).toBe('pending');
    store.freshReads[0]?.(snap(1));
    expect(await settle(answer)).toBe(1);
    expect(store.reads).toHaveLength(0);
  });

  it('verifies an answer from the known snapshot by a read; the same version is the end of it', async () => {
    const { clock, store, answers, newer } = setup(snap(3));
    void answers.answer();
    clock.advance(500);
    await flush();
    expect(store.reads).toHaveLength(1);
    store.reads[0]?.resolve(snap(3));
    await flush();
    clock.advance(10_000);
    await flush();
    expect(store.reads).toHaveLength(1);
    expect(newer).toEqual([]);
  });

  it('hands over a newer stored version found by the verifying read (to announce it as the head)', async () => {
    const { clock, store, answers, newer } = setup(snap(3));
    void answers.answer();
    clock.advance(500);
    await flush();
    store.reads[0]?.resolve(snap(5));
    await flush();
    expect(newer).toEqual([[5, 3]]);
  });

  it('retries a failed verifying read after retryMs until one succeeds', async () => {
    const { clock, store, answers, newer, errors } = setup(snap(3));
    void answers.answer();
    clock.advance(500);
    await flush();
    store.reads[0]?.reject(new Error('timeout'));
    await flush();
    expect(errors).toEqual(['timeout']);
    clock.advance(999);
    await flush();
    expect(store.reads).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(store.reads).toHaveLength(2);
    store.reads[1]?.resolve(snap(4));
    await flush();
    expect(newer).toEqual([[4, 3]]);
  });

  it('reads once more for answers given while a verifying read was in flight', async () => {
    const { clock, store, answers, newer } = setup(snap(3));
    void answers.answer();
    clock.advance(500);
    await flush();
    // The replica's watch learns version 4; an answer from it is given during the first read.
    store.knownSnapshot = snap(4);
    void answers.answer();
    clock.advance(500);
    await flush();
    expect(store.reads).toHaveLength(1);
    store.reads[0]?.resolve(snap(4));
    await flush();
    expect(newer).toEqual([[4, 3]]);
    expect(store.reads).toHaveLength(2);
    store.reads[1]?.resolve(snap(4));
    await flush();
    expect(newer).toEqual([[4, 3]]);
  });

  it('known() answers at once from the known snapshot and verifies it by a read', async () => {
    const { store, answers, newer } = setup(snap(3));
    expect(answers.known()?.version).toBe(3);
    await flush();
    expect(store.reads).toHaveLength(1);
    store.reads[0]?.resolve(snap(6));
    await flush();
    expect(newer).toEqual([[6, 3]]);
  });

  it('known() is undefined and verifies nothing when no snapshot is known', async () => {
    const { store, answers } = setup(undefined);
    expect(answers.known()).toBeUndefined();
    await flush();
    expect(store.reads).toHaveLength(0);
  });

  it('close() ends a retry pause at once and verifies no more', async () => {
    const { clock, store, answers } = setup(snap(3));
    void answers.answer();
    clock.advance(500);
    await flush();
    store.reads[0]?.reject(new Error('timeout'));
    await flush();
    await answers.close();
    clock.advance(10_000);
    await flush();
    expect(store.reads).toHaveLength(1);
  });
});
