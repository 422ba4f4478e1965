// The retry layer's resend of attempts the upstream pool flags as safe to resend (a reused
// keep-alive connection that died before any response byte): immediate, outside the route's
// policy and budget, bounded; any method when no byte was written, else idempotent ones only.
import { describe, expect, it } from 'vitest';
import { getHeader } from '../flat-headers.js';
import type { ProxyResponse } from '../response.js';
import type { RecordedCall } from '../testing.js';
import { UpstreamError } from '../upstream.js';
import { MAX_UNSENT_RESENDS, retryLayer } from './retry.js';
import { catalogRequest, harness, settle } from './testing.js';

/** What the HTTP/1.1 pool reports for a stale keep-alive connection the request went out on. */
const staleReset = (call: RecordedCall) =>
  call.handler.onError(
    new UpstreamError('reset', 'closed the connection before responding', {
      staleConnection: true,
    }),
  );

/** ... and for one that was found reset before any byte of the request was written. */
const unwrittenReset = (call: RecordedCall) =>
  call.handler.onError(
    new UpstreamError('reset', 'closed the connection before responding', {
      retriableAnyMethod: true,
      staleConnection: true,
    }),
  );

const route = (retries: string, extra = '') => `---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
  retries: ${retries}
${extra}`;

const noBudget = `---
apiVersion: trellis.dev/v1alpha1
kind: RetryBudget
metadata: {name: catalog, namespace: shop}
spec: {service: catalog, ratio: 0, minRetriesPerSecond: 0}
`;

describe('resending never-answered attempts on stale connections', () => {
  it('resends a GET at once, without any retry policy, numbering the attempt', async () => {
    const { send, connector, completed } = harness();
    connector.script = (call) =>
      connector.calls.length === 1 ? staleReset(call) : call.respond(200, [], 'ok');
    const written = await send({ authority: 'catalog' }).finished;
    expect(written).toMatchObject({ status: 200, body: 'ok' });
    expect(connector.calls.map((c) => getHeader(c.head.headers, 'x-trellis-attempt'))).toEqual([
      '1',
      '2',
    ]);
    expect(completed[0]?.request.record).toMatchObject({
      attempts: 2,
      retryReasons: ['reset-before-request'],
    });
  });

  it('resends even when the retry budget allows no retry', async () => {
    const { send, connector } = harness(route('{attempts: 2, retryOn: [reset]}', noBudget));
    connector.script = (call) =>
      connector.calls.length === 1 ? staleReset(call) : call.respond(200);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(200);
    expect(connector.calls).toHaveLength(2);
  });

  it('does not use up the route attempts: a real failure after a resend is still retried', async () => {
    const { send, connector, clock, completed } = harness(
      route('{attempts: 1, retryOn: [5xx], backoff: {base: 1ms, max: 1ms}}'),
    );
    connector.script = (call) => {
      const n = connector.calls.length;
      if (n === 1) staleReset(call);
      else call.respond(n === 2 ? 503 : 200);
    };
    const client = send({ authority: 'catalog' });
    await settle();
    clock.advance(1);
    await settle();
    expect((await client.finished).status).toBe(200);
    expect(connector.calls).toHaveLength(3);
    expect(completed[0]?.request.record.retryReasons).toEqual(['reset-before-request', '5xx']);
  });

  it('resends a PUT with its whole body', async () => {
    const { send, connector } = harness();
    connector.script = (call) =>
      connector.calls.length === 1 ? staleReset(call) : call.respond(204);
    const written = await send({ authority: 'catalog', method: 'PUT', body: ['ab', 'cd'] })
      .finished;
    expect(written.status).toBe(204);
    expect(connector.calls[1]?.body.map(String).join('')).toBe('abcd');
  });

  it('resends a POST with its body when no byte of it was written', async () => {
    const { send, connector, completed } = harness();
    connector.script = (call) =>
      connector.calls.length === 1 ? unwrittenReset(call) : call.respond(201);
    const written = await send({ authority: 'catalog', method: 'POST', body: ['ab', 'cd'] })
      .finished;
    expect(written.status).toBe(201);
    expect(connector.calls[1]?.body.map(String).join('')).toBe('abcd');
    expect(completed[0]?.request.record.retryReasons).toEqual(['reset-before-request']);
  });

  it('does not resend a POST that may have been written: the upstream may have got it', async () => {
    const { send, connector } = harness();
    connector.script = (call) => staleReset(call);
    const written = await send({ authority: 'catalog', method: 'POST', body: ['x'] }).finished;
    expect(written.status).toBe(502);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('upstream-reset');
    expect(connector.calls).toHaveLength(1);
  });

  it('does not resend a reset the pool does not flag', async () => {
    const { send, connector } = harness();
    connector.script = (call) => call.fail('reset');
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.status).toBe(502);
    expect(connector.calls).toHaveLength(1);
  });

  it('leaves connect failures to the route policy (they signal a down endpoint)', async () => {
    const { send, connector } = harness();
    connector.script = (call) => call.fail('connect-failure');
    const written = await send({ authority: 'catalog' }).finished;
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('upstream-connect-failure');
    expect(connector.calls).toHaveLength(1);
  });

  it('does not resend when the body no longer fits the replay buffer', async () => {
    const { send, connector } = harness('', { replayLimitBytes: 2 });
    connector.script = (call) => staleReset(call);
    const written = await send({ authority: 'catalog', method: 'PUT', body: ['abc'] }).finished;
    expect(written.status).toBe(502);
    expect(connector.calls).toHaveLength(1);
  });

  it(`gives up after ${MAX_UNSENT_RESENDS} resends`, async () => {
    const { send, connector, completed } = harness();
    connector.script = (call) => staleReset(call);
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.status).toBe(502);
    expect(connector.calls).toHaveLength(MAX_UNSENT_RESENDS + 1);
    expect(completed[0]?.request.record.attempts).toBe(MAX_UNSENT_RESENDS + 1);
  });
});

describe('retry layer without a retry policy', () => {
  it('answers a throwing inner handler with a rejection, not a throw', async () => {
    const { runtime, clock } = harness();
    const request = catalogRequest(runtime, clock);
    const handler = retryLayer()(() => {
      throw new Error('boom');
    });
    let result: Promise<ProxyResponse> | undefined;
    expect(() => (result = handler(request))).not.toThrow();
    await expect(result).rejects.toThrow('boom');
  });
});
