// Protocol edge cases against a hand-driven server that writes raw frames.
import { FakeClock } from '@trellis/time';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectH2c } from './connect.js';
import type { H2ConnectOptions } from './connect.js';
import { FrameFlag, FrameType, H2ErrorCode, SettingId } from './constants.js';
import type { H2Error } from './errors.js';
import {
  decodeSettings,
  encodeFrame,
  encodeGoaway,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
} from './frame-codec.js';
import type { H2Session } from './h2-session.js';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';
import {
  collect,
  failure,
  goawayCode,
  isType,
  rstCode,
  startRawServer,
} from './testing/h2-test-support.js';
import type { RawConnection, RawServer } from './testing/h2-test-support.js';

const GET = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'raw'];
const POST = [':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'raw'];

let raw: RawServer;
let sessions: H2Session[] = [];

beforeEach(async () => {
  raw = await startRawServer();
});

afterEach(async () => {
  for (const s of sessions) s.destroy();
  sessions = [];
  await raw.close();
});

/** Connects with the server answering `serverSettings`; returns both ends. */
async function open(
  serverSettings: Array<[number, number]> = [],
  options: Partial<H2ConnectOptions> = {},
): Promise<{ session: H2Session; conn: RawConnection; encoder: HpackEncoder }> {
  const connecting = connectH2c({ host: '127.0.0.1', port: raw.port, ...options });
  const conn = await raw.accept();
  conn.send(encodeSettings(serverSettings));
  const session = await connecting;
  sessions.push(session);
  return { session, conn, encoder: new HpackEncoder() };
}

function headersFrame(
  encoder: HpackEncoder,
  streamId: number,
  fields: string[],
  flags: number = FrameFlag.END_HEADERS,
): Buffer {
  const block = Buffer.alloc(HpackEncoder.maxEncodedLength(fields));
  const end = encoder.encode(fields, block, 0);
  return encodeFrame(FrameType.HEADERS, flags, streamId, block.subarray(0, end));
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

describe('connection setup', () => {
  it('sends its SETTINGS and a connection WINDOW_UPDATE, and ACKs the server SETTINGS', async () => {
    const { conn } = await open([[SettingId.MAX_CONCURRENT_STREAMS, 10]]);
    const settings = await conn.waitFrame((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    expect(decodeSettings(settings.payload, 0, settings.payload.length)).toEqual([
      [SettingId.ENABLE_PUSH, 0],
      [SettingId.INITIAL_WINDOW_SIZE, 1 << 20],
      [SettingId.MAX_HEADER_LIST_SIZE, 64 << 10],
    ]);
    const update = await conn.waitFrame(isType(FrameType.WINDOW_UPDATE, 0));
    expect(update.payload.readUInt32BE(0)).toBe((16 << 20) - 65_535);
    await conn.waitFrame((f) => f.type === FrameType.SETTINGS && f.flags === FrameFlag.ACK);
    expect(conn.frames[0]!.type).toBe(FrameType.SETTINGS);
  });

  it('fails to connect, retriably, when the server preface is not SETTINGS', async () => {
    const connecting = connectH2c({ host: '127.0.0.1', port: raw.port });
    const conn = await raw.accept();
    conn.send(encodePing(Buffer.alloc(8), false));
    const err = (await connecting.catch((e: unknown) => e)) as H2Error;
    expect([err.code, err.retriable]).toEqual(['TRL_H2_CONNECT_FAILED', true]);
    expect((err.cause as H2Error).code).toBe('TRL_H2_PROTOCOL_ERROR');
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('times out on the injected clock when SETTINGS never come', async () => {
    const clock = new FakeClock();
    const connecting = connectH2c({
      host: '127.0.0.1',
      port: raw.port,
      clock,
      connectTimeoutMs: 500,
    });
    const conn = await raw.accept();
    clock.advance(499);
    clock.advance(1);
    const err = (await connecting.catch((e: unknown) => e)) as H2Error;
    expect([err.code, err.retriable]).toEqual(['TRL_H2_CONNECT_TIMEOUT', true]);
    await conn.waitClosed();
  });

  it('reports a refused TCP connect as TRL_H2_CONNECT_FAILED', async () => {
    const port = raw.port;
    await raw.close();
    raw = await startRawServer();
    const err = (await connectH2c({ host: '127.0.0.1', port }).catch((e: unknown) => e)) as H2Error;
    expect([err.code, err.retriable]).toEqual(['TRL_H2_CONNECT_FAILED', true]);
  });
});

describe('connection errors', () => {
  it('answers DATA on stream 0 with GOAWAY PROTOCOL_ERROR and fails open and waiting streams', async () => {
    const { session, conn } = await open([[SettingId.MAX_CONCURRENT_STREAMS, 1]]);
    const first = failure(session.request(GET, { endStream: true }));
    const waiting = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(encodeFrame(FrameType.DATA, 0, 0, Buffer.from('x')));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    const [a, b] = await Promise.all([first, waiting]);
    expect([a.code, a.h2Code, a.retriable]).toEqual(['TRL_H2_PROTOCOL_ERROR', 1, false]);
    expect([b.code, b.retriable]).toEqual(['TRL_H2_CONNECTION_CLOSED', true]);
    expect((await session.closed)?.code).toBe('TRL_H2_PROTOCOL_ERROR');
    await conn.waitClosed();
  });

  it('rejects a frame larger than its SETTINGS_MAX_FRAME_SIZE', async () => {
    const { session, conn } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    conn.send(encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(16_385)));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.FRAME_SIZE_ERROR);
    expect((await s).h2Code).toBe(H2ErrorCode.FRAME_SIZE_ERROR);
  });

  it('rejects an undecodable header block with COMPRESSION_ERROR', async () => {
    const { session, conn } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(encodeFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, Buffer.from([0xff, 0xff])));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.COMPRESSION_ERROR);
    expect((await s).code).toBe('TRL_H2_PROTOCOL_ERROR');
  });

  it('rejects HEADERS on a stream it never opened', async () => {
    const { conn, encoder } = await open();
    conn.send(headersFrame(encoder, 9, [':status', '200']));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('rejects PUSH_PROMISE since push is disabled', async () => {
    const { conn } = await open();
    conn.send(encodeFrame(FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, 1, u32(2)));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('rejects another frame where a CONTINUATION was due', async () => {
    const { session, conn, encoder } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(headersFrame(encoder, 1, [':status', '200'], 0), encodePing(Buffer.alloc(8), false));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect((await s).code).toBe('TRL_H2_PROTOCOL_ERROR');
  });

  it('rejects invalid SETTINGS values', async () => {
    const cases: Array<[Array<[number, number]>, number]> = [
      [[[SettingId.MAX_FRAME_SIZE, 100]], H2ErrorCode.PROTOCOL_ERROR],
      [[[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]], H2ErrorCode.FLOW_CONTROL_ERROR],
      [[[SettingId.ENABLE_PUSH, 1]], H2ErrorCode.PROTOCOL_ERROR],
    ];
    for (const [settings, code] of cases) {
      const { conn } = await open();
      conn.send(encodeSettings(settings));
      expect(await goawayCode(conn)).toBe(code);
    }
  });

  it('rejects a connection WINDOW_UPDATE that overflows the window', async () => {
    const { conn } = await open();
    conn.send(encodeWindowUpdate(0, 0x7fffffff));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('rejects a SETTINGS frame whose size is not a multiple of 6', async () => {
    const { conn } = await open();
    conn.send(encodeFrame(FrameType.SETTINGS, 0, 0, Buffer.alloc(5)));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.FRAME_SIZE_ERROR);
  });
});

describe('stream errors', () => {
  it('resets a stream whose response lacks :status and keeps serving others', async () => {
    const { session, conn, encoder } = await open();
    const bad = failure(session.request(GET, { endStream: true }));
    const good = collect(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 3));
    conn.send(headersFrame(encoder, 1, ['x', '1'], FrameFlag.END_HEADERS | FrameFlag.END_STREAM));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect((await bad).code).toBe('TRL_H2_PROTOCOL_ERROR');
    conn.send(
      headersFrame(encoder, 3, [':status', '204'], FrameFlag.END_HEADERS | FrameFlag.END_STREAM),
    );
    expect((await good).status).toBe(204);
  });

  it('resets a stream that receives more DATA than its window', async () => {
    const { session, conn, encoder } = await open([], { settings: { initialWindowSize: 100 } });
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(
      headersFrame(encoder, 1, [':status', '200']),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(101)),
    );
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.FLOW_CONTROL_ERROR);
    expect((await s).h2Code).toBe(H2ErrorCode.FLOW_CONTROL_ERROR);
    expect(session.isAccepting).toBe(true);
  });

  it('resets a stream that gets DATA before its response headers', async () => {
    const { session, conn } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(encodeFrame(FrameType.DATA, 0, 1, Buffer.from('early')));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect((await s).code).toBe('TRL_H2_PROTOCOL_ERROR');
  });

  it('resets a stream whose trailers lack END_STREAM', async () => {
    const { session, conn, encoder } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(headersFrame(encoder, 1, [':status', '200']), headersFrame(encoder, 1, ['x-t', '1']));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect((await s).code).toBe('TRL_H2_PROTOCOL_ERROR');
  });

  it('treats RST_STREAM(NO_ERROR) before END_STREAM as a reset, not a complete response', async () => {
    const { session, conn, encoder } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(headersFrame(encoder, 1, [':status', '200']), encodeRstStream(1, 0));
    const err = await s;
    expect([err.code, err.h2Code, err.retriable]).toEqual(['TRL_H2_STREAM_RESET', 0, false]);
  });
});

describe('frames the client must understand', () => {
  it('strips DATA padding and skips HEADERS priority and padding fields', async () => {
    const { session, conn, encoder } = await open();
    const res = collect(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    const block = Buffer.alloc(64);
    const end = encoder.encode([':status', '200', 'x-p', 'q'], block, 0);
    const headersPayload = Buffer.concat([
      Buffer.from([3]), // pad length
      Buffer.from([0, 0, 0, 0, 16]), // priority: dependency + weight
      block.subarray(0, end),
      Buffer.alloc(3),
    ]);
    conn.send(
      encodeFrame(
        FrameType.HEADERS,
        FrameFlag.END_HEADERS | FrameFlag.PADDED | FrameFlag.PRIORITY,
        1,
        headersPayload,
      ),
      encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, Buffer.from([2, 0x61, 0x62, 0, 0])),
      encodeFrame(FrameType.DATA, FrameFlag.PADDED | FrameFlag.END_STREAM, 1, Buffer.from([0])),
    );
    const r = await res;
    expect(r.headers).toEqual(['x-p', 'q']);
    expect(r.body.toString()).toBe('ab');
  });

  it('treats padding longer than the frame as a connection error', async () => {
    const { session, conn, encoder } = await open();
    const s = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(
      headersFrame(encoder, 1, [':status', '200']),
      encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, Buffer.from([4, 0, 0, 0])),
    );
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect((await s).code).toBe('TRL_H2_PROTOCOL_ERROR');
  });

  it('answers a server PING with the same payload', async () => {
    const { conn } = await open();
    conn.send(encodePing(Buffer.from('pingpong'), false));
    const ack = await conn.waitFrame((f) => f.type === FrameType.PING && f.flags === FrameFlag.ACK);
    expect(ack.payload.toString()).toBe('pingpong');
  });

  it('stops sending the request body after RST_STREAM(NO_ERROR) following a complete response', async () => {
    const { session, conn, encoder } = await open();
    const stream = session.request(POST);
    const res = collect(stream);
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    conn.send(
      headersFrame(encoder, 1, [':status', '200'], FrameFlag.END_HEADERS | FrameFlag.END_STREAM),
      encodeRstStream(1, H2ErrorCode.NO_ERROR),
    );
    expect((await res).status).toBe(200);
    await session.ping();
    expect(stream.write(Buffer.from('late'))).toBe(true);
    stream.end();
    await session.ping();
    expect(conn.frames.filter(isType(FrameType.DATA, 1))).toEqual([]);
    expect(session.activeStreams).toBe(0);
  });

  it('ignores frames for a stream it reset but still credits the connection window', async () => {
    const { session, conn, encoder } = await open([], {
      settings: { connectionWindowSize: 65_535, initialWindowSize: 65_535 },
    });
    const stream = session.request(GET, { endStream: true });
    await conn.waitFrame(isType(FrameType.HEADERS, 1));
    stream.reset();
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.CANCEL);
    conn.send(
      headersFrame(encoder, 1, [':status', '200']),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(16_000)),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(16_000)),
      encodeFrame(FrameType.DATA, FrameFlag.END_STREAM, 1, Buffer.alloc(1_000)),
    );
    const update = await conn.waitFrame(isType(FrameType.WINDOW_UPDATE, 0));
    expect(update.payload.readUInt32BE(0)).toBe(33_000);
    expect(session.isAccepting).toBe(true);
  });
});

