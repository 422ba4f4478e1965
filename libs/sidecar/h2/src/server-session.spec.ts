// The server session driven with raw frames over a real socket: preface and SETTINGS, stream
// states, request validation, limits, flow control both ways, abuse limits, drain.
import net from 'node:net';
import { FakeClock } from '@trellis/time';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_PREFACE, FrameFlag, FrameType, H2ErrorCode, SettingId } from './constants.js';
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
import { HpackEncoder } from './hpack-encoder.js';
import type { H2ServerStream } from './server-stream.js';
import { RawConnection, goawayCode, isType, rstCode } from './testing/h2-test-support.js';
import type { RawFrame } from './testing/h2-test-support.js';
import {
  decodeHeaders,
  echoStream,
  headersFrame,
  rawClient,
  startTestServer,
} from './testing/h2-server-test-support.js';
import type { TestH2Server } from './testing/h2-server-test-support.js';

const GET = [':method', 'GET', ':scheme', 'http', ':path', '/x', ':authority', 'svc'];
const POST = [':method', 'POST', ':scheme', 'http', ':path', '/up', ':authority', 'svc'];

let server: TestH2Server | undefined;
const conns: RawConnection[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.socket.destroy();
  await server?.close();
  server = undefined;
});

async function setup(
  onStream: (s: H2ServerStream) => void = echoStream,
  options: Parameters<typeof startTestServer>[1] = {},
) {
  server = await startTestServer(onStream, options);
  const conn = await rawClient(server.port);
  conns.push(conn);
  return { conn, encoder: new HpackEncoder(), srv: server };
}

/** A connection to a fresh server that has sent nothing yet, not even the preface. */
async function silentClient(): Promise<RawConnection> {
  server = await startTestServer(echoStream);
  const conn = new RawConnection(net.connect({ host: '127.0.0.1', port: server.port }), 0);
  conns.push(conn);
  return conn;
}

function data(id: number, body: string | Buffer, flags = 0): Buffer {
  return encodeFrame(FrameType.DATA, flags, id, Buffer.isBuffer(body) ? body : Buffer.from(body));
}

function body(frames: readonly RawFrame[], id: number): Buffer {
  return Buffer.concat(frames.filter(isType(FrameType.DATA, id)).map((f) => f.payload));
}

async function ended(conn: RawConnection, id: number): Promise<void> {
  await conn.waitFrame((f) => f.streamId === id && (f.flags & FrameFlag.END_STREAM) !== 0);
}

