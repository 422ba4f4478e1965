// A tiny stand-in for the control plane over raw nats.js, as the `control-plane` NATS user:
// answers sync requests from its latest snapshot (or as told), publishes increments, and records
// every sync request and status it sees. Tests use it instead of the real control-plane lib.
import type { Snapshot } from '@trellis/config';
import {
  CONTROL_PLANE_NATS_PERMISSIONS,
  CONTROL_PLANE_QUEUE,
  decodeProxyStatus,
  decodeSyncRequest,
  encodeMessage,
  makeConfigUpdate,
  sidecarNatsPermissions,
  subjects,
} from '@trellis/mesh-protocol';
import type { ConfigUpdate, ProxyStatus, SyncReply, SyncRequest } from '@trellis/mesh-protocol';
import type { NatsServerHandle } from '@trellis/testing';
import { connect } from '@nats-io/transport-node';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { identity } from './fixtures.js';

/** How sync requests are answered. `hold` keeps them until release(); `silent` never answers. */
export type SyncMode = 'serve' | 'unavailable' | 'error' | 'silent' | 'hold';

export interface SeenStatus {
  readonly subject: string;
  readonly status: ProxyStatus;
}

/** The fake's NATS user for the sidecar of pod `shop/<pod>`. */
export function sidecarUser(pod: string): string {
  return `sidecar.${pod}`;
}

/**
 * Users and permissions of docs/protocol.md § Security: the control plane, and one user per
 * sidecar pod (namespace `shop`) that may publish on its own subjects and read its own inbox only.
 */
export function protocolUsers(pods: readonly string[] = [identity.pod]) {
  return [
    { user: 'control-plane', permissions: CONTROL_PLANE_NATS_PERMISSIONS },
    ...pods.map((pod) => ({
      user: sidecarUser(pod),
      permissions: sidecarNatsPermissions(identity.namespace, pod),
    })),
  ];
}

export class FakeControlPlane {
  readonly nc: NatsConnection;
  readonly syncRequests: SyncRequest[] = [];
  readonly statuses: SeenStatus[] = [];
  mode: SyncMode = 'serve';
  latest: Snapshot | undefined;
  #held: Msg[] = [];

  private constructor(nc: NatsConnection) {
    this.nc = nc;
  }

  static async start(nats: NatsServerHandle): Promise<FakeControlPlane> {
    const { user, password } = nats.users['control-plane']!;
    const nc = await connect({
      servers: nats.url,
      user,
      pass: password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 50,
      reconnectJitter: 0,
    });
    const cp = new FakeControlPlane(nc);
    nc.subscribe(subjects.allSync, {
      queue: CONTROL_PLANE_QUEUE,
      callback: (_e, msg) => cp.#onSync(msg),
    });
    nc.subscribe(subjects.allStatus, {
      callback: (_e, msg) => {
        cp.statuses.push({ subject: msg.subject, status: decodeProxyStatus(msg.data) });
      },
    });
    await nc.flush();
    return cp;
  }

  /** Statuses of one kind, in arrival order. */
  seen(kind: ProxyStatus['kind']): ProxyStatus[] {
    return this.statuses.filter((s) => s.status.kind === kind).map((s) => s.status);
  }

  /** Makes `next` the latest version and publishes it as an increment over the previous latest. */
  async publish(next: Snapshot): Promise<ConfigUpdate> {
    const previous = this.latest;
    if (!previous) throw new Error('publish() needs a previous snapshot; set latest first');
    const update = makeConfigUpdate(previous, next, new Date());
    this.latest = next;
    await this.publishUpdate(update);
    return update;
  }

  async publishUpdate(update: ConfigUpdate): Promise<void> {
    await this.publishRaw(encodeMessage(update));
  }

  async publishRaw(bytes: Uint8Array): Promise<void> {
    this.nc.publish(subjects.configUpdates, bytes);
    await this.nc.flush();
  }

  /** Answers the sync requests held in `hold` mode, from the latest snapshot at this time. */
  release(): void {
    const held = this.#held;
    this.#held = [];
    for (const msg of held) msg.respond(encodeMessage(this.#reply(decodeSyncRequest(msg.data))));
  }

  get heldRequests(): number {
    return this.#held.length;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }

  #onSync(msg: Msg): void {
    const request = decodeSyncRequest(msg.data);
    this.syncRequests.push(request);
    switch (this.mode) {
      case 'silent':
        return;
      case 'hold':
        this.#held.push(msg);
        return;
      case 'unavailable':
        msg.respond(encodeMessage({ kind: 'unavailable', reason: 'no config compiled yet' }));
        return;
      case 'error':
        msg.respond(
          encodeMessage({
            kind: 'error',
            code: 'TRL_TEST_REFUSED',
            message: 'refused by the test',
          }),
        );
        return;
      case 'serve':
        msg.respond(encodeMessage(this.#reply(request)));
        return;
    }
  }

  #reply(request: SyncRequest): SyncReply {
    const latest = this.latest;
    if (!latest) return { kind: 'unavailable', reason: 'no config compiled yet' };
    if (request.version === latest.version && request.hash === latest.hash) {
      return { kind: 'current', version: latest.version, hash: latest.hash };
    }
    return {
      kind: 'full',
      snapshot: { version: latest.version, hash: latest.hash, resources: latest.resources },
    };
  }
}
