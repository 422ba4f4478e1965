// The mesh's NATS users against a real nats-server: each may do its part of the protocol and
// nothing more; in particular a sidecar may speak only for its own pod. A denied publish is
// dropped and reported on the publisher's status stream; a denied subscription is closed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermissionViolationError, connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CONTROL_PLANE_NATS_PERMISSIONS,
  KV_CONFIG_BUCKET,
  KV_CONFIG_KEY,
  sidecarNatsPermissions,
  subjects,
} from '@trellis/mesh-protocol';
import { stopAllNatsServers } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import {
  CONTROL_PLANE_PASSWORD,
  sidecarCredentials,
  startMeshNats,
  until,
} from '../testing/harness.js';
import { CONTROL_PLANE_NATS_USER, trellisNatsUsers } from './nats-users.js';

afterAll(stopAllNatsServers);

let nats: NatsServerHandle;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  nats = await startMeshNats();
});

afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close();
});

async function as(user: string, pass: string, inboxPrefix?: string) {
  const nc = await connect({ servers: nats.url, user, pass, ...(inboxPrefix && { inboxPrefix }) });
  connections.push(nc);
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const s of nc.status())
      if (s.type === 'error' && s.error instanceof PermissionViolationError)
        violations.push(s.error);
  })();
  return { nc, violations };
}

/** The sidecar user of shop/<pod>, connected as the sidecar does: with its own inbox prefix. */
function sidecar(pod = 'web-1') {
  const { user, password, inboxPrefix } = sidecarCredentials(pod);
  return as(user, password, inboxPrefix);
}
const controlPlane = () => as(CONTROL_PLANE_NATS_USER, CONTROL_PLANE_PASSWORD);

const sidecarOf = (namespace: string, pod: string, password = 'p') => ({
  namespace,
  pod,
  password,
});

describe('trellisNatsUsers', () => {
  it('names the control-plane user and one user per sidecar pod, with their passwords', () => {
    const users = trellisNatsUsers({
      controlPlanePassword: 'p0',
      sidecars: [sidecarOf('shop', 'web-1', 'p1'), sidecarOf('shop', 'web-2', 'p2')],
    });
    expect(users.map((u) => [u.user, u.password])).toEqual([
      ['trellis-control-plane', 'p0'],
      ['trellis-sidecar.shop.web-1', 'p1'],
      ['trellis-sidecar.shop.web-2', 'p2'],
    ]);
  });

  it('gives each user the permissions the protocol defines (what they allow is tested below)', () => {
    const [controlPlane, web1] = trellisNatsUsers({
      controlPlanePassword: 'p0',
      sidecars: [sidecarOf('shop', 'web-1')],
    });
    expect(controlPlane?.permissions).toEqual(CONTROL_PLANE_NATS_PERMISSIONS);
    expect(web1?.permissions).toEqual(sidecarNatsPermissions('shop', 'web-1'));
  });

  it('refuses empty passwords, names that are not subject tokens, and a pod listed twice', () => {
    const refused = (controlPlanePassword: string, sidecars: ReturnType<typeof sidecarOf>[]) =>
      expect(() => trellisNatsUsers({ controlPlanePassword, sidecars })).toThrow(
        expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
      );
    refused('', []);
    refused('p0', [sidecarOf('shop', 'web-1', '')]);
    for (const bad of ['', 'a.b', '*', '>', 'a b']) {
      refused('p0', [sidecarOf(bad, 'web-1')]);
      refused('p0', [sidecarOf('shop', bad)]);
    }
    refused('p0', [sidecarOf('shop', 'web-1'), sidecarOf('shop', 'web-1', 'other')]);
    expect(
      trellisNatsUsers({
        controlPlanePassword: 'p0',
        sidecars: [sidecarOf('shop', 'web-1'), sidecarOf('blog', 'web-1')],
      }),
    ).toHaveLength(3);
  });
});

