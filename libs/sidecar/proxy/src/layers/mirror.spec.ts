// The mirror layer on a fake clock: which requests are copied, what the copy carries, and that
// nothing the mirror does (hang, fail, overflow) reaches the client.
import { describe, expect, it } from 'vitest';
import { getHeader } from '../flat-headers.js';
import type { RecordedCall } from '../testing.js';
import { harness, settle } from './testing.js';

const mirrored = (percent: number, routeExtra = '') => `
---
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
  mirror: {service: shadow, percent: ${percent}}
  requestHeaders: {set: {x-env: prod}}
${routeExtra}`;

const isCopy = (call: RecordedCall) => call.target.address === '10.0.9.1';

describe('mirror decision', () => {
  it('copies a request when the random draw falls under the percentage', async () => {
    const { send, connector, stats } = harness(mirrored(30), { random: () => 0.29 });
    connector.script = (call) => call.respond(200, [], isCopy(call) ? 'copy' : 'primary');
    const written = await send({ authority: 'catalog', target: '/items' }).finished;
    expect(written.body).toBe('primary');
    expect(connector.calls.filter(isCopy)).toHaveLength(1);
    expect(stats.get('mirror_requests')).toBe(1);
  });

  it('does not copy a request when the draw reaches the percentage', async () => {
    const { send, connector, stats } = harness(mirrored(30), { random: () => 0.3 });
    connector.script = (call) => call.respond(200, [], 'primary');
    await send({ authority: 'catalog', target: '/items' }).finished;
    expect(connector.calls.filter(isCopy)).toHaveLength(0);
    expect(stats.get('mirror_requests')).toBe(0);
  });

  it('sends nothing extra for a route without a mirror', async () => {
    const { send, connector, stats } = harness();
    connector.script = (call) => call.respond(200);
    await send({ authority: 'catalog', method: 'POST', body: ['x'] }).finished;
    expect(connector.calls).toHaveLength(1);
    expect(stats.get('mirror_requests') + stats.get('mirror_dropped')).toBe(0);
  });

  it('does not copy a request the rate limit refused', async () => {
    const limit = `---
apiVersion: trellis.dev/v1alpha1
kind: RateLimit
metadata: {name: catalog, namespace: shop}
spec: {route: catalog, tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 1h}}
`;
    const { send, connector } = harness(mirrored(100) + limit);
    connector.script = (call) => call.respond(200);
    await send({ authority: 'catalog' }).finished;
    const refused = await send({ authority: 'catalog' }).finished;
    expect(refused.status).toBe(429);
    expect(connector.calls.filter(isCopy)).toHaveLength(1);
  });
});