describe('connection start', () => {
  it('sends SETTINGS (streams, 1 MiB window, header list) and opens the connection window', async () => {
    const { conn } = await setup(echoStream, { maxConcurrentStreams: 7, maxHeaderListSize: 9000 });
    const settings = await conn.waitFrame(isType(FrameType.SETTINGS));
    expect(new Map(decodeSettings(settings.payload, 0, settings.payload.length))).toEqual(
      new Map([
        [SettingId.MAX_CONCURRENT_STREAMS, 7],
        [SettingId.INITIAL_WINDOW_SIZE, 1 << 20],
        [SettingId.MAX_HEADER_LIST_SIZE, 9000],
      ]),
    );
    const update = await conn.waitFrame(isType(FrameType.WINDOW_UPDATE, 0));
    expect(update.payload.readUInt32BE(0)).toBe((16 << 20) - 65_535);
    const ack = await conn.waitFrame((f) => f.type === FrameType.SETTINGS && f.flags === 1);
    expect(ack.payload.length).toBe(0);
  });

  it('a wrong preface: GOAWAY PROTOCOL_ERROR and close', async () => {
    const conn = await silentClient();
    conn.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    await conn.waitClosed();
  });

  it('a first frame other than SETTINGS is a PROTOCOL_ERROR', async () => {
    const conn = await silentClient();
    conn.send(CLIENT_PREFACE, encodePing(Buffer.alloc(8), false));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('answers PING with the same payload', async () => {
    const { conn } = await setup();
    conn.send(encodePing(Buffer.from('12345678'), false));
    const ack = await conn.waitFrame((f) => f.type === FrameType.PING && f.flags === 1);
    expect(ack.payload.toString()).toBe('12345678');
  });
});

describe('requests', () => {
  it('serves a GET and a POST with a body, each on its own stream', async () => {
    const { conn, encoder } = await setup();
    conn.send(
      headersFrame(encoder, 1, GET, FrameFlag.END_STREAM),
      headersFrame(encoder, 3, POST),
      data(3, 'hello'),
      data(3, ' world', FrameFlag.END_STREAM),
    );
    await ended(conn, 1);
    await ended(conn, 3);
    const heads = decodeHeaders(conn.frames);
    expect(heads.get(1)?.[0]?.slice(0, 2)).toEqual([':status', '200']);
    expect(JSON.parse(body(conn.frames, 1).toString())).toMatchObject({
      method: 'GET',
      path: '/x',
    });
    expect(JSON.parse(body(conn.frames, 3).toString())).toMatchObject({ bodyLength: 11 });
  });

  it('a body chunk and the end written in one tick leave as one DATA frame with END_STREAM', async () => {
    const { conn, encoder } = await setup((s) => {
      s.respond(200, []);
      s.write(Buffer.from('abc'));
      s.end();
    });
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    await ended(conn, 1);
    const frames = conn.frames.filter(isType(FrameType.DATA, 1));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.flags).toBe(FrameFlag.END_STREAM);
  });

  it('relays request trailers and sends response trailers (gRPC shape)', async () => {
    const { conn, encoder } = await setup((s) => {
      s.setHandler({
        onTrailers: (t) => {
          s.respond(200, ['content-type', 'application/grpc']);
          s.write(Buffer.from('msg'));
          s.end(['grpc-status', '0', 'x-got', t[1]!]);
        },
      });
      s.resume();
    });
    conn.send(
      headersFrame(encoder, 1, POST),
      data(1, 'x'),
      headersFrame(encoder, 1, ['x-req', 'r1'], FrameFlag.END_STREAM),
    );
    await ended(conn, 1);
    const heads = decodeHeaders(conn.frames).get(1)!;
    expect(heads[1]).toEqual(['grpc-status', '0', 'x-got', 'r1']);
  });

  it('an interim 103 goes as HEADERS without END_STREAM, then the whole response', async () => {
    const { conn, encoder } = await setup((s) => {
      s.informational(103, ['link', '</style.css>; rel=preload; as=style']);
      s.respond(200, ['content-type', 'text/plain']);
      s.write(Buffer.from('body'));
      s.end();
    });
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    await ended(conn, 1);
    const frames = conn.frames.filter((f) => f.streamId === 1);
    expect(frames.map((f) => [f.type, f.flags & FrameFlag.END_STREAM])).toEqual([
      [FrameType.HEADERS, 0],
      [FrameType.HEADERS, 0],
      [FrameType.DATA, FrameFlag.END_STREAM],
    ]);
    expect(decodeHeaders(conn.frames).get(1)).toEqual([
      [':status', '103', 'link', '</style.css>; rel=preload; as=style'],
      [':status', '200', 'content-type', 'text/plain'],
    ]);
    expect(body(conn.frames, 1).toString()).toBe('body');
  });

  it('a trailers-only response: HEADERS with END_STREAM', async () => {
    const { conn, encoder } = await setup((s) =>
      s.respond(200, ['content-type', 'application/grpc', 'grpc-status', '12'], true),
    );
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    const head = await conn.waitFrame(isType(FrameType.HEADERS, 1));
    expect(head.flags & FrameFlag.END_STREAM).toBe(FrameFlag.END_STREAM);
  });

  it.each([
    ['an upper-case name', [...GET, 'X-Up', '1']],
    ['a connection-specific field', [...GET, 'connection', 'close']],
    ['te other than trailers', [...GET, 'te', 'gzip']],
    ['a response pseudo-header', [...GET, ':status', '200']],
    ['a pseudo-header after a regular field', [':method', 'GET', 'x', '1', ':path', '/']],
    ['no :path', [':method', 'GET', ':scheme', 'http']],
    ['an empty :path', [':method', 'GET', ':scheme', 'http', ':path', '']],
    ['a duplicate :method', [...GET, ':method', 'GET']],
    ['a value with a leading space', [...GET, 'x', ' v']],
  ])('%s: RST_STREAM PROTOCOL_ERROR, never handed over', async (_name, fields) => {
    const { conn, encoder, srv } = await setup();
    conn.send(headersFrame(encoder, 1, fields, FrameFlag.END_STREAM));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect(srv.streams).toHaveLength(0);
    // The connection stays usable.
    conn.send(headersFrame(encoder, 3, GET, FrameFlag.END_STREAM));
    await ended(conn, 3);
  });

  it.each([
    ['longer', '2'],
    ['shorter', '9'],
  ])('DATA %s than content-length: RST_STREAM PROTOCOL_ERROR', async (_, contentLength) => {
    const { conn, encoder } = await setup();
    conn.send(
      headersFrame(encoder, 1, [...POST, 'content-length', contentLength]),
      data(1, 'hello', FrameFlag.END_STREAM),
    );
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('a header list over the limit is answered 431', async () => {
    const { conn, encoder, srv } = await setup(echoStream, { maxHeaderCount: 3 });
    conn.send(headersFrame(encoder, 1, [...GET, 'a', '1', 'b', '2', 'c', '3', 'd', '4'], 1));
    await ended(conn, 1);
    expect(decodeHeaders(conn.frames).get(1)?.[0]?.slice(0, 2)).toEqual([':status', '431']);
    expect(srv.streams).toHaveLength(0);
  });

  it('a 431 to a client whose stream window is 0 goes without a body', async () => {
    server = await startTestServer(echoStream, { maxHeaderCount: 1 });
    const conn = await rawClient(server.port, [[SettingId.INITIAL_WINDOW_SIZE, 0]]);
    conns.push(conn);
    conn.send(headersFrame(new HpackEncoder(), 1, [...GET, 'a', '1', 'b', '2'], 1));
    const head = await conn.waitFrame(isType(FrameType.HEADERS, 1));
    expect(head.flags & FrameFlag.END_STREAM).toBe(FrameFlag.END_STREAM);
    expect(decodeHeaders(conn.frames).get(1)?.[0]?.slice(0, 2)).toEqual([':status', '431']);
    expect(conn.frames.some(isType(FrameType.DATA, 1))).toBe(false);
  });

  it('streams over the concurrency limit are refused with REFUSED_STREAM', async () => {
    const held: H2ServerStream[] = [];
    const { conn, encoder } = await setup((s) => held.push(s), { maxConcurrentStreams: 2 });
    conn.send(
      headersFrame(encoder, 1, GET, FrameFlag.END_STREAM),
      headersFrame(encoder, 3, GET, FrameFlag.END_STREAM),
      headersFrame(encoder, 5, GET, FrameFlag.END_STREAM),
    );
    expect(await rstCode(conn, 5)).toBe(H2ErrorCode.REFUSED_STREAM);
    expect(held.map((s) => s.id)).toEqual([1, 3]);
  });

  it('a stream reset in the same read as its HEADERS is never handed over', async () => {
    const { conn, encoder, srv } = await setup();
    conn.send(
      headersFrame(encoder, 1, GET, FrameFlag.END_STREAM),
      encodeRstStream(1, H2ErrorCode.CANCEL),
      headersFrame(encoder, 3, GET, FrameFlag.END_STREAM),
    );
    await ended(conn, 3);
    expect(srv.streams.map((s) => s.id)).toEqual([3]);
  });

  it('a client reset reaches the stream handler as onError', async () => {
    const errors: number[] = [];
    const { conn, encoder } = await setup((s) => {
      s.setHandler({ onError: (e) => errors.push(e.h2Code) });
      s.resume();
    });
    conn.send(headersFrame(encoder, 1, POST));
    await new Promise((r) => setTimeout(r, 50));
    conn.send(encodeRstStream(1, H2ErrorCode.CANCEL));
    await expect.poll(() => errors).toEqual([H2ErrorCode.CANCEL]);
  });

  it('a complete response before the whole request: RST_STREAM NO_ERROR', async () => {
    const { conn, encoder } = await setup((s) => {
      s.respond(413, []);
      s.end();
    });
    conn.send(headersFrame(encoder, 1, POST), data(1, 'part'));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.NO_ERROR);
  });
});

describe('Upgrade: h2c', () => {
  it('HTTP2-Settings with an out-of-range value: 101, then GOAWAY FLOW_CONTROL_ERROR', async () => {
    server = await startTestServer(echoStream);
    const { connect } = await import('node:net');
    const socket = connect({ host: '127.0.0.1', port: server.port });
    const { RawConnection } = await import('./testing/h2-test-support.js');
    const switching =
      'HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n';
    const conn = new RawConnection(socket, switching.length);
    conns.push(conn);
    // INITIAL_WINDOW_SIZE = 2^31: base64url of 00 04 80 00 00 00.
    socket.write(
      'GET / HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
        'HTTP2-Settings: AASAAAAA\r\n\r\n',
    );
    expect(await goawayCode(conn)).toBe(H2ErrorCode.FLOW_CONTROL_ERROR);
    expect(server.streams).toHaveLength(0);
  });
});

describe('frame sequencing and stream states', () => {
  it('a frame between HEADERS and CONTINUATION: GOAWAY PROTOCOL_ERROR', async () => {
    const { conn, encoder } = await setup();
    const block = headersFrame(encoder, 1, GET).subarray(9);
    conn.send(
      encodeFrame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 3)),
      encodePing(Buffer.alloc(8), false),
    );
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('HEADERS split over CONTINUATION frames is served', async () => {
    const { conn, encoder } = await setup();
    const block = headersFrame(encoder, 1, GET).subarray(9);
    conn.send(
      encodeFrame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 3)),
      encodeFrame(FrameType.CONTINUATION, 0, 1, block.subarray(3, 6)),
      encodeFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, block.subarray(6)),
    );
    await ended(conn, 1);
  });

  it('an even stream id: GOAWAY PROTOCOL_ERROR', async () => {
    const { conn, encoder } = await setup();
    conn.send(headersFrame(encoder, 2, GET, FrameFlag.END_STREAM));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('a decreasing stream id: GOAWAY STREAM_CLOSED with the last stream id', async () => {
    const { conn, encoder } = await setup();
    conn.send(
      headersFrame(encoder, 5, GET, FrameFlag.END_STREAM),
      headersFrame(encoder, 3, GET, FrameFlag.END_STREAM),
    );
    const goaway = await conn.waitFrame(isType(FrameType.GOAWAY));
    expect(goaway.payload.readUInt32BE(0)).toBe(5);
    expect(goaway.payload.readUInt32BE(4)).toBe(H2ErrorCode.STREAM_CLOSED);
  });

  it('DATA on stream 0 or an idle stream: GOAWAY PROTOCOL_ERROR', async () => {
    const { conn } = await setup();
    conn.send(data(7, 'x'));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    await conn.waitClosed();
  });

  it('DATA after END_STREAM: RST_STREAM STREAM_CLOSED', async () => {
    const { conn, encoder } = await setup(() => undefined);
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM), data(1, 'x'));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.STREAM_CLOSED);
  });

  it('PRIORITY is accepted; a self-dependency resets the stream; a bad size too', async () => {
    const { conn, encoder } = await setup();
    const prio = (id: number, dep: number, size = 5) => {
      const p = Buffer.alloc(size);
      if (size >= 4) p.writeUInt32BE(dep);
      return encodeFrame(FrameType.PRIORITY, 0, id, p);
    };
    conn.send(prio(9, 1), prio(11, 11), prio(13, 1, 4));
    expect(await rstCode(conn, 11)).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect(await rstCode(conn, 13)).toBe(H2ErrorCode.FRAME_SIZE_ERROR);
    conn.send(headersFrame(encoder, 15, GET, FrameFlag.END_STREAM));
    await ended(conn, 15);
    expect(conn.frames.some(isType(FrameType.GOAWAY))).toBe(false);
  });

  it('PUSH_PROMISE from a client: GOAWAY PROTOCOL_ERROR', async () => {
    const { conn } = await setup();
    conn.send(encodeFrame(FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, 1, Buffer.alloc(4)));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it('an undecodable header block: GOAWAY COMPRESSION_ERROR', async () => {
    const { conn } = await setup();
    conn.send(encodeFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, Buffer.from([0xff, 0xff])));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.COMPRESSION_ERROR);
  });
});