describe('the NATS users on a real server', () => {
  it('lets a sidecar do its part: its own sync request and reply, status, telemetry, config updates', async () => {
    const cp = await controlPlane();
    const requests: string[] = [];
    cp.nc.subscribe(subjects.allSync, {
      callback: (_e, m) => {
        requests.push(m.subject);
        m.respond('{"kind":"current","version":1,"hash":"h"}');
      },
    });
    const received: string[] = [];
    for (const subject of [subjects.allStatus, subjects.allTelemetry])
      cp.nc.subscribe(subject, { callback: (_e, m) => void received.push(m.subject) });
    await cp.nc.flush();
    const s = await sidecar('web-1');
    const updates: string[] = [];
    s.nc.subscribe(subjects.configUpdates, { callback: (_e, m) => void updates.push(m.string()) });
    await s.nc.flush();
    const reply = await s.nc.request(subjects.sync('shop', 'web-1'), '{}', { timeout: 2_000 });
    expect(reply.string()).toContain('current');
    s.nc.publish(subjects.status('shop', 'web-1'), '{}');
    s.nc.publish(subjects.telemetry('shop', 'web-1'), '{"v":1}');
    cp.nc.publish(subjects.configUpdates, '{"version":1}');
    await until('status, telemetry and update delivered', () => {
      return received.length === 2 && updates.length === 1;
    });
    expect([requests, received.sort(), updates]).toEqual([
      [subjects.sync('shop', 'web-1')],
      [subjects.status('shop', 'web-1'), subjects.telemetry('shop', 'web-1')],
      ['{"version":1}'],
    ]);
    expect([s.violations, cp.violations]).toEqual([[], []]);
  });

  it('does not let a sidecar publish config updates, write the store or call JetStream', async () => {
    const listener = await sidecar('web-2');
    const updates: string[] = [];
    listener.nc.subscribe(subjects.configUpdates, {
      callback: (_e, m) => void updates.push(m.string()),
    });
    await listener.nc.flush();
    const rogue = await sidecar('web-1');
    const forbidden = [
      subjects.configUpdates,
      `$KV.${KV_CONFIG_BUCKET}.${KV_CONFIG_KEY}`,
      '$JS.API.STREAM.LIST',
    ];
    for (const subject of forbidden) rogue.nc.publish(subject, '{"version":999}');
    await rogue.nc.flush();
    const violations = await until(
      'the violations',
      () => rogue.violations.length === forbidden.length && rogue.violations,
    );
    expect(violations.map((v) => [v.operation, v.subject])).toEqual(
      forbidden.map((subject) => ['publish', subject]),
    );
    await listener.nc.flush();
    expect(updates).toEqual([]);
  });

  it('does not let a sidecar speak for another pod: sync, status and telemetry of shop/web-2', async () => {
    const cp = await controlPlane();
    const received: string[] = [];
    for (const subject of [subjects.allSync, subjects.allStatus, subjects.allTelemetry])
      cp.nc.subscribe(subject, { callback: (_e, m) => void received.push(m.subject) });
    await cp.nc.flush();
    const rogue = await sidecar('web-1');
    const web2 = [
      subjects.sync('shop', 'web-2'),
      subjects.status('shop', 'web-2'),
      subjects.telemetry('shop', 'web-2'),
    ];
    for (const subject of web2) rogue.nc.publish(subject, '{}');
    await rogue.nc.flush();
    const violations = await until(
      'the violations',
      () => rogue.violations.length === web2.length && rogue.violations,
    );
    expect(violations.map((v) => [v.operation, v.subject])).toEqual(
      web2.map((subject) => ['publish', subject]),
    );
    await cp.nc.flush();
    expect(received).toEqual([]);
  });

  it('does not let a sidecar read another pod’s replies, or other sidecars’ status and telemetry', async () => {
    const rogue = await sidecar('web-1');
    for (const subject of [
      `${sidecarCredentials('web-2').inboxPrefix}.>`,
      '_INBOX.>',
      subjects.allStatus,
      subjects.telemetry('shop', 'web-2'),
    ]) {
      const closed = await rogue.nc.subscribe(subject).closed;
      expect(closed).toBeInstanceOf(PermissionViolationError);
      expect([
        (closed as PermissionViolationError).operation,
        (closed as PermissionViolationError).subject,
      ]).toEqual(['subscription', subject]);
    }
  });

  it('does not let the control plane speak for a sidecar', async () => {
    const cp = await controlPlane();
    const own = [subjects.status('shop', 'web-1'), subjects.telemetry('shop', 'web-1')];
    for (const subject of own) cp.nc.publish(subject, '{}');
    const violations = await until(
      'the violations',
      () => cp.violations.length === own.length && cp.violations,
    );
    expect(violations.map((v) => v.subject)).toEqual(own);
  });
});
