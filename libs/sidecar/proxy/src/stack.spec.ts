// The whole request path on a fake clock and a scripted upstream: routing, retries, budgets,
// timeouts, limits and local answers, asserted on what the client and the upstream see.
import { buildSnapshot, loadConfig } from '@trellis/config';
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { getHeader } from './flat-headers.js';
import { Proxy } from './proxy.js';
import type { CompletedRequest } from './proxy.js';
import { ProxyRuntime } from './runtime.js';
import { harness } from './layers/testing.js';
import { buildInboundStack, buildStack } from './stack.js';
import { FakeConnector, fakeExchange } from './testing.js';
import { UpstreamError } from './upstream.js';

const base = `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {ports: [{port: 8080}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  endpoints: [{address: 10.0.0.1, port: 8080}, {address: 10.0.0.2, port: 8080}]
`;

function setup(extra = '', options: { random?: () => number } = {}) {
  const { resources, issues } = loadConfig([{ file: 'test.yaml', text: base + extra }]);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(JSON.stringify(errors, null, 2));
  const clock = new FakeClock(1_000);
  const random = options.random ?? (() => 0);
  const runtime = ProxyRuntime.build(buildSnapshot(resources, 1), undefined, {
    localNamespace: 'shop',
    clock,
    random,
  });
  const connector = new FakeConnector();
  const completed: CompletedRequest[] = [];
  const proxy = new Proxy({
    runtime: () => runtime,
    stack: buildStack(connector),
    clock,
    random,
    replayLimitBytes: 64 * 1024,
    onComplete: (c) => completed.push(c),
  });
  const send = (init: Parameters<typeof fakeExchange>[0]) => {
    const exchange = fakeExchange(init);
    proxy.handle(exchange.exchange);
    return exchange;
  };
  return { clock, connector, send, completed, runtime };
}

