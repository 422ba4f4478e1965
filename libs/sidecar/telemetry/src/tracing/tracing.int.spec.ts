// Acceptance: a chain of real services through real in-process sidecars, each with its own
// MeshTracer exporting OTLP/HTTP (JSON) to a receiver in the test. client → gateway → A's
// inbound sidecar → app A → A's outbound sidecar (route with retries) → B's inbound sidecar →
// app B, which fails its first call with 503. Plus gRPC through the gateway, a request the
// proxy answers itself (no route), and an unsampled request that must leave no spans.
import * as grpc from '@grpc/grpc-js';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSnapshot, formatIssue, loadConfig } from '@trellis/config';
import { PoolConnector, Sidecar } from '@trellis/sidecar-proxy';
import type { SidecarOptions } from '@trellis/sidecar-proxy';
import { systemClock } from '@trellis/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshTracer } from './mesh-tracer.js';
import { telemetryFor } from '../telemetry-select.js';

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: number | string;
  readonly boolValue?: boolean;
}

interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: readonly { readonly key: string; readonly value: OtlpValue }[];
  readonly status?: { readonly code?: number };
}

interface OtlpRequest {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly { key: string; value: OtlpValue }[] };
    readonly scopeSpans: readonly { readonly spans: readonly OtlpSpan[] }[];
  }[];
}

interface Span {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client';
  readonly attributes: Record<string, string | number | boolean>;
  readonly error: boolean;
}

const KINDS = { 1: 'internal', 2: 'server', 3: 'client' } as const;
const SPAN_STATUS_ERROR = 2;

function valueOf(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.boolValue ?? '';
}

const spans: Span[] = [];
const receiverContentTypes = new Set<string>();

function receive(body: OtlpRequest): void {
  for (const resourceSpans of body.resourceSpans) {
    const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name');
    for (const scope of resourceSpans.scopeSpans) {
      for (const span of scope.spans) {
        spans.push({
          service: service ? String(valueOf(service.value)) : '',
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: KINDS[span.kind as 1 | 2 | 3],
          attributes: Object.fromEntries(span.attributes.map((a) => [a.key, valueOf(a.value)])),
          error: span.status?.code === SPAN_STATUS_ERROR,
        });
      }
    }
  }
}

const servers: Server[] = [];
const sidecars: Sidecar[] = [];
const tracers: MeshTracer[] = [];
let gatewayPort: number;
let grpcServer: grpc.Server;
/** Trace headers app B saw, per call. */
const seenByB: IncomingHttpHeaders[] = [];

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function get(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const identity = (b: Buffer): Buffer => b;
const unaryMethod = {
  path: '/trellis.test.Echo/Unary',
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
} as const;

function unary(client: grpc.Client, text: string): Promise<grpc.status> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      unaryMethod.path,
      identity,
      identity,
      Buffer.from(text),
      (error: grpc.ServiceError | null) => resolve(error ? error.code : grpc.status.OK),
    );
  });
}

function doc(kind: string, name: string, spec: object): string {
  return JSON.stringify({
    apiVersion: 'trellis.dev/v1alpha1',
    kind,
    metadata: { name, namespace: 'test' },
    spec,
  });
}

function service(name: string, port: number, protocol = 'http1'): string {
  return [
    doc('Service', name, { ports: [{ name: 'main', port: 80, protocol }] }),
    doc('Endpoints', name, { service: name, endpoints: [{ address: '127.0.0.1', port }] }),
  ].join('\n---\n');
}

async function startSidecar(
  name: string,
  otlpEndpoint: string,
  role: Partial<SidecarOptions>,
): Promise<{ sidecar: Sidecar; ports: Record<string, number> }> {
  const tracer = await MeshTracer.create({ serviceName: name, otlpEndpoint, random: Math.random });
  const sidecar = new Sidecar({
    role: 'sidecar',
    outbound: { host: '127.0.0.1', port: 0 },
    localNamespace: 'test',
    drainTimeoutMs: 1_000,
    replayLimitBytes: 64 * 1024,
    connector: new PoolConnector(systemClock),
    clock: systemClock,
    random: Math.random,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    ...role,
    tracer,
  });
  // The wiring apps/sidecar does: each applied config re-selects the tracing settings.
  sidecar.holder.onApplied((applied) =>
    tracer.configure(
      telemetryFor(applied.snapshot.resources, { name, namespace: 'test' })?.tracing,
    ),
  );
  tracers.push(tracer);
  sidecars.push(sidecar);
  const bound = await sidecar.start();
  return {
    sidecar,
    ports: Object.fromEntries(Object.entries(bound).map(([k, v]) => [k, v.port])),
  };
}