describe('sending within the server limits', () => {
  it('honours the stream window and MAX_FRAME_SIZE, resuming on WINDOW_UPDATE', async () => {
    const { session, conn } = await open([[SettingId.INITIAL_WINDOW_SIZE, 20_000]]);
    const stream = session.request(POST);
    expect(stream.write(Buffer.alloc(30_000, 1))).toBe(true);
    stream.end();
    await session.ping();
    expect(conn.frames.filter(isType(FrameType.DATA, 1)).map((f) => f.payload.length)).toEqual([
      16_384, 3_616,
    ]);
    expect(stream.writableLength).toBe(10_000);
    conn.send(encodeWindowUpdate(1, 10_000));
    const last = await conn.waitFrame(
      (f) => isType(FrameType.DATA, 1)(f) && f.flags === FrameFlag.END_STREAM,
    );
    expect(last.payload.length).toBe(10_000);
  });

  it('applies a changed INITIAL_WINDOW_SIZE to open streams', async () => {
    const { session, conn } = await open([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    const stream = session.request(POST);
    stream.write(Buffer.alloc(30, 2));
    await session.ping();
    expect(conn.frames.filter(isType(FrameType.DATA, 1)).map((f) => f.payload.length)).toEqual([
      10,
    ]);
    conn.send(encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, 30]]));
    await session.ping();
    expect(conn.frames.filter(isType(FrameType.DATA, 1)).map((f) => f.payload.length)).toEqual([
      10, 20,
    ]);
  });

  it('shares the connection window between blocked streams, one frame each in turn', async () => {
    const { session, conn } = await open([[SettingId.INITIAL_WINDOW_SIZE, 1 << 20]]);
    const a = session.request(POST);
    const b = session.request(POST);
    a.write(Buffer.alloc(65_535, 1)); // uses the whole connection window
    a.write(Buffer.alloc(30_000, 1));
    b.write(Buffer.alloc(30_000, 2));
    await session.ping();
    const data = () => conn.frames.filter((f) => f.type === FrameType.DATA);
    expect(data().map((f) => f.streamId)).toEqual([1, 1, 1, 1]);
    conn.send(encodeWindowUpdate(0, 30_000));
    await session.ping();
    expect(
      data()
        .slice(4)
        .map((f) => [f.streamId, f.payload.length]),
    ).toEqual([
      [1, 16_384],
      [3, 13_616],
    ]);
  });

  it('sends trailers as HEADERS with END_STREAM after the body', async () => {
    const { session, conn } = await open();
    const stream = session.request(POST);
    stream.write(Buffer.from('body'));
    stream.end([['grpc-status', '0']]);
    const trailers = await conn.waitFrame(
      (f) => isType(FrameType.HEADERS, 1)(f) && (f.flags & FrameFlag.END_STREAM) !== 0,
    );
    const decoder = new HpackDecoder(4096);
    const requestHeaders = conn.frames.find(isType(FrameType.HEADERS, 1))!;
    decoder.decode(requestHeaders.payload, []);
    const fields: string[] = [];
    decoder.decode(trailers.payload, fields);
    expect(fields).toEqual(['grpc-status', '0']);
    const kinds = conn.frames.filter((f) => f.streamId === 1).map((f) => f.type);
    expect(kinds).toEqual([FrameType.HEADERS, FrameType.DATA, FrameType.HEADERS]);
  });

  it('announces a zero HPACK table when the server asks for it', async () => {
    const { session, conn } = await open([[SettingId.HEADER_TABLE_SIZE, 0]]);
    session.request(GET, { endStream: true });
    const h = await conn.waitFrame(isType(FrameType.HEADERS, 1));
    expect(h.payload[0]).toBe(0x20);
  });

  it('opens waiting streams in order when a slot frees or the limit rises', async () => {
    const { session, conn, encoder } = await open([[SettingId.MAX_CONCURRENT_STREAMS, 1]]);
    const first = collect(session.request(GET, { endStream: true }));
    const second = session.request(GET, { endStream: true });
    const third = session.request(GET, { endStream: true });
    await session.ping();
    expect([session.activeStreams, session.pendingStreams, second.id]).toEqual([1, 2, 0]);
    conn.send(
      headersFrame(encoder, 1, [':status', '200'], FrameFlag.END_HEADERS | FrameFlag.END_STREAM),
    );
    await first;
    expect([second.id, third.id]).toEqual([3, 0]);
    conn.send(encodeSettings([[SettingId.MAX_CONCURRENT_STREAMS, 5]]));
    await session.ping();
    expect(third.id).toBe(5);
  });

  it('fails streams above the GOAWAY last-stream-id and ends once the rest finish', async () => {
    const { session, conn, encoder } = await open();
    const kept = collect(session.request(GET, { endStream: true }));
    const dropped = failure(session.request(GET, { endStream: true }));
    await conn.waitFrame(isType(FrameType.HEADERS, 3));
    conn.send(encodeGoaway(1, H2ErrorCode.NO_ERROR));
    const err = await dropped;
    expect([err.code, err.retriable]).toEqual(['TRL_H2_GOAWAY', true]);
    conn.send(
      headersFrame(encoder, 1, [':status', '200'], FrameFlag.END_HEADERS | FrameFlag.END_STREAM),
    );
    expect((await kept).status).toBe(200);
    expect(await goawayCode(conn)).toBe(H2ErrorCode.NO_ERROR);
    await conn.waitClosed();
    expect(await session.closed).toBeUndefined();
  });
});

describe('settings ack', () => {
  it('does not resend SETTINGS ACK for an ACK from the server', async () => {
    const { session, conn } = await open();
    conn.send(encodeSettingsAck());
    await session.ping();
    const acks = conn.frames.filter(
      (f) => f.type === FrameType.SETTINGS && f.flags === FrameFlag.ACK,
    );
    expect(acks).toHaveLength(1);
  });
});
