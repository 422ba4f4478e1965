// The balance layer around its inner handler: the endpoint lease and the circuit-breaker slot
// are given back however the attempt ends, a throwing handler included.
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import type { ProxyRequest } from '../context.js';
import type { ProxyResponse } from '../response.js';
import { balanceLayer } from './balance.js';
import { BASE_CONFIG, catalogRequest, runtimeOf } from './testing.js';

function routedRequest() {
  const clock = new FakeClock(1_000);
  const runtime = runtimeOf(BASE_CONFIG, clock, () => 0);
  const cluster = [...runtime.clusters()][0]!;
  const request = catalogRequest(runtime, clock);
  request.destination = cluster.ref;
  return { request, cluster };
}

describe('balanceLayer', () => {
  it('picks an endpoint, then gives the slot back when the answer has no body', async () => {
    const { request, cluster } = routedRequest();
    const seen: string[] = [];
    const handler = balanceLayer()((r: ProxyRequest) => {
      seen.push(`${r.upstream?.address}:${r.upstream?.port}`);
      expect(cluster.breaker.active('active-requests')).toBe(1);
      const response: ProxyResponse = {
        status: 204,
        headers: [],
        body: undefined,
        trailers: false,
        error: undefined,
        endpoint: undefined,
      };
      return Promise.resolve(response);
    });
    expect((await handler(request)).status).toBe(204);
    expect(seen).toEqual([request.record.endpoint]);
    expect(cluster.breaker.active('active-requests')).toBe(0);
  });

  it('turns a throwing inner handler into a rejection and gives the slot back', async () => {
    const { request, cluster } = routedRequest();
    const handler = balanceLayer()(() => {
      throw new Error('boom');
    });
    let result: Promise<ProxyResponse> | undefined;
    expect(() => (result = handler(request))).not.toThrow();
    await expect(result).rejects.toThrow('boom');
    expect(cluster.breaker.active('active-requests')).toBe(0);
  });
});