beforeAll(async () => {
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiverContentTypes.add(`${req.method} ${req.url} ${req.headers['content-type']}`);
      receive(JSON.parse(Buffer.concat(chunks).toString()) as OtlpRequest);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const otlp = `http://127.0.0.1:${await listen(receiver)}/`;

  let bCalls = 0;
  const appB = createServer((req, res) => {
    seenByB.push(req.headers);
    bCalls += 1;
    if (req.url?.startsWith('/flaky') && bCalls === 1) res.writeHead(503).end('busy');
    else res.end('b');
  });
  const appBPort = await listen(appB);
  const sidecarB = await startSidecar('b', otlp, {
    inbound: { listen: { host: '127.0.0.1', port: 0 }, app: { host: '127.0.0.1', port: appBPort } },
  });

  let outboundA = 0;
  // App A calls B through its own sidecar, passing on only the B3 header (apps forward
  // whatever trace headers they were given; A happens to know B3 only).
  const appA = createServer((req, res) => {
    const b3 = req.headers['b3'];
    get(outboundA, req.url ?? '/', { host: 'b', ...(typeof b3 === 'string' ? { b3 } : {}) }).then(
      (answer) => res.writeHead(answer.status).end(`a>${answer.body}`),
      () => res.writeHead(500).end(),
    );
  });
  const appAPort = await listen(appA);
  const sidecarA = await startSidecar('a', otlp, {
    inbound: { listen: { host: '127.0.0.1', port: 0 }, app: { host: '127.0.0.1', port: appAPort } },
  });
  outboundA = sidecarA.ports['outbound']!;

  grpcServer = new grpc.Server();
  grpcServer.addService(
    { unary: unaryMethod },
    {
      unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        if (call.request.toString() === 'missing')
          done({ code: grpc.status.NOT_FOUND, details: 'no such item' });
        else done(null, Buffer.from('ok'));
      },
    },
  );
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );

  const gateway = await startSidecar('gateway', otlp, {
    role: 'gateway',
    gateway: { host: '127.0.0.1', port: 0 },
  });
  gatewayPort = gateway.ports['gateway']!;

  const text = [
    service('a', sidecarA.ports['inbound']!),
    service('b', sidecarB.ports['inbound']!),
    service('echo', grpcPort, 'grpc'),
    doc('Route', 'b', {
      hosts: ['b'],
      destinations: [{ service: 'b' }],
      retries: { attempts: 3, retryOn: ['gateway-error'], backoff: { base: '1ms', max: '5ms' } },
    }),
    // B3 first: app A forwards only the b3 header.
    doc('Telemetry', 'mesh', { tracing: { samplingPercent: 100, propagation: ['b3', 'w3c'] } }),
  ].join('\n---\n');
  const { resources, issues } = loadConfig([{ file: 'tracing.yaml', text }]);
  expect(issues.map(formatIssue)).toEqual([]);
  for (const { sidecar } of [gateway, sidecarA, sidecarB])
    expect(sidecar.holder.apply(buildSnapshot(resources, 1)).accepted).toBe(true);
});

afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.drain()));
  await Promise.all(tracers.map((t) => t.shutdown()));
  grpcServer.forceShutdown();
  for (const server of servers) server.close();
});

async function flushed(): Promise<void> {
  await Promise.all(tracers.map((t) => t.forceFlush()));
}