describe('flow control', () => {
  it('a WINDOW_UPDATE overflowing the connection window: GOAWAY FLOW_CONTROL_ERROR', async () => {
    const { conn } = await setup();
    conn.send(encodeWindowUpdate(0, 0x7fffffff));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.FLOW_CONTROL_ERROR);
    await conn.waitClosed();
  });

  it('DATA beyond the stream window: RST_STREAM FLOW_CONTROL_ERROR', async () => {
    const { conn, encoder } = await setup(() => undefined, { initialWindowSize: 10 });
    conn.send(headersFrame(encoder, 1, POST), data(1, Buffer.alloc(11)));
    expect(await rstCode(conn, 1)).toBe(H2ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('credits the request window only as the consumer takes the body', async () => {
    let stream: H2ServerStream | undefined;
    const { conn, encoder } = await setup((s) => (stream = s), { initialWindowSize: 100 });
    conn.send(headersFrame(encoder, 1, POST), data(1, Buffer.alloc(100)));
    await expect.poll(() => stream?.receivedBytes).toBe(100);
    await new Promise((r) => setTimeout(r, 30));
    expect(conn.frames.some(isType(FrameType.WINDOW_UPDATE, 1))).toBe(false);
    let got = 0;
    stream!.setHandler({ onData: (c) => (got += c.length) });
    stream!.resume();
    const update = await conn.waitFrame(isType(FrameType.WINDOW_UPDATE, 1));
    expect(update.payload.readUInt32BE(0)).toBe(100);
    expect(got).toBe(100);
  });

  it('credits the connection window for held body only once taken, or dropped with its stream', async () => {
    const held: H2ServerStream[] = [];
    const { conn, encoder } = await setup((s) => held.push(s), {
      initialWindowSize: 60_000,
      connectionWindowSize: 104_000,
    });
    const connectionUpdates = () =>
      conn.frames.filter(isType(FrameType.WINDOW_UPDATE, 0)).map((f) => f.payload.readUInt32BE(0));
    const fiveFrames = (id: number) =>
      Array.from({ length: 4 }, () => data(id, Buffer.alloc(13_000)));
    conn.send(headersFrame(encoder, 1, POST), ...fiveFrames(1));
    conn.send(headersFrame(encoder, 3, POST), ...fiveFrames(3));
    await expect.poll(() => held.map((s) => s.receivedBytes)).toEqual([52_000, 52_000]);
    await new Promise((r) => setTimeout(r, 30));
    // Only the preface's opening of the window: nothing held was credited.
    expect(connectionUpdates()).toEqual([104_000 - 65_535]);
    held[0]!.resume();
    await expect.poll(connectionUpdates).toEqual([104_000 - 65_535, 52_000]);
    held[1]!.reset();
    await expect.poll(connectionUpdates).toEqual([104_000 - 65_535, 52_000, 52_000]);
  });

  it('response DATA waits for the stream window, and follows SETTINGS_INITIAL_WINDOW_SIZE', async () => {
    server = await startTestServer((s) => {
      s.respond(200, []);
      s.write(Buffer.alloc(30, 1));
      s.end();
    });
    const conn = await rawClient(server.port, [[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    conns.push(conn);
    const encoder = new HpackEncoder();
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    await conn.waitFrame(isType(FrameType.DATA, 1));
    await new Promise((r) => setTimeout(r, 30));
    expect(body(conn.frames, 1).length).toBe(10);
    // Lowering the window makes it negative (10 - 15): nothing may go until it is positive.
    conn.send(encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, -5 + 10]]));
    conn.send(encodeWindowUpdate(1, 4));
    await new Promise((r) => setTimeout(r, 30));
    expect(body(conn.frames, 1).length).toBe(10);
    conn.send(encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, 100]]));
    await ended(conn, 1);
    expect(body(conn.frames, 1).length).toBe(30);
  });

  it('write() returns false at the high-water mark and onDrain follows', async () => {
    const events: string[] = [];
    const { conn, encoder } = await setup(
      (s) => {
        s.setHandler({ onDrain: () => events.push('drain') });
        s.respond(200, []);
        events.push(String(s.write(Buffer.alloc(50))));
        s.end();
      },
      { streamHighWaterMark: 10 },
    );
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    await ended(conn, 1);
    expect(events).toEqual(['false', 'drain']);
  });
});

