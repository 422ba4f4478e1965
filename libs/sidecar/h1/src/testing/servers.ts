// Test upstreams on 127.0.0.1:0: a Node http server and a raw net server (for misbehaving
// upstreams), each counting the TCP connections it accepted.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

export interface TestUpstream {
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** Sockets currently open on the server side. */
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

function track(server: HttpServer | NetServer): { sockets: Set<Socket>; count: () => number } {
  const sockets = new Set<Socket>();
  let count = 0;
  server.on('connection', (socket: Socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return { sockets, count: () => count };
}

async function listen(server: HttpServer | NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startHttpUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  configure?: (server: HttpServer) => void,
): Promise<TestUpstream & { server: HttpServer }> {
  const server = createHttpServer(handler);
  configure?.(server);
  const { sockets, count } = track(server);
  const port = await listen(server);
  return {
    port,
    server,
    sockets,
    connections: count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startRawUpstream(
  onConnection: (socket: Socket) => void,
): Promise<TestUpstream> {
  const server = createNetServer(onConnection);
  const { sockets, count } = track(server);
  const port = await listen(server);
  return {
    port,
    sockets,
    connections: count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `socket` has received `needle` (latin1), with everything read so far. */
export function readUntil(socket: Socket, needle: string): Promise<string> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('latin1');
      if (seen.includes(needle)) {
        socket.off('data', onData);
        resolve(seen);
      }
    };
    socket.on('data', onData);
  });
}

/** Polls `condition` once per event-loop turn (no timed sleeps); fails after `turns`. */
export async function waitFor(condition: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error('condition not met');
}
