// WebSocket through the gateway, spoken by hand on both ends (RFC 6455): an echo upstream built
// on node:http's 'upgrade' event, and a client on a raw socket that does the opening handshake
// and sends masked frames. The proxy routes the upgrade, relays the 101 and pipes the bytes.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, statusLines } from './int-testing/clients.js';
import { config, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptKey = (key: string): string =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

interface EchoUpstream {
  readonly port: number;
  /** Upgraded sockets on the upstream side, in arrival order. */
  readonly sockets: Socket[];
  /** Request heads the upgrade handler saw. */
  readonly heads: { url: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

/** Accepts WebSocket upgrades (101 + echo of the raw bytes); `/refuse` answers 426. */
async function startEchoUpstream(): Promise<EchoUpstream> {
  const sockets: Socket[] = [];
  const heads: EchoUpstream['heads'] = [];
  const server: Server = createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    heads.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/refuse') {
      socket.end(
        'HTTP/1.1 426 Upgrade Required\r\ncontent-type: text/plain\r\ncontent-length: 12\r\n' +
          'connection: close\r\n\r\nnot for you\n',
      );
      return;
    }
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    heads,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One frame, masked as a client must (RFC 6455 §5.3). */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), u64(length)]);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, mask, body]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

interface Frame {
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
}

/** Reads one frame from the front of `buf`; undefined until it is complete. */
function readFrame(buf: Buffer): { frame: Frame; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const b1 = buf[1] as number;
  let length = b1 & 0x7f;
  let at = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const mask = masked ? buf.subarray(at, at + 4) : undefined;
  if (masked) at += 4;
  if (buf.length < at + length) return undefined;
  const payload = Buffer.from(buf.subarray(at, at + length));
  if (mask)
    for (let i = 0; i < length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return { frame: { opcode: (buf[0] as number) & 0x0f, masked, payload }, size: at + length };
}

interface WsClient {
  readonly socket: Socket;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly key: string;
  /** Resolves with the next frame. */
  next(): Promise<Frame>;
  readonly closed: Promise<void>;
}

/** The client's opening handshake (RFC 6455 §4.1) on a raw socket. */
function openWebSocket(port: number, host: string, path: string): Promise<WsClient> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let handshaken = false;
    const frames: Frame[] = [];
    const waiting: ((frame: Frame) => void)[] = [];
    const timer = setTimeout(() => reject(new Error('no handshake answer')), 5_000);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!handshaken) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        handshaken = true;
        clearTimeout(timer);
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
        buffer = buffer.subarray(end + 4);
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        resolve({
          socket,
          status: Number(lines[0]?.split(' ')[1]),
          headers,
          key,
          next: () =>
            new Promise((got) => {
              const frame = frames.shift();
              if (frame) got(frame);
              else waiting.push(got);
            }),
          closed,
        });
      }
      for (let read = readFrame(buffer); read; read = readFrame(buffer)) {
        buffer = buffer.subarray(read.size);
        const taker = waiting.shift();
        if (taker) taker(read.frame);
        else frames.push(read.frame);
      }
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;

let upstream: EchoUpstream;
let gateway: TestGateway;

async function tunnels(): Promise<{ active: number; total: number }> {
  const view = gateway.sidecar.adminEndpoints().views['/stats'];
  const response = await view?.({} as IncomingMessage);
  const body = response?.body as {
    listeners: Record<string, { tunnels: { active: number; total: number } }>;
  };
  return body.listeners['gateway']?.tunnels ?? { active: -1, total: -1 };
}

