// The failure-accrual layer on a fake clock: the breaker opens after consecutive failed
// attempts, answers circuit-open without touching the upstream, probes once after the
// cool-down, and closes or re-opens on the probe's result. The breaker comes from the
// destination's DestinationPolicy.failureAccrual and survives config swaps that keep it.
import { FakeClock } from '@trellis/time';
import { describe, expect, it } from 'vitest';
import { getHeader } from '../flat-headers.js';
import type { Cluster } from '../runtime.js';
import { BASE_CONFIG, harness, runtimeOf, settle } from './testing.js';

/** A DestinationPolicy for catalog with `spec` (failure accrual unless given otherwise). */
const policy = (
  spec = 'failureAccrual: {consecutiveFailures: 3, minPenalty: 1s, maxPenalty: 8s}',
) => `---
apiVersion: trellis.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  ${spec}
`;
const withBreaker = policy();

describe('failure accrual', () => {
  it('opens after maxFailures consecutive failed attempts and answers circuit-open at once', async () => {
    const { send, connector, completed } = harness(withBreaker);
    connector.script = (call) => call.respond(500, [], 'boom');
    for (let i = 0; i < 3; i++)
      expect((await send({ authority: 'catalog' }).finished).status).toBe(500);
    const written = await send({ authority: 'catalog' }).finished;
    expect(written.status).toBe(503);
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('circuit-open');
    expect(getHeader(written.headers, 'x-trellis-overloaded')).toBeUndefined();
    expect(connector.calls).toHaveLength(3);
    expect(completed[3]?.request.record.error).toBe('circuit-open');
  });

  it('counts transport failures and forgets failures after a success', async () => {
    const { send, connector } = harness(withBreaker);
    const script = ['reset', 'connect-failure', 200, 'reset', 502, 200] as const;
    connector.script = (call) => {
      const step = script[connector.calls.length - 1];
      if (typeof step === 'number') call.respond(step);
      else if (step !== undefined) call.fail(step);
    };
    const statuses: number[] = [];
    for (let i = 0; i < script.length; i++)
      statuses.push((await send({ authority: 'catalog' }).finished).status ?? 0);
    expect(statuses).toEqual([502, 503, 200, 502, 502, 200]);
    expect(connector.calls).toHaveLength(6);
  });

  it('does not count 4xx answers as failures', async () => {
    const { send, connector } = harness(withBreaker);
    connector.script = (call) => call.respond(404);
    for (let i = 0; i < 5; i++) await send({ authority: 'catalog' }).finished;
    expect(connector.calls).toHaveLength(5);
  });

  it('lets one probe through after the cool-down and rejects concurrent requests meanwhile', async () => {
    const { send, connector, clock } = harness(withBreaker);
    connector.script = (call) => call.respond(503);
    for (let i = 0; i < 3; i++) await send({ authority: 'catalog' }).finished;
    clock.advance(999);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(503);
    expect(connector.calls).toHaveLength(3);
    clock.advance(1);
    connector.script = undefined; // the probe hangs until answered below
    const probe = send({ authority: 'catalog' });
    await settle();
    const concurrent = await send({ authority: 'catalog' }).finished;
    expect(getHeader(concurrent.headers, 'x-trellis-error')).toBe('circuit-open');
    expect(connector.calls).toHaveLength(4);
    connector.calls[3]?.respond(200, [], 'back');
    expect((await probe.finished).body).toBe('back');
  });

  it('closes when the probe succeeds', async () => {
    const { send, connector, clock } = harness(withBreaker);
    connector.script = (call) => call.respond(503);
    for (let i = 0; i < 3; i++) await send({ authority: 'catalog' }).finished;
    clock.advance(1_000);
    connector.script = (call) => call.respond(200);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await send({ authority: 'catalog' }).finished).status ?? 0);
    expect(statuses).toEqual([200, 200, 200]);
    expect(connector.calls).toHaveLength(6);
  });

  it('re-opens with a doubled cool-down when the probe fails', async () => {
    const { send, connector, clock } = harness(withBreaker);
    connector.script = (call) => call.respond(503);
    for (let i = 0; i < 3; i++) await send({ authority: 'catalog' }).finished;
    clock.advance(1_000);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(503);
    expect(connector.calls).toHaveLength(4);
    clock.advance(1_999);
    const stillOpen = await send({ authority: 'catalog' }).finished;
    expect(getHeader(stillOpen.headers, 'x-trellis-error')).toBe('circuit-open');
    clock.advance(1);
    await send({ authority: 'catalog' }).finished;
    expect(connector.calls).toHaveLength(5);
  });

  it('lets the next request probe when the probe was cancelled by the route timeout', async () => {
    const route = `---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec: {hosts: [catalog], destinations: [{service: catalog}], timeout: 100ms}
`;
    const { send, connector, clock } = harness(route + withBreaker);
    connector.script = (call) => call.respond(503);
    for (let i = 0; i < 3; i++) await send({ authority: 'catalog' }).finished;
    clock.advance(1_000);
    connector.script = undefined;
    const probe = send({ authority: 'catalog' });
    await settle();
    clock.advance(100);
    expect(getHeader((await probe.finished).headers, 'x-trellis-error')).toBe('request-timeout');
    connector.script = (call) => call.respond(200);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(200);
    expect(connector.calls).toHaveLength(5);
  });

  it('stops the retries of a request once the breaker opens (circuit-open is final)', async () => {
    const route = `---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
  retries: {attempts: 5, retryOn: [5xx], backoff: {base: 1ms, max: 1ms}}
`;
    const { send, connector, clock, completed } = harness(route + withBreaker);
    connector.script = (call) => call.respond(503);
    const client = send({ authority: 'catalog' });
    for (let i = 0; i < 4; i++) {
      await settle();
      clock.advance(1);
    }
    const written = await client.finished;
    expect(getHeader(written.headers, 'x-trellis-error')).toBe('circuit-open');
    expect(connector.calls).toHaveLength(3);
    expect(completed[0]?.request.record.attempts).toBe(4);
  });

  it('does not count answers the proxy made itself (limits) as failures', async () => {
    const limited = policy(`connectionPool: {maxActiveRequests: 1}
  failureAccrual: {consecutiveFailures: 3}`);
    const { send, connector } = harness(limited);
    const held = send({ authority: 'catalog' });
    await settle();
    for (let i = 0; i < 4; i++) {
      const refused = await send({ authority: 'catalog' }).finished;
      expect(getHeader(refused.headers, 'x-trellis-error')).toBe('overloaded');
    }
    connector.calls[0]?.respond(200);
    await held.finished;
    connector.script = (call) => call.respond(200);
    expect((await send({ authority: 'catalog' }).finished).status).toBe(200);
  });

  it('passes requests straight through for destinations without failureAccrual', async () => {
    const { send, connector, runtime } = harness(policy('connectionPool: {maxActiveRequests: 8}'));
    connector.script = (call) => call.respond(500);
    for (let i = 0; i < 10; i++) await send({ authority: 'catalog' }).finished;
    expect(connector.calls).toHaveLength(10);
    expect([...runtime.clusters()].map((c) => c.failureAccrual)).toEqual([undefined]);
  });

  it('opens after the default 7 failures when failureAccrual is empty', async () => {
    const { send, connector } = harness(policy('failureAccrual: {}'));
    connector.script = (call) => call.respond(502);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await send({ authority: 'catalog' }).finished).status ?? 0);
    expect(statuses).toEqual([502, 502, 502, 502, 502, 502, 502, 503]);
    expect(connector.calls).toHaveLength(7);
  });
});

