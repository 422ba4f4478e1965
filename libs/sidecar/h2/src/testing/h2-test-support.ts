// Test support: a Node h2c server on 127.0.0.1:0, a scriptable raw TCP "server" that speaks
// frames by hand (for protocol-violation tests), and a handler that collects a whole response.
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import type { Http2Server, ServerHttp2Session, ServerHttp2Stream, ServerOptions } from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { FrameFlag, FrameType } from '../constants.js';
import { FrameParser, encodePing } from '../frame-codec.js';
import type { H2ClientStream, H2StreamHandler } from '../h2-client-stream.js';
import type { H2Error } from '../errors.js';

export interface NodeH2Server {
  readonly port: number;
  readonly server: Http2Server;
  readonly sessions: Set<ServerHttp2Session>;
  /** Raw TCP sockets of accepted connections (the session's socket proxy cannot be destroyed). */
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export type StreamListener = (
  stream: ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
) => void;

export async function startNodeH2Server(
  onStream: StreamListener,
  options: ServerOptions = {},
): Promise<NodeH2Server> {
  const server = http2.createServer(options);
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on(
    'stream',
    (
      stream: ServerHttp2Stream,
      headers: http2.IncomingHttpHeaders,
      _flags: number,
      rawHeaders: string[],
    ) => {
      stream.on('error', () => undefined);
      onStream(stream, headers, rawHeaders);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    sessions,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Collected {
  status: number;
  headers: string[];
  informational: number[];
  body: Buffer;
  trailers: string[] | null;
  headersEndStream: boolean;
}

/**
 * Collects a stream's whole response; rejects with the stream's H2Error. `extra` adds handler
 * methods the collector does not use (onDrain).
 */
export function collect(
  stream: H2ClientStream,
  extra: Pick<H2StreamHandler, 'onDrain'> = {},
): Promise<Collected> {
  return new Promise<Collected>((resolve, reject) => {
    const result: Collected = {
      status: 0,
      headers: [],
      informational: [],
      body: Buffer.alloc(0),
      trailers: null,
      headersEndStream: false,
    };
    const chunks: Buffer[] = [];
    stream.setHandler({
      ...extra,
      onInformational: (status) => result.informational.push(status),
      onResponseHeaders: (status, headers, endStream) => {
        result.status = status;
        result.headers = headers;
        result.headersEndStream = endStream;
      },
      onData: (chunk) => chunks.push(chunk),
      onTrailers: (trailers) => (result.trailers = trailers),
      onEnd: () => {
        result.body = Buffer.concat(chunks);
        resolve(result);
      },
      onError: (err: H2Error) => reject(err),
    });
  });
}

/** The error a stream fails with (rejects if the stream completes instead). */
export async function failure(stream: H2ClientStream): Promise<H2Error> {
  try {
    await collect(stream);
  } catch (err) {
    return err as H2Error;
  }
  throw new Error('stream completed without error');
}

export function sha256(data: Buffer | Buffer[]): string {
  const h = createHash('sha256');
  for (const b of Array.isArray(data) ? data : [data]) h.update(b);
  return h.digest('hex');
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** Writes `total` bytes of pattern data to a writable stream, honouring its back-pressure. */
export function writePattern(
  write: (chunk: Buffer) => boolean,
  onDrain: (cb: () => void) => void,
  end: () => void,
  total: number,
  chunkSize: number,
  seed: number,
): string {
  const data = patternBytes(total, seed);
  let offset = 0;
  const pump = (): void => {
    while (offset < total) {
      const chunk = data.subarray(offset, Math.min(offset + chunkSize, total));
      offset += chunk.length;
      if (!write(chunk)) {
        onDrain(pump);
        return;
      }
    }
    end();
  };
  pump();
  return sha256(data);
}

// === raw frame server ===

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Matches frames of `type` (on `streamId`, if given), for RawConnection.waitFrame. */
export const isType =
  (type: number, streamId?: number) =>
  (f: RawFrame): boolean =>
    f.type === type && (streamId === undefined || f.streamId === streamId);

/** The error code of the first GOAWAY the connection receives. */
export async function goawayCode(conn: RawConnection): Promise<number> {
  const f = await conn.waitFrame(isType(FrameType.GOAWAY));
  return f.payload.readUInt32BE(4);
}

/** The error code of the first RST_STREAM the connection receives on `streamId`. */
export async function rstCode(conn: RawConnection, streamId: number): Promise<number> {
  const f = await conn.waitFrame(isType(FrameType.RST_STREAM, streamId));
  return f.payload.readUInt32BE(0);
}

/**
 * One accepted connection of the raw server; frames are parsed after the client preface and
 * client PINGs are answered.
 */
export class RawConnection {
  readonly frames: RawFrame[] = [];
  readonly socket: net.Socket;
  #prefaceLeft: number;
  #waiters: Array<() => void> = [];
  readonly #parser = new FrameParser(
    {
      onFrame: (type, flags, streamId, buf, start, end) => {
        const payload = Buffer.from(buf.subarray(start, end));
        this.frames.push({ type, flags, streamId, payload });
        // Answer PINGs so tests can use session.ping() as a round-trip barrier.
        if (this.answerPings && type === FrameType.PING && (flags & FrameFlag.ACK) === 0) {
          this.send(encodePing(payload, true));
        }
        this.#wake();
      },
      onFrameSizeError: () => undefined,
    },
    16_777_215,
  );
  closed = false;
  /** PINGs are answered at once unless a test turns this off (to hold a round trip open). */
  answerPings = true;

  /** `prefaceBytes`: bytes skipped before frames (24 for a client's preface, 0 for a server). */
  constructor(socket: net.Socket, prefaceBytes = 24) {
    this.socket = socket;
    this.#prefaceLeft = prefaceBytes;
    socket.on('data', (chunk: Buffer) => {
      if (this.#prefaceLeft > 0) {
        const skip = Math.min(this.#prefaceLeft, chunk.length);
        this.#prefaceLeft -= skip;
        chunk = chunk.subarray(skip);
      }
      this.#parser.push(chunk);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Resolves with the first received frame matching `match` (waits for it to arrive). */
  async waitFrame(match: (f: RawFrame) => boolean): Promise<RawFrame> {
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closed) throw new Error('connection closed while waiting for a frame');
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Resolves once the client closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

export interface RawServer {
  readonly port: number;
  /** Resolves with the next accepted connection. */
  accept(): Promise<RawConnection>;
  close(): Promise<void>;
}

export async function startRawServer(): Promise<RawServer> {
  const accepted: RawConnection[] = [];
  const waiting: Array<(c: RawConnection) => void> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = new RawConnection(socket);
    const w = waiting.shift();
    if (w) w(conn);
    else accepted.push(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accept: () => {
      const c = accepted.shift();
      return c ? Promise.resolve(c) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