describe('abuse limits', () => {
  it('rapid reset: 300 HEADERS + RST_STREAM pairs get GOAWAY ENHANCE_YOUR_CALM', async () => {
    const { conn, encoder, srv } = await setup(() => undefined);
    const frames: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      frames.push(headersFrame(encoder, 1 + 2 * i, GET, 1), encodeRstStream(1 + 2 * i, 8));
    }
    conn.send(...frames);
    expect(await goawayCode(conn)).toBe(H2ErrorCode.ENHANCE_YOUR_CALM);
    expect(srv.clientErrors).toContain(`TRL_H2_ABUSE:${H2ErrorCode.ENHANCE_YOUR_CALM}`);
  });

  it('a PING flood gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const { conn } = await setup();
    conn.send(...Array.from({ length: 1_100 }, () => encodePing(Buffer.alloc(8), false)));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('a WINDOW_UPDATE flood (tiny increments, nothing sent to earn them) gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const { conn, srv } = await setup();
    conn.send(...Array.from({ length: 1_100 }, () => encodeWindowUpdate(0, 1)));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.ENHANCE_YOUR_CALM);
    expect(srv.clientErrors).toContain(`TRL_H2_ABUSE:${H2ErrorCode.ENHANCE_YOUR_CALM}`);
  });

  it('WINDOW_UPDATEs in proportion to the DATA frames received are not a flood', async () => {
    const chunk = Buffer.alloc(100, 7);
    const { conn, encoder } = await setup(
      (s) => {
        s.respond(200, []);
        for (let i = 0; i < 150; i++) s.write(chunk);
        s.end();
      },
      { streamHighWaterMark: 1 << 20 },
    );
    // A 100-byte stream window, credited back 10 bytes at a time: 1 500 WINDOW_UPDATEs in all,
    // more than the fixed budget, fewer than 10 per DATA frame received.
    conn.send(encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, 100]]));
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    const tenUpdates = Array.from({ length: 10 }, () => encodeWindowUpdate(1, 10));
    for (let received = 100; received < 15_000; received += 100) {
      await conn.waitFrame(() => body(conn.frames, 1).length >= received);
      conn.send(...tenUpdates);
    }
    await ended(conn, 1);
    expect(conn.frames.some(isType(FrameType.GOAWAY))).toBe(false);
  });

  it('a flood of empty DATA frames gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const { conn, encoder } = await setup(() => undefined);
    conn.send(headersFrame(encoder, 1, POST), ...Array.from({ length: 200 }, () => data(1, '')));
    expect(await goawayCode(conn)).toBe(H2ErrorCode.ENHANCE_YOUR_CALM);
  });
});