describe('breaker state across config swaps', () => {
  const clock = new FakeClock(0);
  const random = () => 0;
  const catalogOf = (runtime: ReturnType<typeof runtimeOf>) =>
    [...runtime.clusters()].find((c) => c.ref.name === 'catalog') as Cluster;
  const swap = (before: string, after: string) => {
    const first = runtimeOf(BASE_CONFIG + before, clock, random);
    const second = runtimeOf(BASE_CONFIG + after, clock, random, first);
    return [catalogOf(first).failureAccrual, catalogOf(second).failureAccrual] as const;
  };

  it('builds the breaker from the policy: consecutiveFailures, then minPenalty', () => {
    const [breaker] = swap(withBreaker, withBreaker);
    for (let i = 0; i < 3; i++) breaker?.report('admitted', 'failure');
    expect([breaker?.state, breaker?.probeAt]).toEqual(['open', 1_000]);
  });

  it('keeps the breaker, open or not, across a swap that leaves its settings alone', () => {
    const [before, after] = swap(
      withBreaker,
      policy(`failureAccrual: {consecutiveFailures: 3, minPenalty: 1s, maxPenalty: 8s}
  connectionPool: {maxActiveRequests: 5}`),
    );
    expect(before).toBeDefined();
    expect(after).toBe(before);
  });

  it('keeps the breaker when the same settings are written differently', () => {
    const [before, after] = swap(
      withBreaker,
      policy('failureAccrual: {maxPenalty: 8000ms, minPenalty: 1000ms, consecutiveFailures: 3}'),
    );
    expect(before).toBeDefined();
    expect(after).toBe(before);
  });

  it('starts a fresh breaker when its settings change', () => {
    const [before, after] = swap(withBreaker, policy('failureAccrual: {consecutiveFailures: 5}'));
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('drops the breaker when failureAccrual is removed', () => {
    expect(swap(withBreaker, '')).toEqual([expect.anything(), undefined]);
  });
});
