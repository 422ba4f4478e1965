// A tiny gRPC service for the integration tests, with raw Buffer messages (no .proto needed):
// Unary, ServerStream, ClientStream and Bidi methods of `trellis.test.Echo`, a grpc-js server on
// 127.0.0.1:0, and a client helper whose calls resolve with messages, metadata and status.
import * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/trellis.test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

export const echoService = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export interface GrpcEchoServer {
  readonly port: number;
  /** Calls the server saw cancelled by the client (or the proxy), by method name. */
  readonly cancelled: string[];
  close(): Promise<void>;
}

const meta = (entries: Record<string, string>): grpc.Metadata => {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
};

/**
 * Unary: `not-found` fails NOT_FOUND with a message and trailing metadata; `slow` answers after
 * 2 s; anything else answers `echo:<request>` with initial and trailing metadata.
 * ServerStream: the request is a count n; answers n messages `m0…`. ClientStream: answers the
 * messages joined by `+`. Bidi: echoes each message as it arrives.
 */
export async function startGrpcEcho(): Promise<GrpcEchoServer> {
  const cancelled: string[] = [];
  const server = new grpc.Server();
  server.addService(echoService, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      call.on('cancelled', () => cancelled.push('unary'));
      if (text === 'not-found') {
        callback({
          code: grpc.status.NOT_FOUND,
          details: 'no such item: 42',
          metadata: meta({ 'x-detail': 'missing' }),
        });
        return;
      }
      if (text === 'slow') {
        const timer = setTimeout(() => callback(null, Buffer.from('late')), 2_000);
        call.on('cancelled', () => clearTimeout(timer));
        return;
      }
      call.sendMetadata(meta({ 'x-initial': 'i-1' }));
      callback(null, Buffer.from(`echo:${text}`), meta({ 'x-trailer': 't-1' }));
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 0; i < n; i++) call.write(Buffer.from(`m${i}`));
      call.end(meta({ 'x-count': String(n) }));
    },
    clientStream: (
      call: grpc.ServerReadableStream<Buffer, Buffer>,
      callback: grpc.sendUnaryData<Buffer>,
    ) => {
      const parts: string[] = [];
      call.on('data', (m: Buffer) => parts.push(m.toString()));
      call.on('end', () => callback(null, Buffer.from(parts.join('+'))));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.from(`re:${m.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    cancelled,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** A grpc-js client for the echo service, pointed at `port` and sending `:authority` `authority`. */
export function echoClient(port: number, authority: string): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': authority,
  });
}

export interface CallResult {
  readonly messages: string[];
  readonly status: grpc.StatusObject;
  readonly initial: grpc.Metadata | undefined;
}

/** Resolves at the call's status; `messages` fills from the callback or the 'data' events. */
function settle(
  call:
    grpc.ClientUnaryCall | grpc.ClientReadableStream<Buffer> | grpc.ClientWritableStream<Buffer>,
  messages: string[],
): Promise<CallResult> {
  return new Promise((resolve) => {
    let initial: grpc.Metadata | undefined;
    call.on('metadata', (m: grpc.Metadata) => (initial = m));
    call.on('status', (status: grpc.StatusObject) => resolve({ messages, status, initial }));
  });
}

/** Streaming calls also report failures as 'error' events, which must be listened to. */
function collectStream(call: grpc.ClientReadableStream<Buffer>, messages: string[]): void {
  call.on('data', (m: Buffer) => messages.push(m.toString()));
  call.on('error', () => undefined);
}

export function unary(
  client: grpc.Client,
  request: string,
  options: grpc.CallOptions = {},
): Promise<CallResult> {
  const messages: string[] = [];
  const call = client.makeUnaryRequest(
    echoService.unary.path,
    identity,
    identity,
    Buffer.from(request),
    new grpc.Metadata(),
    options,
    (_error, value) => {
      if (value) messages.push(value.toString());
    },
  );
  return settle(call, messages);
}

export function serverStream(client: grpc.Client, count: number): Promise<CallResult> {
  const call = client.makeServerStreamRequest(
    echoService.serverStream.path,
    identity,
    identity,
    Buffer.from(String(count)),
    new grpc.Metadata(),
    {},
  );
  const messages: string[] = [];
  collectStream(call, messages);
  return settle(call, messages);
}

export function clientStream(client: grpc.Client, parts: readonly string[]): Promise<CallResult> {
  const messages: string[] = [];
  const call = client.makeClientStreamRequest(
    echoService.clientStream.path,
    identity,
    identity,
    new grpc.Metadata(),
    {},
    (_error, value) => {
      if (value) messages.push(value.toString());
    },
  );
  call.on('error', () => undefined);
  const done = settle(call, messages);
  for (const part of parts) call.write(Buffer.from(part));
  call.end();
  return done;
}

/** Sends each part only after the echo of the previous one arrived: a real conversation. */
export function bidi(client: grpc.Client, parts: readonly string[]): Promise<CallResult> {
  const call = client.makeBidiStreamRequest(
    echoService.bidi.path,
    identity,
    identity,
    new grpc.Metadata(),
    {},
  );
  const messages: string[] = [];
  collectStream(call, messages);
  const done = settle(call, messages);
  let next = 0;
  const send = () => {
    if (next < parts.length) call.write(Buffer.from(parts[next++] as string));
    else call.end();
  };
  call.on('data', send);
  send();
  return done;
}
