// The mesh's NATS users against a real nats-server: each may do its part of the protocol and
// nothing more. A denied publish is dropped and reported on the publisher's status stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermissionViolationError, connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { KV_CONFIG_BUCKET, KV_CONFIG_KEY, subjects } from '@trellis/mesh-protocol';
import { stopAllNatsServers } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { PASSWORDS, startMeshNats, until } from '../testing/harness.js';
import { CONTROL_PLANE_NATS_USER, SIDECAR_NATS_USER, trellisNatsUsers } from './nats-users.js';

afterAll(stopAllNatsServers);

let nats: NatsServerHandle;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  nats = await startMeshNats();
});

afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close();
});

async function as(user: string, pass: string) {
  const nc = await connect({ servers: nats.url, user, pass });
  connections.push(nc);
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const s of nc.status())
      if (s.type === 'error' && s.error instanceof PermissionViolationError)
        violations.push(s.error);
  })();
  return { nc, violations };
}

const sidecar = () => as(SIDECAR_NATS_USER, PASSWORDS.sidecarPassword);
const controlPlane = () => as(CONTROL_PLANE_NATS_USER, PASSWORDS.controlPlanePassword);

describe('trellisNatsUsers', () => {
  it('names the two users with their passwords', () => {
    const users = trellisNatsUsers({ controlPlanePassword: 'p1', sidecarPassword: 'p2' });
    expect(users.map((u) => [u.user, u.password])).toEqual([
      ['trellis-control-plane', 'p1'],
      ['trellis-sidecar', 'p2'],
    ]);
  });

  it('refuses an empty password', () => {
    expect(() => trellisNatsUsers({ controlPlanePassword: '', sidecarPassword: 'p' })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
  });

  it('does not let a sidecar publish config updates', async () => {
    const listener = await sidecar();
    const received: string[] = [];
    listener.nc.subscribe(subjects.configUpdates, {
      callback: (_e, m) => void received.push(m.string()),
    });
    await listener.nc.flush();
    const rogue = await sidecar();
    rogue.nc.publish(subjects.configUpdates, '{"version":999}');
    await rogue.nc.flush();
    const [violation] = await until(
      'the violation',
      () => rogue.violations.length > 0 && rogue.violations,
    );
    expect([violation?.operation, violation?.subject]).toEqual(['publish', subjects.configUpdates]);
    await listener.nc.flush();
    expect(received).toEqual([]);
  });

  it('does not let a sidecar write the stored config', async () => {
    const rogue = await sidecar();
    rogue.nc.publish(`$KV.${KV_CONFIG_BUCKET}.${KV_CONFIG_KEY}`, '{}');
    const [violation] = await until(
      'the violation',
      () => rogue.violations.length > 0 && rogue.violations,
    );
    expect(violation?.subject).toBe(`$KV.${KV_CONFIG_BUCKET}.${KV_CONFIG_KEY}`);
  });

  it('does not let a sidecar read other sidecars’ status', async () => {
    const rogue = await sidecar();
    const sub = rogue.nc.subscribe(subjects.allStatus);
    const closed = await sub.closed;
    expect(closed).toBeInstanceOf(PermissionViolationError);
    expect((closed as PermissionViolationError).operation).toBe('subscription');
  });

  it('lets a sidecar do its part: sync requests, its status, config updates', async () => {
    const cp = await controlPlane();
    cp.nc.subscribe(subjects.sync, {
      callback: (_e, m) => void m.respond('{"kind":"current","version":1,"hash":"h"}'),
    });
    const statuses: string[] = [];
    cp.nc.subscribe(subjects.allStatus, { callback: (_e, m) => void statuses.push(m.subject) });
    await cp.nc.flush();
    const s = await sidecar();
    const updates: string[] = [];
    s.nc.subscribe(subjects.configUpdates, { callback: (_e, m) => void updates.push(m.string()) });
    await s.nc.flush();
    expect((await s.nc.request(subjects.sync, '{}', { timeout: 2_000 })).string()).toContain(
      'current',
    );
    s.nc.publish(subjects.status('shop', 'web-1'), '{}');
    cp.nc.publish(subjects.configUpdates, '{"version":1}');
    await until('status and update delivered', () => statuses.length === 1 && updates.length === 1);
    expect([statuses, updates]).toEqual([[subjects.status('shop', 'web-1')], ['{"version":1}']]);
    expect([s.violations, cp.violations]).toEqual([[], []]);
  });

  it('lets a sidecar publish telemetry, which the control plane receives', async () => {
    const cp = await controlPlane();
    const seen: string[] = [];
    cp.nc.subscribe(subjects.allTelemetry, { callback: (_e, m) => void seen.push(m.subject) });
    await cp.nc.flush();
    const s = await sidecar();
    s.nc.publish(subjects.telemetry('shop', 'web-1'), '{"v":1}');
    await until('telemetry delivered', () => seen.length === 1);
    expect(seen).toEqual([subjects.telemetry('shop', 'web-1')]);
    expect([s.violations, cp.violations]).toEqual([[], []]);
  });

  it('does not let a sidecar read other sidecars’ telemetry', async () => {
    const rogue = await sidecar();
    const closed = await rogue.nc.subscribe(subjects.telemetry('shop', 'web-2')).closed;
    expect(closed).toBeInstanceOf(PermissionViolationError);
  });

  it('does not let the control plane publish telemetry for a sidecar', async () => {
    const cp = await controlPlane();
    cp.nc.publish(subjects.telemetry('shop', 'web-1'), '{"v":1}');
    const [violation] = await until(
      'the violation',
      () => cp.violations.length > 0 && cp.violations,
    );
    expect(violation?.subject).toBe(subjects.telemetry('shop', 'web-1'));
  });

  it('does not let the control plane speak for a sidecar', async () => {
    const cp = await controlPlane();
    cp.nc.publish(subjects.status('shop', 'web-1'), '{}');
    const [violation] = await until(
      'the violation',
      () => cp.violations.length > 0 && cp.violations,
    );
    expect(violation?.subject).toBe(subjects.status('shop', 'web-1'));
  });
});
