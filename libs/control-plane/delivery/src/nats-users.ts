// The NATS users of a Trellis mesh and their least-privilege permissions (docs/protocol.md,
// Security): the control plane, and one user per sidecar pod that may publish on its own
// subjects only. The shape is the one nats-server's `authorization.users` takes and
// @trellis/testing's startNatsServer({users}) accepts; the demo and the benchmark render it too.
import {
  KV_CONFIG_BUCKET,
  KV_LEADER_BUCKET,
  SUBJECT_PREFIX,
  inboxPrefix,
  isSubjectToken,
  subjects,
} from '@trellis/mesh-protocol';
import { DeliveryError } from './errors.js';

export const CONTROL_PLANE_NATS_USER = 'trellis-control-plane';

/** The NATS user of the sidecar in pod `namespace/pod`: `trellis-sidecar.<namespace>.<pod>`. */
export function sidecarNatsUser(namespace: string, pod: string): string {
  return `trellis-sidecar.${namespace}.${pod}`;
}

export interface NatsSubjectPermission {
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
}

export interface TrellisNatsUser {
  readonly user: string;
  readonly password: string;
  readonly permissions: {
    readonly publish: NatsSubjectPermission;
    readonly subscribe: NatsSubjectPermission;
  };
}

/** One sidecar pod and the password of its NATS user. */
export interface SidecarNatsCredentials {
  readonly namespace: string;
  readonly pod: string;
  readonly password: string;
}

export interface TrellisNatsUsersOptions {
  readonly controlPlanePassword: string;
  readonly sidecars: readonly SidecarNatsCredentials[];
}

/**
 * `trellis-control-plane`, then one user per sidecar in the order given. Besides the protocol
 * subjects, the control plane needs JetStream's API, the KV buckets' own subjects (a KV put is a
 * publish on `$KV.<bucket>.<key>`) and `$JS.FC.>` (flow-control replies of the KV watch), all
 * found by running the delivery against a server with exactly these permissions. Its `_INBOX.>`
 * covers the replies to every sidecar's own inbox prefix.
 */
export function trellisNatsUsers(options: TrellisNatsUsersOptions): TrellisNatsUser[] {
  requirePassword('controlPlanePassword', options.controlPlanePassword);
  const seen = new Set<string>();
  for (const { namespace, pod, password } of options.sidecars) {
    for (const [name, value] of [
      ['namespace', namespace],
      ['pod', pod],
    ] as const) {
      if (typeof value !== 'string' || !isSubjectToken(value))
        throw new DeliveryError(
          'TRL_DELIVERY_INVALID_OPTION',
          `sidecar ${name} ${JSON.stringify(value)} is not a NATS subject token (letters, digits, '-' and '_')`,
        );
    }
    requirePassword(`password of sidecar ${namespace}/${pod}`, password);
    const key = `${namespace}/${pod}`;
    if (seen.has(key))
      throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', `sidecar ${key} is listed twice`);
    seen.add(key);
  }
  return [controlPlaneUser(options.controlPlanePassword), ...options.sidecars.map(sidecarUser)];
}

function controlPlaneUser(password: string): TrellisNatsUser {
  return {
    user: CONTROL_PLANE_NATS_USER,
    password,
    permissions: {
      publish: {
        allow: [
          subjects.configUpdates,
          '$JS.API.>',
          '$JS.FC.>',
          `$KV.${KV_CONFIG_BUCKET}.>`,
          `$KV.${KV_LEADER_BUCKET}.>`,
          '_INBOX.>',
        ],
      },
      subscribe: {
        allow: [subjects.allSync, subjects.allStatus, subjects.allTelemetry, '_INBOX.>'],
      },
    },
  };
}

function sidecarUser({ namespace, pod, password }: SidecarNatsCredentials): TrellisNatsUser {
  return {
    user: sidecarNatsUser(namespace, pod),
    password,
    permissions: {
      publish: {
        allow: [
          subjects.sync(namespace, pod),
          subjects.status(namespace, pod),
          subjects.telemetry(namespace, pod),
        ],
        // Redundant with the allow list, and kept so that widening it never lets config in.
        deny: [`${SUBJECT_PREFIX}.config.>`, '$JS.>', '$KV.>'],
      },
      // Replies arrive under its own inbox prefix only: it cannot read another sidecar's.
      subscribe: { allow: [subjects.configUpdates, `${inboxPrefix(namespace, pod)}.>`] },
    },
  };
}

function requirePassword(name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '')
    throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', `${name} must be a non-empty string`);
}