function one(predicate: (span: Span) => boolean, trace: readonly Span[]): Span {
  const found = trace.filter(predicate);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('three-hop chain with a retry', () => {
  let trace: Span[];

  beforeAll(async () => {
    const answer = await get(gatewayPort, '/flaky?x=1', { host: 'a' });
    expect(answer).toEqual({ status: 200, body: 'a>b' });
    await flushed();
    const ids = new Set(
      spans.filter((s) => s.attributes['url.path'] === '/flaky').map((s) => s.traceId),
    );
    expect(ids.size).toBe(1);
    trace = spans.filter((s) => ids.has(s.traceId));
  });

  it('exports JSON to /v1/traces', () => {
    expect([...receiverContentTypes]).toEqual(['POST /v1/traces application/json']);
  });

  it('records every hop and attempt in one trace', () => {
    expect(trace.map((s) => `${s.service} ${s.kind}`).sort()).toEqual([
      'a client',
      'a client',
      'a client',
      'a internal',
      'a server',
      'b client',
      'b client',
      'b server',
      'b server',
      'gateway client',
      'gateway server',
    ]);
  });

  it('chains each attempt client span to the next hop server span', () => {
    const gatewayServer = one((s) => s.service === 'gateway' && s.kind === 'server', trace);
    expect(gatewayServer.parentSpanId).toBeUndefined();
    const gatewayClient = one((s) => s.service === 'gateway' && s.kind === 'client', trace);
    expect(gatewayClient.parentSpanId).toBe(gatewayServer.spanId);
    const aServer = one((s) => s.service === 'a' && s.kind === 'server', trace);
    expect(aServer.parentSpanId).toBe(gatewayClient.spanId);
    const aInboundClient = one(
      (s) => s.service === 'a' && s.kind === 'client' && s.parentSpanId === aServer.spanId,
      trace,
    );
    const aOutbound = one((s) => s.service === 'a' && s.kind === 'internal', trace);
    expect(aOutbound.parentSpanId).toBe(aInboundClient.spanId);
    const attempts = trace
      .filter(
        (s) => s.service === 'a' && s.kind === 'client' && s.parentSpanId === aOutbound.spanId,
      )
      .sort(
        (x, y) => Number(x.attributes['trellis.attempt']) - Number(y.attributes['trellis.attempt']),
      );
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      const bServer = one((s) => s.service === 'b' && s.parentSpanId === attempt.spanId, trace);
      expect(bServer.kind).toBe('server');
      const bClient = one((s) => s.parentSpanId === bServer.spanId, trace);
      expect(bClient.kind).toBe('client');
    }
  });

  it('shows the failed first attempt and the retry as separate spans', () => {
    const aOutbound = one((s) => s.service === 'a' && s.kind === 'internal', trace);
    const [first, second] = trace
      .filter((s) => s.parentSpanId === aOutbound.spanId)
      .sort(
        (x, y) => Number(x.attributes['trellis.attempt']) - Number(y.attributes['trellis.attempt']),
      );
    expect(first!.attributes).toMatchObject({
      'trellis.attempt': 1,
      'http.response.status_code': 503,
      'error.type': '503',
      'trellis.route': 'route/b.test',
    });
    expect(first!.error).toBe(true);
    expect(second!.attributes).toMatchObject({
      'trellis.attempt': 2,
      'http.response.status_code': 200,
      'trellis.retry_reason': 'gateway-error',
    });
    expect(second!.attributes['error.type']).toBeUndefined();
    expect(aOutbound.attributes).toMatchObject({
      'trellis.attempt': 2,
      'trellis.retry_reason': 'gateway-error',
      'http.response.status_code': 200,
    });
  });

  it('gives the gateway span the HTTP semantic-convention attributes', () => {
    const gatewayServer = one((s) => s.service === 'gateway' && s.kind === 'server', trace);
    expect(gatewayServer.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/flaky',
      'server.address': 'a',
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
      'trellis.attempt': 1,
    });
    expect(gatewayServer.error).toBe(false);
  });

  it('passes the trace id to the last app in every listed format', () => {
    const traceId = trace[0]!.traceId;
    for (const headers of seenByB.slice(0, 2)) {
      expect(headers['b3']).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}-1$`));
      expect(headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    }
  });
});

describe('requests the proxy answers itself', () => {
  it('still yields a server span carrying the error', async () => {
    const answer = await get(gatewayPort, '/nowhere', { host: 'unknown-host' });
    expect(answer.status).toBe(404);
    await flushed();
    const span = one((s) => s.attributes['url.path'] === '/nowhere', spans);
    expect(span.kind).toBe('server');
    expect(span.attributes).toMatchObject({
      'trellis.error': 'no-route',
      'error.type': 'no-route',
      'http.response.status_code': 404,
    });
    expect(span.error).toBe(true);
  });
});

describe('unsampled requests', () => {
  it('propagate the caller context with the sampled flag off and export no spans', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = seenByB.length;
    const answer = await get(gatewayPort, '/plain', {
      host: 'a',
      traceparent: `00-${traceId}-00f067aa0ba902b7-00`,
    });
    expect(answer.status).toBe(200);
    await flushed();
    expect(spans.filter((s) => s.traceId === traceId)).toEqual([]);
    expect(seenByB.length).toBe(before + 1);
    expect(seenByB[before]!['b3']).toBe(`${traceId}-00f067aa0ba902b7-0`);
  });
});

describe('gRPC', () => {
  let client: grpc.Client;

  beforeAll(() => {
    client = new grpc.Client(`127.0.0.1:${gatewayPort}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'echo',
    });
  });

  afterAll(() => client.close());

  it('names the spans by method and records rpc.* and the grpc status', async () => {
    expect(await unary(client, 'hello')).toBe(grpc.status.OK);
    await flushed();
    const server = one(
      (s) =>
        s.service === 'gateway' &&
        s.kind === 'server' &&
        s.attributes['rpc.system'] === 'grpc' &&
        s.attributes['rpc.grpc.status_code'] === 0,
      spans,
    );
    expect(server.name).toBe('trellis.test.Echo/Unary');
    expect(server.attributes).toMatchObject({
      'rpc.service': 'trellis.test.Echo',
      'rpc.method': 'Unary',
      'network.protocol.version': '2',
      'http.response.status_code': 200,
    });
    const attempt = one((s) => s.parentSpanId === server.spanId, spans);
    expect(attempt.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.grpc.status_code': 0,
      'trellis.attempt': 1,
    });
  });

  it('records a non-OK grpc status on both spans', async () => {
    expect(await unary(client, 'missing')).toBe(grpc.status.NOT_FOUND);
    await flushed();
    const server = one(
      (s) => s.kind === 'server' && s.attributes['rpc.grpc.status_code'] === grpc.status.NOT_FOUND,
      spans,
    );
    // NOT_FOUND is the caller's problem: not a server-side error (rpc semantic conventions).
    expect(server.error).toBe(false);
    const attempt = one((s) => s.parentSpanId === server.spanId, spans);
    expect(attempt.attributes).toMatchObject({ 'rpc.grpc.status_code': 5, 'error.type': '5' });
    expect(attempt.error).toBe(true);
  });
});