describe('goaway and drain', () => {
  it('drain(): GOAWAY 2^31-1 and a PING, then after the round trip GOAWAY with the last stream; open streams finish', async () => {
    const held: H2ServerStream[] = [];
    const { conn, encoder, srv } = await setup((s) => held.push(s));
    conn.answerPings = false;
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    await expect.poll(() => held.length).toBe(1);
    srv.server.drain();
    const first = await conn.waitFrame(isType(FrameType.GOAWAY));
    expect(first.payload.readUInt32BE(0)).toBe(0x7fff_ffff);
    expect(first.payload.readUInt32BE(4)).toBe(H2ErrorCode.NO_ERROR);
    const ping = await conn.waitFrame((f) => f.type === FrameType.PING && f.flags === 0);
    // Opened before the client saw the GOAWAY (the PING is not answered yet): still served.
    conn.send(headersFrame(encoder, 3, GET, FrameFlag.END_STREAM));
    await expect.poll(() => held.length).toBe(2);
    conn.send(encodePing(ping.payload, true));
    const goaways = () => conn.frames.filter(isType(FrameType.GOAWAY));
    await expect.poll(() => goaways().length).toBe(2);
    expect(goaways()[1]!.payload.readUInt32BE(0)).toBe(3);
    conn.send(headersFrame(encoder, 5, GET, FrameFlag.END_STREAM));
    expect(await rstCode(conn, 5)).toBe(H2ErrorCode.REFUSED_STREAM);
    held[1]!.respond(200, [], true);
    await ended(conn, 3);
    expect(conn.closed).toBe(false);
    held[0]!.respond(200, [], true);
    await ended(conn, 1);
    await conn.waitClosed();
  });

  it('drain(): a client that never answers the PING gets the final GOAWAY after 1 s', async () => {
    const clock = new FakeClock();
    const { conn, srv } = await setup(echoStream, { clock });
    conn.answerPings = false;
    await conn.waitFrame(isType(FrameType.SETTINGS));
    srv.server.drain();
    await conn.waitFrame(isType(FrameType.GOAWAY));
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 20));
    expect(conn.frames.filter(isType(FrameType.GOAWAY))).toHaveLength(1);
    clock.advance(1);
    await conn.waitClosed();
    const goaways = conn.frames.filter(isType(FrameType.GOAWAY));
    expect(goaways).toHaveLength(2);
    expect(goaways[1]!.payload.readUInt32BE(0)).toBe(0);
  });

  it('a client GOAWAY: the connection closes once its streams are done', async () => {
    const { conn } = await setup();
    conn.send(encodeGoaway(0, H2ErrorCode.NO_ERROR));
    await conn.waitClosed();
  });

  it('our SETTINGS unacknowledged for settingsTimeoutMs: GOAWAY SETTINGS_TIMEOUT', async () => {
    const clock = new FakeClock();
    const { conn, srv } = await setup(echoStream, { clock, settingsTimeoutMs: 500 });
    await conn.waitFrame(isType(FrameType.SETTINGS));
    clock.advance(499);
    await new Promise((r) => setTimeout(r, 20));
    expect(conn.frames.some(isType(FrameType.GOAWAY))).toBe(false);
    clock.advance(1);
    expect(await goawayCode(conn)).toBe(H2ErrorCode.SETTINGS_TIMEOUT);
    expect(srv.clientErrors).toContain(`TRL_H2_PROTOCOL_ERROR:${H2ErrorCode.SETTINGS_TIMEOUT}`);
  });

  it('our SETTINGS acknowledged in time: no SETTINGS_TIMEOUT', async () => {
    const clock = new FakeClock();
    const { conn, encoder } = await setup(echoStream, { clock, settingsTimeoutMs: 500 });
    await conn.waitFrame(isType(FrameType.SETTINGS));
    conn.send(encodeSettingsAck());
    conn.send(headersFrame(encoder, 1, GET, FrameFlag.END_STREAM));
    await ended(conn, 1);
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(conn.frames.some(isType(FrameType.GOAWAY))).toBe(false);
  });

  it('closes an idle connection with GOAWAY after idleTimeoutMs', async () => {
    const { conn } = await setup(echoStream, { idleTimeoutMs: 50 });
    expect(await goawayCode(conn)).toBe(H2ErrorCode.NO_ERROR);
    await conn.waitClosed();
  });
});
