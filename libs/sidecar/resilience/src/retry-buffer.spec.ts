import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from './params.js';
import { ReplayBuffer } from './retry-buffer.js';

const bytes = (n: number) => new Uint8Array(n);

describe('ReplayBuffer', () => {
  it('replays the pushed chunks in order, by reference', () => {
    const buffer = new ReplayBuffer(10);
    const a = bytes(3);
    const b = Buffer.from('hey');
    expect(buffer.push(a)).toBe(true);
    expect(buffer.push(b)).toBe(true);
    const replay = buffer.replay()!;
    expect(replay).toHaveLength(2);
    expect(replay[0]).toBe(a);
    expect(replay[1]).toBe(b);
    expect(buffer.bytes).toBe(6);
  });

  it('stays replayable at exactly maxBytes', () => {
    const buffer = new ReplayBuffer(8);
    buffer.push(bytes(5));
    expect(buffer.push(bytes(3))).toBe(true);
    expect(buffer.replayable).toBe(true);
    expect(buffer.bytes).toBe(8);
  });

  it('releases everything and stops being replayable once over maxBytes', () => {
    const buffer = new ReplayBuffer(8);
    buffer.push(bytes(5));
    expect(buffer.push(bytes(4))).toBe(false);
    expect(buffer.replayable).toBe(false);
    expect(buffer.bytes).toBe(0);
    expect(buffer.replay()).toBeUndefined();
  });

  it('ignores chunks after overflowing, even small ones', () => {
    const buffer = new ReplayBuffer(8);
    buffer.push(bytes(9));
    expect(buffer.push(bytes(1))).toBe(false);
    expect(buffer.bytes).toBe(0);
  });

  it('hands out a snapshot that later pushes and release() leave intact', () => {
    const buffer = new ReplayBuffer(8);
    const first = bytes(2);
    buffer.push(first);
    const replay = buffer.replay()!;
    buffer.push(bytes(2));
    buffer.release();
    expect(replay).toEqual([first]);
  });

  it('is not replayable after release()', () => {
    const buffer = new ReplayBuffer(8);
    buffer.push(bytes(2));
    buffer.release();
    expect(buffer.replay()).toBeUndefined();
    expect(buffer.push(bytes(1))).toBe(false);
  });

  it('with maxBytes 0 keeps an empty body replayable and overflows on any byte', () => {
    const buffer = new ReplayBuffer(0);
    expect(buffer.push(bytes(0))).toBe(true);
    expect(buffer.push(bytes(1))).toBe(false);
  });

  it.each([-1, 1.5, NaN])('rejects maxBytes %s', (maxBytes) => {
    expect(() => new ReplayBuffer(maxBytes)).toThrow(InvalidParamsError);
  });
});
