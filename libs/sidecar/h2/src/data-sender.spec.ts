import { describe, expect, it } from 'vitest';
import { FrameFlag, FrameType } from './constants.js';
import { DataSender } from './data-sender.js';
import { FrameParser } from './frame-codec.js';
import { FrameWriter } from './frame-writer.js';
import { StreamCore } from './stream-core.js';
import type { StreamBodyHandler } from './stream-core.js';

type S = StreamCore<StreamBodyHandler>;

function setup() {
  const frames: string[] = [];
  const parser = new FrameParser(
    {
      onFrame: (type, flags, id, _b, start, end) =>
        frames.push(
          `${type === FrameType.DATA ? 'DATA' : type} ${id} ${end - start}${flags & FrameFlag.END_STREAM ? ' end' : ''}`,
        ),
      onFrameSizeError: () => undefined,
    },
    1 << 20,
  );
  const sink = {
    write: (c: Buffer) => (parser.push(c), true),
    cork() {},
    uncork() {},
    destroyed: false,
  };
  const writer = new FrameWriter(sink, (drained) => sender.onFlushed(drained));
  const ended: number[] = [];
  const sender: DataSender<S> = new DataSender<S>(writer, {
    writeTrailers: (s) => writer.frameHeader(0, FrameType.HEADERS, FrameFlag.END_STREAM, s.id),
    endSent: (s) => ended.push(s.id),
  });
  writer.beforeFlush = () => sender.runScheduled();
  const stream = (id: number, window: number): S => {
    const s = new StreamCore<StreamBodyHandler>({}, 1 << 20);
    s.id = id;
    s.sendWindow = window;
    return s;
  };
  return { frames, writer, sender, stream, ended };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DataSender', () => {
  it('frames within the stream window, the frame size, and ends with the last frame', async () => {
    const { frames, sender, stream, ended } = setup();
    const s = stream(1, 100_000);
    s.outQueue.push(Buffer.alloc(20_000));
    s.outBytes = 20_000;
    s.localEnd = true;
    sender.schedule(s);
    await tick();
    expect(frames).toEqual(['DATA 1 16384', 'DATA 1 3616 end']);
    expect(ended).toEqual([1]);
  });

  it('stops at the stream window and at the connection window; resumes on updates', async () => {
    const { frames, sender, stream } = setup();
    sender.window = 15;
    const a = stream(1, 10);
    const b = stream(3, 100);
    for (const s of [a, b]) {
      s.outQueue.push(Buffer.alloc(20));
      s.outBytes = 20;
      sender.schedule(s);
    }
    await tick();
    expect(frames).toEqual(['DATA 1 10', 'DATA 3 5']);
    sender.addWindow(100);
    await tick();
    expect(frames.slice(2)).toEqual(['DATA 3 15']);
    a.sendWindow += 10;
    sender.flush(a);
    await tick();
    expect(frames.slice(3)).toEqual(['DATA 1 10']);
  });

  it('a window pushed past 2^31-1 is refused', () => {
    const { sender } = setup();
    expect(sender.addWindow(0x7fff_ffff)).toBe(false);
  });

  it('sends trailers instead of an empty END_STREAM DATA frame', async () => {
    const { frames, sender, stream } = setup();
    const s = stream(1, 100);
    s.localEnd = true;
    s.trailers = ['grpc-status', '0'];
    sender.schedule(s);
    await tick();
    expect(frames).toEqual([`${FrameType.HEADERS} 1 0 end`]);
  });
});