beforeAll(async () => {
  upstream = await startEchoUpstream();
  gateway = await startGateway({ config: config(service('chat', [upstream.port])) });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('WebSocket pass-through', () => {
  it('relays the 101 with the accept key computed from the client key', async () => {
    const ws = await openWebSocket(gateway.port, 'chat', '/room');
    try {
      expect(ws.status).toBe(101);
      expect(ws.headers['sec-websocket-accept']).toBe(acceptKey(ws.key));
      expect(ws.headers['upgrade']).toBe('websocket');
      expect(ws.headers['connection']).toBe('Upgrade');
      const seen = upstream.heads.at(-1);
      expect(seen?.url).toBe('/room');
      expect(seen?.headers['sec-websocket-key']).toBe(ws.key);
      expect(seen?.headers['upgrade']).toBe('websocket');
      expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      ws.socket.destroy();
    }
  });

  it('carries masked frames both ways, small and large, intact', async () => {
    const ws = await openWebSocket(gateway.port, 'chat', '/echo');
    try {
      ws.socket.write(maskedFrame(TEXT, Buffer.from('hello, mesh')));
      const small = await ws.next();
      expect([small.opcode, small.masked, small.payload.toString()]).toEqual([
        TEXT,
        true,
        'hello, mesh',
      ]);
      // Larger than every socket buffer on the way: back-pressure has to work for it to arrive.
      const big = randomBytes(8 * 1024 * 1024);
      ws.socket.write(maskedFrame(BINARY, big));
      const echoed = await ws.next();
      expect(echoed.opcode).toBe(BINARY);
      expect(echoed.payload.equals(big)).toBe(true);
    } finally {
      ws.socket.destroy();
    }
  });

  it('closes the upstream side when the client closes, and counts the tunnel', async () => {
    // Tunnels of earlier tests close asynchronously after their client went.
    await waitFor(async () => (await tunnels()).active === 0, {
      timeoutMs: 5_000,
      what: 'earlier tunnels to close',
    });
    const before = await tunnels();
    const ws = await openWebSocket(gateway.port, 'chat', '/client-closes');
    await waitFor(() => upstream.heads.at(-1)?.url === '/client-closes', {
      timeoutMs: 5_000,
      what: 'the upgrade upstream',
    });
    const upstreamSide = upstream.sockets.at(-1) as Socket;
    expect(await tunnels()).toEqual({ active: before.active + 1, total: before.total + 1 });
    const closeFrame = maskedFrame(CLOSE, Buffer.from([0x03, 0xe8]));
    ws.socket.write(closeFrame);
    const close = await ws.next();
    expect(close.opcode).toBe(CLOSE);
    ws.socket.end();
    await waitFor(() => upstreamSide.closed, { timeoutMs: 5_000, what: 'the upstream close' });
    await ws.closed;
    await waitFor(async () => (await tunnels()).active === 0, {
      timeoutMs: 5_000,
      what: 'the tunnel count',
    });
    expect((await tunnels()).total).toBe(before.total + 1);
    const done = gateway.completed.find((c) => c.request.exchange.target === '/client-closes');
    expect(done?.status).toBe(101);
    expect(done?.request.record.route).toBeDefined();
    // The tunnel's bytes: the client's close frame up, the upstream's answer down.
    expect(done?.bytesIn).toBe(closeFrame.length);
    expect(done?.bytesOut).toBeGreaterThan(0);
  });

  it('closes the client side when the upstream closes', async () => {
    const ws = await openWebSocket(gateway.port, 'chat', '/upstream-closes');
    await waitFor(() => upstream.heads.at(-1)?.url === '/upstream-closes', {
      timeoutMs: 5_000,
      what: 'the upgrade upstream',
    });
    (upstream.sockets.at(-1) as Socket).destroy();
    await ws.closed;
    expect(ws.socket.destroyed).toBe(true);
  });

  it('relays a refused upgrade as a normal response and closes', async () => {
    const raw = await rawExchange(gateway.port, [
      'GET /refuse HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([426]);
    expect(raw.text.endsWith('\r\n\r\nnot for you\n')).toBe(true);
    expect(raw.text).toContain('connection: close\r\n');
    expect(raw.closedByServer).toBe(true);
  });

  it('answers an upgrade nothing routes with 404 no-route', async () => {
    const before = upstream.heads.length;
    const raw = await rawExchange(gateway.port, [
      'GET /x HTTP/1.1\r\nHost: nowhere\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([404]);
    expect(raw.text).toContain('x-trellis-error: no-route\r\n');
    expect(raw.closedByServer).toBe(true);
    expect(upstream.heads.length).toBe(before);
  });

  // Without a body an h2c upgrade is switched to HTTP/2 (h2c.int.spec.ts); with one it is not.
  it('still serves h2c-upgrade requests with a body as plain HTTP/1.1', async () => {
    const raw = await rawExchange(gateway.port, [
      'POST /plain HTTP/1.1\r\nHost: chat\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n' +
        'HTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 4\r\n\r\nbody',
    ]);
    expect(statusLines(raw.text)).toEqual([200]);
    expect(raw.text.endsWith('plain')).toBe(true);
  });
});

describe('WebSocket idle timeout', () => {
  it('closes a tunnel with no traffic either way for idleTimeoutMs', async () => {
    const idle = await startGateway({
      config: config(service('chat', [upstream.port])),
      limits: { idleTimeoutMs: 200 },
    });
    try {
      const ws = await openWebSocket(idle.port, 'chat', '/idle');
      expect(ws.status).toBe(101);
      await ws.closed;
      expect(ws.socket.destroyed).toBe(true);
    } finally {
      await idle.close();
    }
  });
});
