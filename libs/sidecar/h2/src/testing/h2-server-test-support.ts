// Test support for the server: an H2Server behind a TCP listener on 127.0.0.1:0 (prior knowledge,
// and `Upgrade: h2c` through a minimal HTTP/1.1 head reader), a raw frame client, an echo
// handler, and HPACK helpers to build request blocks by hand.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { CLIENT_PREFACE, FrameFlag, FrameType } from '../constants.js';
import { encodeFrame, encodeSettings } from '../frame-codec.js';
import { HpackDecoder } from '../hpack-decoder.js';
import { HpackEncoder } from '../hpack-encoder.js';
import { H2Server } from '../server.js';
import type { H2ServerOptions } from '../server-config.js';
import type { H2ServerStream } from '../server-stream.js';
import { RawConnection } from './h2-test-support.js';
import type { RawFrame } from './h2-test-support.js';

export interface TestH2Server {
  readonly port: number;
  readonly server: H2Server;
  readonly streams: H2ServerStream[];
  readonly clientErrors: string[];
  close(): Promise<void>;
}

/** Parses an HTTP/1.1 head just enough to hand an upgrade over (tests only). */
function upgradeRequest(head: string) {
  const lines = head.split('\r\n');
  const [method = '', target = ''] = (lines[0] ?? '').split(' ');
  const headers: string[] = [];
  let upgrade = '';
  let authority = '';
  let hasBody = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.push(name, value);
    if (name === 'upgrade') upgrade = value;
    if (name === 'host') authority = value;
    if (name === 'content-length' && value !== '0') hasBody = true;
  }
  return { method, target, authority, headers, upgrade, hasBody };
}

export async function startTestServer(
  onStream: (stream: H2ServerStream) => void,
  options: Partial<H2ServerOptions> = {},
): Promise<TestH2Server> {
  const streams: H2ServerStream[] = [];
  const clientErrors: string[] = [];
  const server = new H2Server({
    ...options,
    onStream: (stream) => {
      streams.push(stream);
      onStream(stream);
    },
    onClientError: (error) => clientErrors.push(`${error.code}:${error.h2Code}`),
  });
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received[0] === 0x50 /* P */) {
        socket.off('data', onData);
        server.serve(socket, received);
        return;
      }
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const request = upgradeRequest(received.toString('latin1', 0, end));
      server.upgrade(socket, request, received.subarray(end + 4));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as AddressInfo).port,
    server,
    streams,
    clientErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.destroy();
        for (const s of sockets) s.destroy();
        listener.close(() => resolve());
      }),
  };
}

/** Reads the whole request body, then answers 200 with a JSON echo of the request. */
export function echoStream(stream: H2ServerStream): void {
  const chunks: Buffer[] = [];
  let trailers: string[] | null = null;
  stream.setHandler({
    onData: (chunk) => chunks.push(chunk),
    onTrailers: (t) => (trailers = t),
    onEnd: () => {
      const body = Buffer.concat(chunks);
      const echo = JSON.stringify({
        method: stream.method,
        path: stream.path,
        authority: stream.authority,
        headers: stream.headers,
        bodyLength: body.length,
        trailers,
      });
      stream.respond(200, ['content-type', 'application/json']);
      stream.write(Buffer.from(echo));
      stream.end();
    },
  });
  stream.resume();
}

/** A raw client: preface and an empty SETTINGS sent, the server's frames collected. */
export async function rawClient(port: number, settings: Array<[number, number]> = []) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const conn = new RawConnection(socket, 0);
  conn.send(CLIENT_PREFACE, encodeSettings(settings));
  return conn;
}

/** HEADERS (END_HEADERS) carrying `fields` encoded with `encoder`. */
export function headersFrame(
  encoder: HpackEncoder,
  streamId: number,
  fields: readonly string[],
  flags = 0,
): Buffer {
  const block = Buffer.alloc(HpackEncoder.maxEncodedLength(fields));
  const end = encoder.encode(fields, block, 0);
  return encodeFrame(
    FrameType.HEADERS,
    flags | FrameFlag.END_HEADERS,
    streamId,
    block.subarray(0, end),
  );
}

/** Decodes the response HEADERS frames of a raw connection, in order, with one decoder. */
export function decodeHeaders(frames: readonly RawFrame[]): Map<number, string[][]> {
  const decoder = new HpackDecoder(4_096);
  const out = new Map<number, string[][]>();
  for (const f of frames) {
    if (f.type !== FrameType.HEADERS) continue;
    const fields: string[] = [];
    decoder.decode(f.payload, fields);
    const list = out.get(f.streamId) ?? [];
    list.push(fields);
    out.set(f.streamId, list);
  }
  return out;
}
