// Test harness: an H1Server behind a real net server on 127.0.0.1:0, and a raw TCP client that
// writes exact bytes (split as the test says) and collects everything the server sends back.
import { createServer, connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { H1Server } from '../server.js';
import type { H1ServerOptions } from '../types.js';

export interface TestServer {
  readonly port: number;
  readonly h1: H1Server;
  /** Sockets the net server accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/** `onSocket` sees each accepted socket before the H1Server does (to spy on its writes). */
export async function startServer(
  options: H1ServerOptions,
  onSocket?: (socket: Socket) => void,
): Promise<TestServer> {
  const h1 = new H1Server(options);
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onSocket?.(socket);
    h1.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    h1,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface RawResult {
  /** Everything received, latin1. */
  readonly text: string;
  /** The server closed the connection (FIN or reset) before the client gave up waiting. */
  readonly closedByServer: boolean;
}

/**
 * Connects, writes each chunk (waiting `gapMs` between them), and collects the reply until the
 * server closes or nothing arrives for `idleMs`.
 */
export function rawExchange(
  port: number,
  chunks: readonly (string | Buffer)[],
  options: { gapMs?: number; idleMs?: number } = {},
): Promise<RawResult> {
  const { gapMs = 0, idleMs = 1_000 } = options;
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let text = '';
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    const rearm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(false), idleMs);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      rearm();
    });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (done) return;
        socket.write(chunk);
      }
      rearm();
    });
  });
}

/** Status codes of the responses in `text`, in order. */
export function statusLines(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}
