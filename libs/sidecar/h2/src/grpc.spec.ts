// gRPC over the client against a real @grpc/grpc-js server, with gRPC framing done by hand
// (5-byte length prefix, application/grpc, te: trailers) and raw-Buffer "protobuf".
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectH2c } from './connect.js';
import type { H2ClientStream } from './h2-client-stream.js';
import type { H2Session } from './h2-session.js';
import { getHeader } from './headers.js';

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

const service: grpc.ServiceDefinition = {
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  Bidi: method('Bidi', true, true),
  Fail: method('Fail', false, false),
};

const implementation: grpc.UntypedServiceImplementation = {
  Unary: ((call, callback) => {
    callback(null, Buffer.concat([Buffer.from('echo:'), call.request]));
  }) as grpc.handleUnaryCall<Buffer, Buffer>,
  ServerStream: ((call) => {
    const n = Number(call.request.toString());
    for (let i = 0; i < n; i++) call.write(Buffer.from(`item-${i}`));
    call.end();
  }) as grpc.handleServerStreamingCall<Buffer, Buffer>,
  ClientStream: ((call, callback) => {
    const parts: string[] = [];
    call.on('data', (m: Buffer) => parts.push(m.toString()));
    call.on('end', () => callback(null, Buffer.from(parts.join('+'))));
  }) as grpc.handleClientStreamingCall<Buffer, Buffer>,
  Bidi: ((call) => {
    call.on('data', (m: Buffer) => call.write(Buffer.from(m.toString().toUpperCase())));
    call.on('end', () => call.end());
  }) as grpc.handleBidiStreamingCall<Buffer, Buffer>,
  Fail: ((_call, callback) => {
    callback({ code: grpc.status.INVALID_ARGUMENT, details: 'bad input' });
  }) as grpc.handleUnaryCall<Buffer, Buffer>,
};

/** One length-prefixed gRPC message. */
function grpcFrame(message: string): Buffer {
  const body = Buffer.from(message);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Cuts length-prefixed messages out of a byte stream arriving in arbitrary chunks. */
class GrpcReader {
  #buffered = Buffer.alloc(0);
  readonly messages: string[] = [];
  push(chunk: Buffer): string[] {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    const out: string[] = [];
    while (this.#buffered.length >= 5) {
      const len = this.#buffered.readUInt32BE(1);
      if (this.#buffered.length < 5 + len) break;
      out.push(this.#buffered.subarray(5, 5 + len).toString());
      this.#buffered = this.#buffered.subarray(5 + len);
    }
    this.messages.push(...out);
    return out;
  }
}

interface GrpcResult {
  status: number;
  headers: string[];
  messages: string[];
  /** Trailers, or the headers of a trailers-only response. */
  trailers: string[];
  trailersOnly: boolean;
}

function call(
  session: H2Session,
  name: string,
  onMessage: (m: string, stream: H2ClientStream) => void = () => undefined,
): { stream: H2ClientStream; result: Promise<GrpcResult> } {
  const stream = session.request([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', `/trellis.test.Echo/${name}`],
    [':authority', 'grpc.test'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
  const reader = new GrpcReader();
  const result = new Promise<GrpcResult>((resolve, reject) => {
    const r: GrpcResult = {
      status: 0,
      headers: [],
      messages: reader.messages,
      trailers: [],
      trailersOnly: false,
    };
    stream.setHandler({
      onResponseHeaders: (status, headers, endStream) => {
        r.status = status;
        r.headers = headers;
        if (endStream) {
          r.trailers = headers;
          r.trailersOnly = true;
        }
      },
      onData: (chunk) => {
        for (const m of reader.push(chunk)) onMessage(m, stream);
      },
      onTrailers: (trailers) => (r.trailers = trailers),
      onEnd: () => resolve(r),
      onError: reject,
    });
  });
  return { stream, result };
}

describe('gRPC through the h2c client', () => {
  let server: grpc.Server;
  let session: H2Session;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(service, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    session = await connectH2c({ host: '127.0.0.1', port });
  });

  afterAll(async () => {
    session.destroy();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('makes a unary call and reads grpc-status from the trailers', async () => {
    const { stream, result } = call(session, 'Unary');
    stream.write(grpcFrame('ping'));
    stream.end();
    const r = await result;
    expect(r.status).toBe(200);
    expect(getHeader(r.headers, 'content-type')).toBe('application/grpc+proto');
    expect(r.messages).toEqual(['echo:ping']);
    expect(getHeader(r.trailers, 'grpc-status')).toBe('0');
    expect(r.trailersOnly).toBe(false);
  });

  it('streams server messages', async () => {
    const { stream, result } = call(session, 'ServerStream');
    stream.write(grpcFrame('4'));
    stream.end();
    const r = await result;
    expect(r.messages).toEqual(['item-0', 'item-1', 'item-2', 'item-3']);
    expect(getHeader(r.trailers, 'grpc-status')).toBe('0');
  });

  it('streams client messages', async () => {
    const { stream, result } = call(session, 'ClientStream');
    for (const m of ['a', 'b', 'c']) stream.write(grpcFrame(m));
    stream.end();
    const r = await result;
    expect(r.messages).toEqual(['a+b+c']);
    expect(getHeader(r.trailers, 'grpc-status')).toBe('0');
  });

  it('interleaves a bidirectional stream message by message', async () => {
    const script = ['one', 'two', 'three'];
    const { stream, result } = call(session, 'Bidi', (m, s) => {
      const next = script[r.length];
      r.push(m);
      if (next !== undefined) s.write(grpcFrame(next));
      else s.end();
    });
    const r: string[] = [];
    stream.write(grpcFrame('zero'));
    const res = await result;
    expect(res.messages).toEqual(['ZERO', 'ONE', 'TWO', 'THREE']);
    expect(getHeader(res.trailers, 'grpc-status')).toBe('0');
  });

  it('reports a failed call as a trailers-only response', async () => {
    const { stream, result } = call(session, 'Fail');
    stream.write(grpcFrame('x'));
    stream.end();
    const r = await result;
    expect(r.messages).toEqual([]);
    expect(getHeader(r.trailers, 'grpc-status')).toBe(String(grpc.status.INVALID_ARGUMENT));
    expect(getHeader(r.trailers, 'grpc-message')).toBe('bad%20input');
    expect(r.trailersOnly).toBe(true);
  });

  it('gets UNIMPLEMENTED for an unknown method', async () => {
    const { stream, result } = call(session, 'Nope');
    stream.end();
    const r = await result;
    expect(getHeader(r.trailers, 'grpc-status')).toBe(String(grpc.status.UNIMPLEMENTED));
  });
});