/** Lets promise chains settle between fake-clock steps. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('forwarding', () => {
  it('sends the request to an endpoint of the destination with proxy headers, and relays the answer', async () => {
    const { connector, send, completed } = setup();
    connector.script = (call) =>
      call.respond(200, ['content-type', 'text/plain', 'connection', 'keep-alive'], 'hello');
    const client = send({
      authority: 'catalog:8080',
      target: '/items?x=1',
      headers: [
        'x-custom',
        'a',
        'connection',
        'x-drop',
        'x-drop',
        'secret',
        'te',
        'trailers, deflate',
      ],
    });
    const written = await client.finished;
    expect(written).toMatchObject({ status: 200, body: 'hello', ended: true });
    expect(written.headers).toEqual(['content-type', 'text/plain']);
    const call = connector.calls[0];
    expect(call?.target).toMatchObject({ address: '10.0.0.1', port: 8080, protocol: 'http1' });
    expect(call?.head.target).toBe('/items?x=1');
    expect(call?.head.authority).toBe('catalog:8080');
    const headers = call?.head.headers ?? [];
    expect(getHeader(headers, 'x-custom')).toBe('a');
    expect(getHeader(headers, 'x-drop')).toBeUndefined();
    expect(getHeader(headers, 'te')).toBe('trailers');
    expect(getHeader(headers, 'x-forwarded-for')).toBe('127.0.0.9');
    expect(getHeader(headers, 'x-trellis-attempt')).toBe('1');
    expect(getHeader(headers, 'x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(completed[0]?.request.record).toMatchObject({
      route: 'service/catalog.shop:8080',
      attempts: 1,
      endpoint: '10.0.0.1:8080',
    });
  });

  it('keeps a client x-request-id', async () => {
    const { connector, send } = setup();
    connector.script = (call) => call.respond(204);
    await send({ authority: 'catalog.shop', headers: ['x-request-id', 'abc'] }).finished;
    expect(getHeader(connector.calls[0]?.head.headers ?? [], 'x-request-id')).toBe('abc');
  });

  it('answers 404 no-route for an unknown authority', async () => {
    const { send, connector } = setup();
    const written = await send({ authority: 'nope.example' }).finished;
    expect(written.status).toBe(404);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('no-route');
    expect(written.body).toBe('no route for nope.example/\n');
    expect(connector.calls).toHaveLength(0);
  });

  it('answers a gRPC client with a trailers-only error', async () => {
    const { send } = setup();
    const written = await send({ authority: 'nope', headers: ['content-type', 'application/grpc'] })
      .finished;
    expect(written.status).toBe(200);
    expect(getHeader(written.headers, 'grpc-status')).toBe('12');
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('no-route');
  });
});

describe('route actions', () => {
  const routes = `
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: legacy, namespace: shop}
spec:
  hosts: [catalog]
  match: {path: {prefix: /old}}
  redirect: {status: 308, prefix: /new}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: maintenance, namespace: shop}
spec:
  hosts: [catalog]
  match: {path: {exact: /down}}
  directResponse: {status: 503, body: "back soon"}
  responseHeaders: {set: {retry-after: "60"}}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: edited, namespace: shop}
spec:
  hosts: [catalog]
  match: {path: {prefix: /v1}}
  rewrite: {prefix: /api/v1, host: catalog.internal}
  destinations: [{service: catalog}]
  requestHeaders: {set: {x-env: prod}, remove: [x-debug]}
  responseHeaders: {add: {x-served-by: trellis}}
`;

  it('redirects with the rewritten prefix', async () => {
    const { send } = setup(routes);
    const written = await send({ authority: 'catalog:8080', target: '/old/a?b=1' }).finished;
    expect(written.status).toBe(308);
    expect(getHeader(written.headers, 'location')).toBe('http://catalog:8080/new/a?b=1');
  });

  it('answers directly with the configured body and headers', async () => {
    const { send } = setup(routes);
    const written = await send({ authority: 'catalog', target: '/down' }).finished;
    expect(written).toMatchObject({ status: 503, body: 'back soon' });
    expect(getHeader(written.headers, 'retry-after')).toBe('60');
  });

  it('rewrites path and host and edits headers both ways', async () => {
    const { send, connector } = setup(routes);
    connector.script = (call) => call.respond(200, ['x-upstream', '1'], 'ok');
    const written = await send({
      authority: 'catalog',
      target: '/v1/items',
      headers: ['x-debug', '1'],
    }).finished;
    const head = connector.calls[0]?.head;
    expect(head?.target).toBe('/api/v1/items');
    expect(head?.authority).toBe('catalog.internal');
    expect(getHeader(head?.headers ?? [], 'x-env')).toBe('prod');
    expect(getHeader(head?.headers ?? [], 'x-debug')).toBeUndefined();
    expect(written.headers).toEqual(['x-upstream', '1', 'x-served-by', 'trellis']);
  });
});

describe('retries', () => {
  const retryRoute = (retries: string, extra = '') => `
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
  retries: ${retries}
${extra}`;

  it('retries a 503 after backoff and answers with the retry', async () => {
    const { send, connector, clock, completed } = setup(
      retryRoute('{attempts: 2, retryOn: [5xx], backoff: {base: 10ms, max: 10ms}}'),
      {
        random: () => 0.5,
      },
    );
    connector.script = (call) =>
      connector.calls.length === 1 ? call.respond(503, [], 'busy') : call.respond(200, [], 'ok');
    const client = send({ authority: 'catalog' });
    await settle();
    expect(connector.calls).toHaveLength(1);
    expect(connector.calls[0]?.aborted).toBe(false);
    clock.advance(5);
    await settle();
    const written = await client.finished;
    expect(written).toMatchObject({ status: 200, body: 'ok' });
    expect(connector.calls.map((c) => getHeader(c.head.headers, 'x-trellis-attempt'))).toEqual([
      '1',
      '2',
    ]);
    expect(completed[0]?.request.record.retryReasons).toEqual(['5xx']);
  });

  it('does not retry a POST that reached the upstream, but does retry one that never connected', async () => {
    const { send, connector, clock } = setup(
      retryRoute('{attempts: 2, retryOn: [5xx, connect-failure], backoff: {base: 1ms, max: 1ms}}'),
    );
    connector.script = (call) => call.respond(503, [], 'no');
    const post = await send({ method: 'POST', authority: 'catalog', body: ['x'] }).finished;
    expect(post.status).toBe(503);
    expect(connector.calls).toHaveLength(1);

    connector.script = (call) =>
      connector.calls.length === 2 ? call.fail('connect-failure') : call.respond(201, [], 'made');
    const client = send({ method: 'POST', authority: 'catalog', body: ['{"a":', '1}'] });
    await settle();
    clock.advance(1);
    await settle();
    const written = await client.finished;
    expect(written.status).toBe(201);
    // The retry carries the whole body again.
    expect(connector.calls[2]?.body.map(String).join('')).toBe('{"a":1}');
  });

  it('turns an unretried connect failure into 503 upstream-connect-failure', async () => {
    const { send, connector } = setup();
    connector.script = (call) => call.fail('connect-failure');
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.status).toBe(503);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('upstream-connect-failure');
  });

  it('retries after a per-try timeout and aborts the slow attempt', async () => {
    const { send, connector, clock } = setup(
      retryRoute(
        '{attempts: 1, perTryTimeout: 100ms, retryOn: [reset], backoff: {base: 1ms, max: 1ms}}',
      ),
    );
    connector.script = (call) => {
      if (connector.calls.length === 2) call.respond(200, [], 'second');
    };
    const client = send({ authority: 'catalog' });
    await settle();
    clock.advance(100);
    await settle();
    clock.advance(1);
    await settle();
    expect((await client.finished).body).toBe('second');
    expect(connector.calls[0]?.aborted).toBe(true);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const budget = `---
apiVersion: trellis.dev/v1alpha1
kind: RetryBudget
metadata: {name: catalog, namespace: shop}
spec: {service: catalog, ratio: 0, minRetriesPerSecond: 0}
`;
    const { send, connector } = setup(retryRoute('{attempts: 3, retryOn: [reset]}', budget));
    connector.script = (call) => call.fail('reset');
    const written = await send({ authority: 'catalog' }).finished;
    expect(connector.calls).toHaveLength(1);
    expect(written.status).toBe(503);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('budget-exhausted');
  });
});

describe('timeouts and limits', () => {
  it('answers 504 request-timeout when the route timeout fires, and aborts the attempt', async () => {
    const { send, connector, clock } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec: {hosts: [catalog], destinations: [{service: catalog}], timeout: 250ms}
`);
    const client = send({ authority: 'catalog' });
    await settle();
    clock.advance(250);
    const written = await client.finished;
    expect(written.status).toBe(504);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('request-timeout');
    await settle();
    expect(connector.calls[0]?.aborted).toBe(true);
  });

  it('honours a shorter grpc-timeout from the client', async () => {
    const { send, clock } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec: {hosts: [catalog], destinations: [{service: catalog}], timeout: 10s}
`);
    const client = send({
      authority: 'catalog',
      headers: ['content-type', 'application/grpc', 'grpc-timeout', '50m'],
    });
    await settle();
    clock.advance(50);
    const written = await client.finished;
    expect(getHeader(written.headers, 'grpc-status')).toBe('4');
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('grpc-deadline-exceeded');
  });

  it('rate limits with 429 and retry-after', async () => {
    const { send, connector } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: RateLimit
metadata: {name: catalog, namespace: shop}
spec: {service: catalog, tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 2s}}
`);
    connector.script = (call) => call.respond(200);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(200);
    const limited = await send({ authority: 'catalog' }).finished;
    expect(limited.status).toBe(429);
    expect(getHeader(limited.headers, 'retry-after')).toBe('2');
    expect(getHeader(limited.headers, 'x-trellis-error')).toBe('rate-limited');
    expect(connector.calls).toHaveLength(1);
  });

  it('sheds load with 503 overloaded when the active-request limit is reached', async () => {
    const { send, connector } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: catalog, namespace: shop}
spec: {service: catalog, connectionPool: {maxActiveRequests: 1}}
`);
    const first = send({ authority: 'catalog' });
    await settle();
    const second = await send({ authority: 'catalog' }).finished;
    expect(second.status).toBe(503);
    expect(getHeader(second.headers, 'x-trellis-overloaded')).toBe('active-requests');
    connector.calls[0]?.respond(200);
    expect((await first.finished).status).toBe(200);
    connector.script = (call) => call.respond(200);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(200);
  });

  it('ejects an endpoint after consecutive gateway errors and sends traffic to the other', async () => {
    const { send, connector } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  loadBalancer: {algorithm: round-robin}
  outlierDetection: {consecutiveGatewayErrors: 2, maxEjectionPercent: 50}
`);
    connector.script = (call) => call.respond(call.target.address === '10.0.0.1' ? 502 : 200);
    for (let i = 0; i < 6; i++) await send({ authority: 'catalog' }).finished;
    const bad = connector.calls.filter((c) => c.target.address === '10.0.0.1').length;
    expect(bad).toBe(2);
    expect(connector.calls.slice(-2).map((c) => c.target.address)).toEqual([
      '10.0.0.2',
      '10.0.0.2',
    ]);
  });

  it('opens the circuit of a destination whose DestinationPolicy sets failureAccrual', async () => {
    const { send, connector, completed, clock } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  failureAccrual: {consecutiveFailures: 2, minPenalty: 5s, maxPenalty: 30s}
`);
    connector.script = (call) => call.fail('connect-failure');
    for (let i = 0; i < 2; i++) {
      const failed = await send({ authority: 'catalog' }).finished;
      expect(getHeader(failed.headers, 'x-trellis-error')).toBe('upstream-connect-failure');
    }
    const open = await send({ authority: 'catalog' }).finished;
    expect(open.status).toBe(503);
    expect(getHeader(open.headers, 'x-trellis-error')).toBe('circuit-open');
    expect(connector.calls).toHaveLength(2);
    expect(completed[2]?.request.record.error).toBe('circuit-open');
    clock.advance(5_000);
    connector.script = (call) => call.respond(200, [], 'back');
    expect(await send({ authority: 'catalog' }).finished).toMatchObject({
      status: 200,
      body: 'back',
    });
    expect(connector.calls).toHaveLength(3);
  });

  it('aborts a share of requests with the configured status when a fault is injected', async () => {
    const { send, connector } = setup(`---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
  fault: {abort: {percent: 100, httpStatus: 418}}
`);
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.status).toBe(418);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('fault-injected');
    expect(connector.calls).toHaveLength(0);
  });
});

describe('inbound', () => {
  it('resends a GET the pool reports as never answered on a stale connection to the app', async () => {
    const clock = new FakeClock(0);
    const connector = new FakeConnector();
    const proxy = new Proxy({
      runtime: () => ProxyRuntime.empty({ localNamespace: 'shop', clock, random: () => 0 }),
      stack: buildInboundStack(connector, { host: '127.0.0.1', port: 8080 }),
      clock,
      random: () => 0,
      replayLimitBytes: 1024,
    });
    connector.script = (call) =>
      connector.calls.length === 1
        ? call.handler.onError(new UpstreamError('reset', 'stale', { staleConnection: true }))
        : call.respond(200, [], 'app');
    const exchange = fakeExchange({ authority: 'me' });
    proxy.handle(exchange.exchange);
    expect(await exchange.finished).toMatchObject({ status: 200, body: 'app' });
    expect(connector.calls.map((c) => c.target.port)).toEqual([8080, 8080]);
  });
});

describe('layer order', () => {
  const shadow = `---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: shadow, namespace: shop}
spec: {ports: [{port: 9090}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: shadow, namespace: shop}
spec: {service: shadow, endpoints: [{address: 10.0.9.1, port: 9090}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
  mirror: {service: shadow}
`;
  /** failureAccrual opening at the first failure, for `service`. */
  const breakerFor = (service: string) => `---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: ${service}, namespace: shop}
spec:
  service: ${service}
  failureAccrual: {consecutiveFailures: 1, minPenalty: 1s, maxPenalty: 1s}
`;

  it('mirrors per request, outside the breaker: a circuit-open request is still copied', async () => {
    const { send, connector } = harness(shadow + breakerFor('catalog'));
    connector.script = (call) => call.respond(call.target.port === 9090 ? 200 : 500);
    await send({ authority: 'catalog' }).finished;
    const refused = await send({ authority: 'catalog' }).finished;
    expect(getHeader(refused.headers, 'x-trellis-error')).toBe('circuit-open');
    expect(connector.calls.map((c) => c.target.port)).toEqual([9090, 8080, 9090]);
  });

  it('keeps copies out of the breaker: a failing mirror never opens the primary destination', async () => {
    const { send, connector, stats } = harness(
      shadow + breakerFor('catalog') + breakerFor('shadow'),
    );
    connector.script = (call) => call.respond(call.target.port === 9090 ? 500 : 200);
    for (let i = 0; i < 3; i++)
      expect((await send({ authority: 'catalog' }).finished).status).toBe(200);
    await settle();
    expect(stats.get('mirror_failed')).toBe(3);
    expect(connector.calls.filter((c) => c.target.port === 8080)).toHaveLength(3);
  });
});
