import { describe, expect, it } from 'vitest';
import { H2ErrorCode, SettingId } from './constants.js';
import { PeerSettings } from './peer-settings.js';

function payload(settings: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], i) => {
    b.writeUInt16BE(id, i * 6);
    b.writeUInt32BE(value, i * 6 + 2);
  });
  return b;
}

function apply(peer: PeerSettings, settings: Array<[number, number]>) {
  const b = payload(settings);
  return peer.apply(b, 0, b.length);
}

describe('PeerSettings', () => {
  it('starts at the RFC defaults and applies values in wire order', () => {
    const peer = new PeerSettings(false);
    expect(peer).toMatchObject({
      initialWindowSize: 65_535,
      maxFrameSize: 16_384,
    });
    expect(
      apply(peer, [
        [SettingId.INITIAL_WINDOW_SIZE, 10],
        [SettingId.INITIAL_WINDOW_SIZE, 20],
        [SettingId.MAX_FRAME_SIZE, 20_000],
        [SettingId.MAX_CONCURRENT_STREAMS, 5],
        [0x99, 1],
      ]),
    ).toBeNull();
    expect(peer).toMatchObject({
      initialWindowSize: 20,
      maxFrameSize: 20_000,
      maxConcurrentStreams: 5,
    });
  });

  it('remembers the lowest header table size of the frame for the encoder', () => {
    const peer = new PeerSettings(false);
    apply(peer, [
      [SettingId.HEADER_TABLE_SIZE, 0],
      [SettingId.HEADER_TABLE_SIZE, 8_192],
    ]);
    expect(peer.lowestHeaderTableSize).toBe(0);
    expect(peer.headerTableSize).toBe(8_192);
    apply(peer, []);
    expect(peer.lowestHeaderTableSize).toBe(-1);
  });

  it.each([
    ['a size not a multiple of 6', Buffer.alloc(5), H2ErrorCode.FRAME_SIZE_ERROR],
    [
      'a window over 2^31-1',
      payload([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]]),
      H2ErrorCode.FLOW_CONTROL_ERROR,
    ],
    [
      'a frame size below 16384',
      payload([[SettingId.MAX_FRAME_SIZE, 100]]),
      H2ErrorCode.PROTOCOL_ERROR,
    ],
    ['ENABLE_PUSH of 2', payload([[SettingId.ENABLE_PUSH, 2]]), H2ErrorCode.PROTOCOL_ERROR],
  ])('refuses %s', (_name, buf, code) => {
    expect(new PeerSettings(false).apply(buf, 0, buf.length)?.h2Code).toBe(code);
  });

  it('a server may not enable push; a client may', () => {
    const on = payload([[SettingId.ENABLE_PUSH, 1]]);
    expect(new PeerSettings(true).apply(on, 0, on.length)?.h2Code).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect(new PeerSettings(false).apply(on, 0, on.length)).toBeNull();
  });
});
