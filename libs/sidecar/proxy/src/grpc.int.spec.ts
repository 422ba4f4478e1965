// gRPC end to end: a grpc-js client through the gateway to a grpc-js server over h2c. All four
// call shapes, status codes, messages and metadata both ways, the client's deadline, and the
// proxy's own trailers-only answers.
import * as grpc from '@grpc/grpc-js';
import type { ClientHttp2Session } from 'node:http2';
import { waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2Connect, h2Request } from './int-testing/clients.js';
import { config, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import {
  bidi,
  clientStream,
  echoClient,
  echoService,
  serverStream,
  startGrpcEcho,
  unary,
} from './int-testing/grpc-echo.js';
import type { GrpcEchoServer } from './int-testing/grpc-echo.js';

let server: GrpcEchoServer;
let gateway: TestGateway;
let client: grpc.Client;
let session: ClientHttp2Session;

beforeAll(async () => {
  server = await startGrpcEcho();
  gateway = await startGateway({
    config: config(service('echo', [server.port], { protocol: 'grpc' })),
  });
  client = echoClient(gateway.port, 'echo');
  session = await h2Connect(gateway.port);
});

afterAll(async () => {
  client.close();
  session.destroy();
  await gateway.close();
  await server.close();
});

describe('call shapes', () => {
  it('unary: message, initial and trailing metadata arrive', async () => {
    const result = await unary(client, 'hello');
    expect(result.status.code).toBe(grpc.status.OK);
    expect(result.messages).toEqual(['echo:hello']);
    expect(result.initial?.get('x-initial')).toEqual(['i-1']);
    expect(result.status.metadata.get('x-trailer')).toEqual(['t-1']);
  });

  it('unary: a 1 MiB message goes through intact', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const result = await unary(client, big);
    expect(result.status.code).toBe(grpc.status.OK);
    expect(result.messages[0]?.length).toBe(big.length + 5);
  });

  it('server streaming: every message, in order, then the trailing metadata', async () => {
    const result = await serverStream(client, 50);
    expect(result.status.code).toBe(grpc.status.OK);
    expect(result.messages).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(result.status.metadata.get('x-count')).toEqual(['50']);
  });

  it('client streaming: the server gets every message', async () => {
    const result = await clientStream(client, ['a', 'b', 'c', 'd']);
    expect(result.status.code).toBe(grpc.status.OK);
    expect(result.messages).toEqual(['a+b+c+d']);
  });

  it('bidi: a ping-pong conversation of 20 turns', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const result = await bidi(client, parts);
    expect(result.status.code).toBe(grpc.status.OK);
    expect(result.messages).toEqual(parts.map((p) => `re:${p}`));
  });

  it('50 concurrent unary calls each get their own answer', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => unary(client, `c${i}`)));
    results.forEach((r, i) => expect(r.messages).toEqual([`echo:c${i}`]));
  });
});

describe('status', () => {
  it('records the grpc-status of the trailers, or of a trailers-only answer', async () => {
    const before = gateway.completed.length;
    expect((await unary(client, 'hello')).status.code).toBe(grpc.status.OK);
    expect((await unary(client, 'not-found')).status.code).toBe(grpc.status.NOT_FOUND);
    const statuses = await waitFor(
      () => {
        const done = gateway.completed.slice(before);
        return done.length === 2 && done.map((c) => c.grpcStatus);
      },
      { timeoutMs: 5_000, what: 'two completed calls' },
    );
    expect(statuses).toEqual(['0', '5']);
  });

  it('relays an upstream NOT_FOUND with its message and trailing metadata', async () => {
    const result = await unary(client, 'not-found');
    expect(result.status.code).toBe(grpc.status.NOT_FOUND);
    expect(result.status.details).toBe('no such item: 42');
    expect(result.status.metadata.get('x-detail')).toEqual(['missing']);
  });

  it('ends a call with DEADLINE_EXCEEDED at the client deadline and cancels the upstream call', async () => {
    const started = Date.now();
    const result = await unary(client, 'slow', { deadline: Date.now() + 200 });
    const took = Date.now() - started;
    expect(result.status.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1_500);
    await waitFor(() => server.cancelled.includes('unary'), {
      timeoutMs: 2_000,
      what: 'the upstream call to be cancelled',
    });
  });

  it('answers an expired grpc-timeout itself: trailers-only DEADLINE_EXCEEDED', async () => {
    const started = Date.now();
    const res = await h2Request(session, {
      authority: 'echo',
      path: echoService.unary.path,
      headers: { 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '200m' },
      body: Buffer.from([0, 0, 0, 0, 4, ...Buffer.from('slow')]),
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(res.status).toBe(200);
    expect(res.headers['grpc-status']).toBe(String(grpc.status.DEADLINE_EXCEEDED));
    expect(res.headers['x-trellis-error']).toBe('grpc-deadline-exceeded');
    expect(res.body.length).toBe(0);
    expect(res.trailers).toBeUndefined();
  });

  it('answers UNIMPLEMENTED (trailers-only, from the proxy) when no route matches', async () => {
    const stranger = echoClient(gateway.port, 'nowhere');
    try {
      const result = await unary(stranger, 'hello');
      expect(result.status.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(result.status.details).toBe('trellis: no-route');
      expect(result.status.metadata.get('x-trellis-error')).toEqual(['no-route']);
    } finally {
      stranger.close();
    }
  });
});
