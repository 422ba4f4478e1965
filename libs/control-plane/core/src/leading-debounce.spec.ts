import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { leadingDebounce } from './leading-debounce.js';

/** Values seen with the virtual time they were emitted at. */
function harness() {
  const scheduler = new VirtualTimeScheduler();
  const input = new Subject<string>();
  const seen: [number, string][] = [];
  let completed = false;
  input.pipe(leadingDebounce<string>(100, scheduler)).subscribe({
    next: (v) => seen.push([scheduler.now(), v]),
    complete: () => (completed = true),
  });
  /** Sends `value` at virtual time `at` (ms). */
  const at = (ms: number, value: string): void => {
    scheduler.schedule(() => input.next(value), ms);
  };
  return { scheduler, input, seen, at, done: () => completed };
}

describe('leadingDebounce', () => {
  it('emits a lone value at once, with no trailing emission', () => {
    const h = harness();
    h.at(0, 'a');
    h.scheduler.flush();
    expect(h.seen).toEqual([[0, 'a']]);
  });

  it('emits the first value of a burst at once and the newest once the burst is quiet', () => {
    const h = harness();
    h.at(0, 'a');
    h.at(30, 'b');
    h.at(60, 'c');
    h.scheduler.flush();
    expect(h.seen).toEqual([
      [0, 'a'],
      [160, 'c'],
    ]);
  });

  it('keeps postponing the trailing emission while changes keep coming within the quiet time', () => {
    const h = harness();
    for (const ms of [0, 90, 180, 270]) h.at(ms, `v${ms}`);
    h.scheduler.flush();
    expect(h.seen).toEqual([
      [0, 'v0'],
      [370, 'v270'],
    ]);
  });

  it('coalesces a change right after a trailing emission into the next trailing one', () => {
    const h = harness();
    h.at(0, 'a');
    h.at(50, 'b');
    h.at(200, 'c');
    h.scheduler.flush();
    expect(h.seen).toEqual([
      [0, 'a'],
      [150, 'b'],
      [300, 'c'],
    ]);
  });

  it('emits at once again after a full quiet period', () => {
    const h = harness();
    h.at(0, 'a');
    h.at(150, 'b');
    h.scheduler.flush();
    expect(h.seen).toEqual([
      [0, 'a'],
      [150, 'b'],
    ]);
  });

  it('flushes a held-back value when the source completes', () => {
    const h = harness();
    h.input.next('a');
    h.input.next('b');
    h.input.complete();
    expect(h.seen).toEqual([
      [0, 'a'],
      [0, 'b'],
    ]);
    expect(h.done()).toBe(true);
  });
});
