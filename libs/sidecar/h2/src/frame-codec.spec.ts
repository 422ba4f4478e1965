import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameFlag, FrameType } from './constants.js';
import {
  FrameParser,
  decodeSettings,
  encodeFrame,
  encodeGoaway,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
  readUInt31,
  unpaddedEnd,
  writeFrameHeader,
} from './frame-codec.js';
import type { FrameSink } from './frame-codec.js';

interface Parsed {
  type: number;
  flags: number;
  streamId: number;
  payload: string;
}

class RecordingSink implements FrameSink {
  frames: Parsed[] = [];
  sizeErrors: Array<[number, number, number]> = [];
  onFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number) {
    this.frames.push({ type, flags, streamId, payload: buf.toString('hex', start, end) });
  }
  onFrameSizeError(length: number, type: number, streamId: number) {
    this.sizeErrors.push([length, type, streamId]);
  }
}

function pattern(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

const smallFrames: Buffer[] = [
  encodeSettings([
    [1, 4096],
    [4, 1 << 20],
  ]),
  encodeFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, pattern(7, 1)),
  encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(0)),
  encodePing(Buffer.from('01234567'), true),
  encodeFrame(FrameType.DATA, FrameFlag.END_STREAM, 3, pattern(40, 2)),
  encodeWindowUpdate(0, 99),
];

function expectedOf(frames: Buffer[]): Parsed[] {
  return frames.map((f) => ({
    type: f[3]!,
    flags: f[4]!,
    streamId: f.readUInt32BE(5) & 0x7fffffff,
    payload: f.subarray(9).toString('hex'),
  }));
}

function parseChunks(chunks: Buffer[], maxFrameSize = 16_384): RecordingSink {
  const sink = new RecordingSink();
  const parser = new FrameParser(sink, maxFrameSize);
  for (const c of chunks) parser.push(c);
  expect(parser.bufferedBytes).toBe(0);
  return sink;
}

describe('FrameParser', () => {
  it('parses back-to-back frames delivered in one chunk', () => {
    const sink = parseChunks([Buffer.concat(smallFrames)]);
    expect(sink.frames).toEqual(expectedOf(smallFrames));
  });

  it('parses identically when the stream is split at every single byte boundary', () => {
    const all = Buffer.concat(smallFrames);
    const expected = expectedOf(smallFrames);
    for (let i = 0; i <= all.length; i++) {
      const sink = parseChunks([all.subarray(0, i), all.subarray(i)]);
      expect(sink.frames, `split at ${i}`).toEqual(expected);
    }
  });

  it('parses identically for every pair of split points (three chunks)', () => {
    const all = Buffer.concat(smallFrames);
    const expected = expectedOf(smallFrames);
    for (let i = 0; i <= all.length; i++) {
      for (let j = i; j <= all.length; j++) {
        const sink = parseChunks([all.subarray(0, i), all.subarray(i, j), all.subarray(j)]);
        expect(sink.frames).toEqual(expected);
      }
    }
  });

  it('parses a stream fed one byte at a time', () => {
    const all = Buffer.concat(smallFrames);
    const chunks: Buffer[] = [];
    for (let i = 0; i < all.length; i++) chunks.push(all.subarray(i, i + 1));
    expect(parseChunks(chunks).frames).toEqual(expectedOf(smallFrames));
  });

  it('reassembles a max-size frame split at every boundary', () => {
    const frames = [
      encodeFrame(FrameType.DATA, 0, 5, pattern(16_384, 7)),
      encodeFrame(FrameType.DATA, FrameFlag.END_STREAM, 5, pattern(3, 9)),
    ];
    const all = Buffer.concat(frames);
    const expected = expectedOf(frames);
    for (let i = 0; i <= all.length; i++) {
      const sink = parseChunks([all.subarray(0, i), all.subarray(i)]);
      if (sink.frames.length !== 2 || sink.frames[0]!.payload !== expected[0]!.payload) {
        expect(sink.frames, `split at ${i}`).toEqual(expected);
      }
    }
    expect(parseChunks([all]).frames).toEqual(expected);
  });

  it('parses random frame sequences cut into random chunks', () => {
    const frame = fc
      .record({
        type: fc.integer({ min: 0, max: 255 }),
        flags: fc.integer({ min: 0, max: 255 }),
        streamId: fc.integer({ min: 0, max: 0x7fffffff }),
        payload: fc.uint8Array({ maxLength: 600 }),
      })
      .map((f) => encodeFrame(f.type, f.flags, f.streamId, Buffer.from(f.payload)));
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 10 }),
        (frames, cuts) => {
          const all = Buffer.concat(frames);
          const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(all.subarray(prev, p));
            prev = p;
          }
          chunks.push(all.subarray(prev));
          expect(parseChunks(chunks).frames).toEqual(expectedOf(frames));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hands out whole-frame payloads as ranges of the input chunk (no copy)', () => {
    const chunk = encodeFrame(FrameType.DATA, 0, 1, pattern(10, 3));
    let seen: Buffer | undefined;
    const parser = new FrameParser(
      {
        onFrame: (_t, _f, _s, buf, start, end) => {
          seen = buf;
          expect([start, end]).toEqual([9, 19]);
        },
        onFrameSizeError: () => undefined,
      },
      16_384,
    );
    parser.push(chunk);
    expect(seen).toBe(chunk);
  });

  it('masks the reserved bit of the stream id', () => {
    const frame = encodeFrame(FrameType.DATA, 0, 1);
    frame[5] = 0x80;
    expect(parseChunks([frame]).frames[0]!.streamId).toBe(0x80000001 & 0x7fffffff);
  });

  it('reports a frame larger than maxFrameSize and stops parsing', () => {
    const big = encodeFrame(FrameType.DATA, 0, 1, pattern(101, 1));
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, 100);
    parser.push(Buffer.concat([smallFrames[3]!, big, smallFrames[3]!]));
    expect(sink.frames).toHaveLength(1);
    expect(sink.sizeErrors).toEqual([[101, FrameType.DATA, 1]]);
    parser.push(smallFrames[3]!);
    expect(sink.frames).toHaveLength(1);
  });

  it('reports an oversize frame whose header straddles chunks', () => {
    const big = encodeFrame(FrameType.HEADERS, 0, 3, pattern(200, 1));
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, 100);
    parser.push(big.subarray(0, 4));
    parser.push(big.subarray(4));
    expect(sink.sizeErrors).toEqual([[200, FrameType.HEADERS, 3]]);
  });

  it('stops within a chunk when the sink calls stop()', () => {
    const sink = new RecordingSink();
    const parser = new FrameParser(
      {
        onFrame(...args) {
          sink.onFrame(...args);
          parser.stop();
        },
        onFrameSizeError: () => undefined,
      },
      16_384,
    );
    parser.push(Buffer.concat(smallFrames));
    parser.push(Buffer.concat(smallFrames));
    expect(sink.frames).toHaveLength(1);
  });

  it('keeps a partial header buffered between chunks', () => {
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, 16_384);
    parser.push(smallFrames[1]!.subarray(0, 5));
    expect(parser.bufferedBytes).toBe(5);
    expect(sink.frames).toEqual([]);
    parser.push(smallFrames[1]!.subarray(5, 12));
    expect(parser.bufferedBytes).toBe(3);
  });
});

