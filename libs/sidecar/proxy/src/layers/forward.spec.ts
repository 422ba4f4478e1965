// The forward layer relaying an attempt's interim 1xx responses to the client: filtered like a
// response head, in order ahead of it, and never once the attempt is settled or given up.
import { describe, expect, it } from 'vitest';
import { harness, settle } from './testing.js';

const LINK = ['link', '</style.css>; rel=preload; as=style'];

const perTryTimeout = `
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
  retries: {attempts: 1, perTryTimeout: 100ms, retryOn: [reset], backoff: {base: 1ms, max: 1ms}}
`;

describe('forward: interim responses', () => {
  it('relays a 103 ahead of the final response, without hop-by-hop fields', async () => {
    const { send, connector } = harness();
    connector.script = (call) => {
      call.informational(103, [
        ...LINK,
        'connection',
        'x-hop',
        'x-hop',
        'secret',
        'keep-alive',
        'timeout=5',
      ]);
      call.respond(200, ['content-type', 'text/plain'], 'page');
    };
    const client = send({ authority: 'catalog' });
    const written = await client.finished;
    expect(written.informational).toEqual([{ status: 103, headers: LINK }]);
    expect(written).toMatchObject({ status: 200, body: 'page' });
  });

  it('hands every 1xx to the writer in order (the writer drops what its client cannot take)', async () => {
    const { send, connector } = harness();
    connector.script = (call) => {
      call.informational(100, []);
      call.informational(102, []);
      call.informational(103, LINK);
      call.respond(204);
    };
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.informational.map((i) => i.status)).toEqual([100, 102, 103]);
  });

  it('relays nothing after the final head', async () => {
    const { send, connector } = harness();
    connector.script = (call) => {
      call.handler.onResponseHead(200, []);
      call.informational(103, LINK);
      call.handler.onEnd(undefined);
    };
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.status).toBe(200);
    expect(written.informational).toEqual([]);
  });

  it('relays nothing from an attempt given up at its per-try timeout', async () => {
    const { send, connector, clock } = harness(perTryTimeout);
    connector.script = (call) => {
      if (connector.calls.length === 2) call.respond(200, [], 'second');
    };
    const client = send({ authority: 'catalog' });
    await settle();
    clock.advance(100);
    await settle();
    // The slow upstream answers late; its call was aborted, but the report must go nowhere.
    connector.calls[0]?.handler.onInformational?.(103, [...LINK]);
    clock.advance(1);
    await settle();
    const written = await client.finished;
    expect(written.body).toBe('second');
    expect(written.informational).toEqual([]);
  });
});
