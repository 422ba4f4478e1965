// The connection core on its own: a scripted role records what the core hands it, frames go in
// through the parser and come out through a sink that parses them back.
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { ConnectionCore } from './connection-core.js';
import type { ConnectionRole } from './connection-core.js';
import { FrameFlag, FrameType, H2ErrorCode, SettingId } from './constants.js';
import {
  FrameParser,
  encodeFrame,
  encodePing,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
} from './frame-codec.js';
import { StreamCore } from './stream-core.js';
import type { StreamBodyHandler } from './stream-core.js';

type S = StreamCore<StreamBodyHandler>;

function setup(settingsTimeoutMs = 0) {
  const clock = new FakeClock();
  const events: string[] = [];
  const written: string[] = [];
  const out = new FrameParser(
    {
      onFrame: (type, flags, id) => written.push(`${type}/${flags}/${id}`),
      onFrameSizeError: () => undefined,
    },
    1 << 24,
  );
  const sink = {
    write: (c: Buffer) => (out.push(c), true),
    cork() {},
    uncork() {},
    destroyed: false,
  };
  const role: ConnectionRole<S> = {
    connectionError: (code, message) => events.push(`conn ${code} ${message}`),
    streamError: (s, code, message) => events.push(`stream ${s.id} ${code} ${message}`),
    streamFor: (id) => core.streams.get(id),
    onData: (_flags, id, body, length) => events.push(`data ${id} ${body.toString()} ${length}`),
    onHeaderBlock: (id, block, end, dep) =>
      events.push(`block ${id} ${block.length} ${end} ${dep}`),
    onPriority: (id) => events.push(`priority ${id}`),
    onRstStream: (id, code) => events.push(`rst ${id} ${code}`),
    answerControlFrame: () => true,
    acceptWindowUpdate: () => true,
    onSettings: (delta) => events.push(`settings ${delta}`),
    onPingAck: () => events.push('ping ack'),
    onGoaway: (last, code) => events.push(`goaway ${last} ${code}`),
    sendMore: (s) => events.push(`send more ${s.id}`),
    endSent: (s) => events.push(`end sent ${s.id}`),
  };
  const core: ConnectionCore<S> = new ConnectionCore<S>(sink, role, {
    initialWindowSize: 1 << 20,
    connectionWindowSize: 1 << 20,
    maxFrameSize: 16_384,
    headerTableSize: 4_096,
    maxHeaderListSize: 8_192,
    encoderTableSize: 4_096,
    peerIsServer: false,
    maxHeaderBlockBytes: 100,
    maxContinuations: 2,
    settingsTimeoutMs,
    clock,
  });
  const stream = (id: number): S => {
    const s = new StreamCore<StreamBodyHandler>({}, 1 << 16);
    s.id = id;
    s.sendWindow = core.peer.initialWindowSize;
    s.recvWindow = 1 << 20;
    core.streams.set(id, s);
    return s;
  };
  const flushed = async (): Promise<void> => new Promise((r) => setTimeout(r, 0));
  return { clock, core, events, written, stream, flushed };
}

describe('ConnectionCore', () => {
  it('refuses a first frame other than SETTINGS, then takes frames once it came', () => {
    const { core, events } = setup();
    core.parser.push(encodePing(Buffer.alloc(8), false));
    expect(events).toEqual([`conn ${H2ErrorCode.PROTOCOL_ERROR} client preface is not SETTINGS`]);
    const second = setup();
    second.core.parser.push(Buffer.concat([encodeSettings([]), encodeWindowUpdate(0, 5)]));
    expect(second.events).toEqual(['settings 0']);
  });

  it('applies SETTINGS, acknowledges them and moves open send windows by the change', async () => {
    const { core, events, written, stream, flushed } = setup();
    const s = stream(1);
    core.parser.push(encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, 70_000]]));
    expect(s.sendWindow).toBe(70_000);
    expect(events).toEqual(['settings 4465', 'send more 1']);
    await flushed();
    expect(written).toEqual([`${FrameType.SETTINGS}/${FrameFlag.ACK}/0`]);
  });

  it('assembles HEADERS + CONTINUATION and refuses any other frame in between', () => {
    const { core, events } = setup();
    core.parser.push(encodeSettings([]));
    core.parser.push(encodeFrame(FrameType.HEADERS, 0, 1, Buffer.alloc(10)));
    core.parser.push(
      encodeFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, Buffer.alloc(5)),
    );
    core.parser.push(encodeFrame(FrameType.HEADERS, 0, 3, Buffer.alloc(10)));
    core.parser.push(encodePing(Buffer.alloc(8), false));
    expect(events.slice(1)).toEqual([
      'block 1 15 false 0',
      `conn ${H2ErrorCode.PROTOCOL_ERROR} expected CONTINUATION`,
    ]);
  });

  it('limits a header block in bytes and in CONTINUATION frames (ENHANCE_YOUR_CALM)', () => {
    for (const [size, frames] of [
      [60, 2],
      [10, 3],
    ] as const) {
      const { core, events } = setup();
      core.parser.push(encodeSettings([]));
      core.parser.push(encodeFrame(FrameType.HEADERS, 0, 1, Buffer.alloc(size)));
      for (let i = 0; i < frames; i++) {
        core.parser.push(encodeFrame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(size)));
      }
      expect(events.at(-1)).toBe(`conn ${H2ErrorCode.ENHANCE_YOUR_CALM} header block too large`);
    }
  });

  it('strips DATA padding and counts it against the connection window', () => {
    const { core, events } = setup();
    core.parser.push(encodeSettings([]));
    const padded = Buffer.concat([Buffer.from([3]), Buffer.from('hi'), Buffer.alloc(3)]);
    core.parser.push(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, padded));
    core.parser.push(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, Buffer.from([9, 0])));
    expect(events.slice(1)).toEqual([
      'data 1 hi 6',
      `conn ${H2ErrorCode.PROTOCOL_ERROR} DATA padding too long`,
    ]);
  });

  it('WINDOW_UPDATE: 0 on the connection is a connection error, on a stream a stream error', () => {
    const { core, events, stream } = setup();
    stream(1);
    core.parser.push(encodeSettings([]));
    core.parser.push(encodeWindowUpdate(1, 0));
    core.parser.push(encodeWindowUpdate(0, 0));
    expect(events.slice(1)).toEqual([
      `stream 1 ${H2ErrorCode.PROTOCOL_ERROR} WINDOW_UPDATE of 0`,
      `conn ${H2ErrorCode.PROTOCOL_ERROR} connection WINDOW_UPDATE of 0`,
    ]);
  });

  it('our SETTINGS unacknowledged within the bound: SETTINGS_TIMEOUT; acknowledged: nothing', () => {
    const late = setup(1_000);
    late.core.writeSettings(null, [SettingId.MAX_CONCURRENT_STREAMS, 10]);
    late.clock.advance(999);
    expect(late.events).toEqual([]);
    late.clock.advance(1);
    expect(late.events).toEqual([
      `conn ${H2ErrorCode.SETTINGS_TIMEOUT} SETTINGS not acknowledged within 1000 ms`,
    ]);
    const prompt = setup(1_000);
    prompt.core.writeSettings(null, [SettingId.MAX_CONCURRENT_STREAMS, 10]);
    prompt.core.parser.push(Buffer.concat([encodeSettings([]), encodeSettingsAck()]));
    prompt.clock.advance(5_000);
    expect(prompt.events).toEqual(['settings 0']);
  });
});