describe('the copy', () => {
  it('relays no interim response to the client: only the primary does', async () => {
    const { send, connector } = harness(mirrored(100));
    connector.script = (call) => {
      call.informational(103, ['link', isCopy(call) ? '</copy.css>' : '</primary.css>']);
      call.respond(200, [], isCopy(call) ? 'copy' : 'primary');
    };
    const written = await send({ authority: 'catalog' }).finished;
    await settle();
    expect(connector.calls.filter(isCopy)).toHaveLength(1);
    expect(written.informational).toEqual([{ status: 103, headers: ['link', '</primary.css>'] }]);
    expect(written.body).toBe('primary');
  });

  it('has the method, target and edited headers of the request, and the -shadow authority', async () => {
    const { send, connector } = harness(mirrored(100));
    connector.script = (call) => call.respond(200);
    await send({
      authority: 'catalog:8080',
      method: 'DELETE',
      target: '/items/7?force=1',
      headers: ['x-custom', 'a'],
    }).finished;
    const [primary, copy] = [connector.calls.find((c) => !isCopy(c)), connector.calls.find(isCopy)];
    expect(copy?.target).toMatchObject({ address: '10.0.9.1', port: 9090, protocol: 'http1' });
    expect(copy?.head).toMatchObject({
      method: 'DELETE',
      target: '/items/7?force=1',
      authority: 'catalog-shadow:8080',
      hasBody: false,
    });
    expect(primary?.head.authority).toBe('catalog:8080');
    const headers = copy?.head.headers ?? [];
    expect(getHeader(headers, 'x-custom')).toBe('a');
    expect(getHeader(headers, 'x-env')).toBe('prod');
    expect(getHeader(headers, 'x-request-id')).toBe(
      getHeader(primary?.head.headers ?? [], 'x-request-id'),
    );
    expect(getHeader(headers, 'x-trellis-attempt')).toBeUndefined();
  });

  it('carries the whole request body once the client has sent it', async () => {
    const { send, connector, stats } = harness(mirrored(100));
    connector.script = (call) => call.respond(201);
    const written = await send({
      authority: 'catalog',
      method: 'POST',
      body: ['{"a":', '1}'],
    }).finished;
    expect(written.status).toBe(201);
    const copy = connector.calls.find(isCopy);
    expect(copy?.head.hasBody).toBe(true);
    expect(copy?.body.map(String).join('')).toBe('{"a":1}');
    expect(copy?.ended).toBe(true);
    expect(stats.get('mirror_requests')).toBe(1);
  });

  it('is sent once per request, however many attempts the primary takes', async () => {
    const { send, connector, clock } = harness(
      mirrored(100, '  retries: {attempts: 2, retryOn: [5xx], backoff: {base: 1ms, max: 1ms}}'),
    );
    let primaries = 0;
    connector.script = (call) => {
      if (isCopy(call)) call.respond(200);
      else call.respond(++primaries === 1 ? 503 : 200);
    };
    const client = send({ authority: 'catalog', method: 'PUT', body: ['v'] });
    await settle();
    clock.advance(1);
    await settle();
    expect((await client.finished).status).toBe(200);
    expect(primaries).toBe(2);
    expect(connector.calls.filter(isCopy)).toHaveLength(1);
  });

  it('is dropped when the body outgrows the replay buffer, and the primary still gets it all', async () => {
    const { send, connector, stats } = harness(mirrored(100), { replayLimitBytes: 4 });
    connector.script = (call) => call.respond(200);
    const written = await send({ authority: 'catalog', method: 'POST', body: ['abc', 'def'] })
      .finished;
    expect(written.status).toBe(200);
    expect(connector.calls.filter(isCopy)).toHaveLength(0);
    expect(connector.calls[0]?.body.map(String).join('')).toBe('abcdef');
    expect(stats.get('mirror_dropped')).toBe(1);
  });
});

describe('the copy never affects the primary', () => {
  it('answers the client while the mirror hangs, then drops the copy at its timeout', async () => {
    const { send, connector, clock, stats } = harness(mirrored(100, '  timeout: 2s'));
    connector.script = (call) => {
      if (!isCopy(call)) call.respond(200, [], 'primary');
    };
    const written = await send({ authority: 'catalog' }).finished;
    expect(written).toMatchObject({ status: 200, body: 'primary' });
    const copy = connector.calls.find(isCopy);
    expect(copy?.aborted).toBe(false);
    clock.advance(1_999);
    expect(copy?.aborted).toBe(false);
    clock.advance(1);
    expect(copy?.aborted).toBe(true);
    expect(stats.get('mirror_dropped')).toBe(1);
    expect(stats.get('mirror_failed')).toBe(0);
  });

  it('uses the default copy timeout for a route without a timeout', async () => {
    const { send, connector, clock } = harness(mirrored(100));
    connector.script = (call) => {
      if (!isCopy(call)) call.respond(200);
    };
    await send({ authority: 'catalog' }).finished;
    clock.advance(14_999);
    expect(connector.calls.find(isCopy)?.aborted).toBe(false);
    clock.advance(1);
    expect(connector.calls.find(isCopy)?.aborted).toBe(true);
  });

  it('counts a mirror 500 as failed and relays the primary answer unchanged', async () => {
    const { send, connector, stats, completed } = harness(mirrored(100));
    connector.script = (call) =>
      isCopy(call) ? call.respond(500, [], 'boom') : call.respond(200, [], 'primary');
    const written = await send({ authority: 'catalog' }).finished;
    await settle();
    expect(written).toMatchObject({ status: 200, body: 'primary' });
    expect(stats.get('mirror_failed')).toBe(1);
    expect(completed[0]?.request.record).toMatchObject({ attempts: 1, error: undefined });
  });

  it('counts a copy whose connection fails as failed, without retrying it', async () => {
    const { send, connector, stats } = harness(mirrored(100));
    connector.script = (call) =>
      isCopy(call) ? call.fail('connect-failure') : call.respond(200, [], 'primary');
    const written = await send({ authority: 'catalog' }).finished;
    await settle();
    expect(written.body).toBe('primary');
    expect(connector.calls.filter(isCopy)).toHaveLength(1);
    expect(stats.get('mirror_failed')).toBe(1);
  });
});
