// Upstream applications for the integration tests, on 127.0.0.1:0: Node's HTTP/1.1 and h2c
// servers that record every request head they parse (so a smuggled request cannot go unseen)
// and answer through a handler the test supplies. The default handler echoes what it saw.
import { createHash } from 'node:crypto';
import { createServer as createH1Server } from 'node:http';
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  Server as H1Server,
  ServerResponse,
} from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import type {
  Http2Server,
  IncomingHttpHeaders as H2Headers,
  ServerHttp2Session,
  ServerHttp2Stream,
  Settings,
} from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** The request body, complete once `bodyDone` resolved. */
  readonly bodyDone: Promise<Buffer>;
}

export interface Upstream {
  readonly port: number;
  readonly requests: SeenRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Stops listening and drops every connection; `listen()` may bind the same port again. */
  close(): Promise<void>;
  /** Listens again on the same port (after `close`). */
  listen(): Promise<void>;
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Reads a whole body; resolves with what arrived even if the peer aborted. */
export function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', () => resolve(Buffer.concat(chunks)));
    stream.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** What the echo handlers answer: the request as the upstream saw it. */
export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyLength: number;
  readonly bodySha256: string;
}

async function echoBody(seen: SeenRequest): Promise<string> {
  const body = await seen.bodyDone;
  const echo: Echo = {
    method: seen.method,
    url: seen.url,
    headers: seen.headers,
    bodyLength: body.length,
    bodySha256: sha256(body),
  };
  return JSON.stringify(echo);
}

export type H1Handler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void;

export const echoH1: H1Handler = (_req, res, seen) => {
  void echoBody(seen).then((text) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  });
};

function tracked(server: NetServer | H1Server | Http2Server, port: number) {
  const sockets = new Set<Socket>();
  let count = 0;
  server.on('connection', (socket: Socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let boundPort = port;
  return {
    sockets,
    connections: () => count,
    port: () => boundPort,
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(boundPort, '127.0.0.1', () => {
          server.off('error', reject);
          boundPort = (server.address() as AddressInfo).port;
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP/1.1 upstream (Node's server: keep-alive, chunked, 100-continue handled by Node). */
export async function startH1Upstream(handler: H1Handler = echoH1): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const server = createH1Server({ keepAliveTimeout: 10_000 }, (req, res) => {
    const seen: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyDone: collect(req),
    };
    requests.push(seen);
    handler(req, res, seen);
  });
  const t = tracked(server, 0);
  await t.listen();
  return {
    get port() {
      return t.port();
    },
    requests,
    connections: t.connections,
    close: t.close,
    listen: t.listen,
  };
}

export type H2Handler = (stream: ServerHttp2Stream, headers: H2Headers, seen: SeenRequest) => void;

export const echoH2: H2Handler = (stream, _headers, seen) => {
  void echoBody(seen).then((text) => {
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(text);
  });
};

/** An h2c (prior knowledge) upstream; `settings` are sent to the proxy's client. */
export async function startH2Upstream(
  handler: H2Handler = echoH2,
  settings: Settings = {},
): Promise<Upstream & { sessions: Set<ServerHttp2Session> }> {
  const requests: SeenRequest[] = [];
  const sessions = new Set<ServerHttp2Session>();
  const server = createH2Server({ settings: { initialWindowSize: 1024 * 1024, ...settings } });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on(
    'stream',
    (stream: ServerHttp2Stream, headers: H2Headers, _flags: number, raw: string[]) => {
      stream.on('error', () => undefined);
      const seen: SeenRequest = {
        method: String(headers[':method']),
        url: String(headers[':path']),
        headers: headers as IncomingHttpHeaders,
        rawHeaders: raw,
        bodyDone: collect(stream),
      };
      requests.push(seen);
      handler(stream, headers, seen);
    },
  );
  const t = tracked(server, 0);
  await t.listen();
  return {
    get port() {
      return t.port();
    },
    requests,
    sessions,
    connections: t.connections,
    close: async () => {
      for (const session of sessions) session.destroy();
      await t.close();
    },
    listen: t.listen,
  };
}
