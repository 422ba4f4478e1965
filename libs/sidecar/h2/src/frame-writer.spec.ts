import { describe, expect, it } from 'vitest';
import { FrameType } from './constants.js';
import { encodeFrame } from './frame-codec.js';
import { FrameWriter } from './frame-writer.js';
import type { ByteSink } from './frame-writer.js';

class FakeSink implements ByteSink {
  writes: Buffer[] = [];
  corks = 0;
  destroyed = false;
  accept = true;
  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    return this.accept;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {}
  get bytes(): Buffer {
    return Buffer.concat(this.writes);
  }
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('FrameWriter', () => {
  it('batches all frames of one tick into a single write on the next microtask', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, () => undefined);
    writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8, 1));
    writer.frameHeader(0, FrameType.DATA, 1, 3);
    expect(sink.writes).toHaveLength(0);
    expect(writer.pendingBytes).toBe(26);
    await tick();
    expect(sink.writes).toHaveLength(1);
    expect(sink.bytes).toEqual(
      Buffer.concat([encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8, 1)), encodeFrame(0, 1, 3)]),
    );
    expect(writer.pendingBytes).toBe(0);
  });

  it('queues large payloads by reference, in order, in one corked flush', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, () => undefined);
    const big = Buffer.alloc(5_000, 7);
    writer.frame(FrameType.DATA, 0, 1, big);
    writer.frame(FrameType.DATA, 1, 1, Buffer.from('tail'));
    await tick();
    expect(sink.corks).toBe(1);
    expect(sink.writes).toHaveLength(3);
    expect(sink.writes[1]).toBe(big);
    expect(sink.bytes).toEqual(
      Buffer.concat([encodeFrame(0, 0, 1, big), encodeFrame(0, 1, 1, Buffer.from('tail'))]),
    );
  });

  it('starts a new slab when the current one is full without corrupting queued bytes', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, () => undefined, 32);
    for (let i = 0; i < 5; i++) writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8, i));
    await tick();
    const expected = [0, 1, 2, 3, 4].map((i) =>
      encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8, i)),
    );
    expect(sink.bytes).toEqual(Buffer.concat(expected));
  });

  it('reports whether the socket asked to wait for drain', async () => {
    const sink = new FakeSink();
    sink.accept = false;
    const seen: boolean[] = [];
    const writer = new FrameWriter(sink, (drained) => seen.push(drained));
    writer.frameHeader(0, FrameType.DATA, 0, 1);
    await tick();
    expect(seen).toEqual([false]);
  });

  it('drops pending output after close()', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, () => undefined);
    writer.frameHeader(0, FrameType.DATA, 0, 1);
    writer.close();
    await tick();
    expect(writer.flush()).toBe(true);
    expect(sink.writes).toHaveLength(0);
  });
});
