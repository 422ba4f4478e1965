// Integration-test harness: a real nats-server with the mesh's users (the control plane and one
// per sidecar pod of MESH_SIDECAR_PODS), control-plane replicas on their own connections
// (recording logs and any permission violation), and simulated sidecars.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { inboxPrefix } from '@trellis/mesh-protocol';
import { startNatsServer, waitFor } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';
import { ControlPlaneDelivery } from '../src/control-plane-delivery.js';
import type { ControlPlaneDeliveryOptions } from '../src/control-plane-delivery.js';
import { CONTROL_PLANE_NATS_USER, sidecarNatsUser, trellisNatsUsers } from '../src/nats-users.js';
import { FakeSidecar } from './fake-sidecar.js';
import type { FakeSidecarOptions } from './fake-sidecar.js';
import { recordingLogger } from './fixtures.js';

export const CONTROL_PLANE_PASSWORD = 'cp-secret';
/** The sidecar pods (namespace `shop`) that have a NATS user on the harness's servers. */
export const MESH_SIDECAR_PODS = ['web-1', 'web-2', 'old-1'] as const;

/** User, password and inbox prefix of the sidecar in `namespace/pod`. */
export function sidecarCredentials(pod: string, namespace = 'shop') {
  return {
    user: sidecarNatsUser(namespace, pod),
    password: `sidecar-secret-${namespace}-${pod}`,
    inboxPrefix: inboxPrefix(namespace, pod),
  };
}

export function meshUsers() {
  return trellisNatsUsers({
    controlPlanePassword: CONTROL_PLANE_PASSWORD,
    sidecars: MESH_SIDECAR_PODS.map((pod) => ({
      namespace: 'shop',
      pod,
      password: sidecarCredentials(pod).password,
    })),
  });
}

export function startMeshNats(): Promise<NatsServerHandle> {
  return startNatsServer({ users: meshUsers(), stopGraceMs: 2_000 });
}

export interface Replica {
  readonly delivery: ControlPlaneDelivery;
  readonly nc: NatsConnection;
  readonly log: ReturnType<typeof recordingLogger>;
  /** Server errors reported on the replica's connection (permission violations). */
  readonly serverErrors: string[];
  close(): Promise<void>;
}

export async function startReplica(
  servers: string | string[],
  options: Partial<ControlPlaneDeliveryOptions> & { readonly replicaId: string },
): Promise<Replica> {
  const nc = await connect({
    servers,
    user: CONTROL_PLANE_NATS_USER,
    pass: CONTROL_PLANE_PASSWORD,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
  });
  const serverErrors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') serverErrors.push(s.error.message);
  })();
  const log = recordingLogger();
  const delivery = new ControlPlaneDelivery({
    leaseMs: 1_000,
    storePollMs: 1_000,
    ...options,
    log,
  });
  await delivery.start(nc);
  return {
    delivery,
    nc,
    log,
    serverErrors,
    async close() {
      await delivery.close();
      if (!nc.isClosed()) await nc.close();
    },
  };
}

export function connectSidecar(
  servers: string | string[],
  pod: string,
  options: Partial<FakeSidecarOptions> = {},
): Promise<FakeSidecar> {
  const { user, password } = sidecarCredentials(pod, options.namespace);
  return FakeSidecar.connect({ servers, user, password, pod, ...options });
}

/** Waits (bounded) for `probe` to hold; names what it waited for when it times out. */
export function until<T>(
  what: string,
  probe: () => T | undefined | null | false,
  timeoutMs = 10_000,
): Promise<T> {
  return waitFor(probe, { what, timeoutMs, intervalMs: 20 });
}