describe('frame serialisers', () => {
  it('writes a frame header with a 24-bit length and 31-bit stream id', () => {
    const buf = Buffer.alloc(9);
    writeFrameHeader(buf, 0, 0x123456, FrameType.HEADERS, 0x25, 0x7fffffff);
    expect(buf.toString('hex')).toBe('123456012' + '57fffffff');
  });

  it('encodes SETTINGS and SETTINGS ACK', () => {
    expect(
      encodeSettings([
        [2, 0],
        [4, 1048576],
      ]).toString('hex'),
    ).toBe('00000c040000000000' + '000200000000' + '000400100000');
    expect(encodeSettingsAck().toString('hex')).toBe('000000040100000000');
  });

  it('encodes PING and refuses a payload that is not 8 bytes', () => {
    expect(encodePing(Buffer.from('abcdefgh'), false).toString('hex')).toBe(
      '000008060000000000' + Buffer.from('abcdefgh').toString('hex'),
    );
    expect(encodePing(Buffer.alloc(8), true)[4]).toBe(FrameFlag.ACK);
    expect(() => encodePing(Buffer.alloc(7), false)).toThrow(RangeError);
  });

  it('encodes WINDOW_UPDATE, RST_STREAM and GOAWAY', () => {
    expect(encodeWindowUpdate(3, 0x10000).toString('hex')).toBe('000004080000000003' + '00010000');
    expect(encodeRstStream(5, 8).toString('hex')).toBe('000004030000000005' + '00000008');
    expect(encodeGoaway(7, 1, Buffer.from('x')).toString('hex')).toBe(
      '000009070000000000' + '00000007' + '00000001' + '78',
    );
  });
});

describe('payload helpers', () => {
  it('reads 31-bit values ignoring the reserved bit', () => {
    expect(readUInt31(Buffer.from('ffffffff', 'hex'), 0)).toBe(0x7fffffff);
  });

  it('finds the content end of a padded payload', () => {
    const buf = Buffer.from([2, 0xaa, 0xbb, 0, 0]);
    expect(unpaddedEnd(buf, 0, 5)).toBe(3);
    expect(unpaddedEnd(Buffer.from([0]), 0, 1)).toBe(1);
    expect(unpaddedEnd(Buffer.from([4, 0, 0, 0, 0]), 0, 5)).toBe(1);
  });

  it('rejects padding that does not fit the payload', () => {
    expect(unpaddedEnd(Buffer.from([5, 0, 0, 0, 0]), 0, 5)).toBe(-1);
    expect(unpaddedEnd(Buffer.alloc(0), 0, 0)).toBe(-1);
  });

  it('decodes SETTINGS pairs in wire order', () => {
    const frame = encodeSettings([
      [3, 5],
      [5, 32768],
    ]);
    expect(decodeSettings(frame, 9, frame.length)).toEqual([
      [3, 5],
      [5, 32768],
    ]);
  });
});
