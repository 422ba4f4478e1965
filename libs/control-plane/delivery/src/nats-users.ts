// The two NATS users of a Trellis mesh and their least-privilege permissions (docs/protocol.md,
// Security). The shape is the one nats-server's `authorization.users` takes and
// @trellis/testing's startNatsServer({users}) accepts; the demo and the Helm chart render it too.
import {
  KV_CONFIG_BUCKET,
  KV_LEADER_BUCKET,
  SUBJECT_PREFIX,
  subjects,
} from '@trellis/mesh-protocol';
import { DeliveryError } from './errors.js';

export const CONTROL_PLANE_NATS_USER = 'trellis-control-plane';
export const SIDECAR_NATS_USER = 'trellis-sidecar';

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

export interface TrellisNatsPasswords {
  readonly controlPlanePassword: string;
  readonly sidecarPassword: string;
}

/**
 * Users `trellis-control-plane` and `trellis-sidecar`. Besides the protocol subjects, the control
 * plane needs JetStream's API, the KV buckets' own subjects (a KV put is a publish on
 * `$KV.<bucket>.<key>`) and `$JS.FC.>` (flow-control replies of the KV watch), all found by
 * running the delivery against a server with exactly these permissions.
 */
export function trellisNatsUsers(
  passwords: TrellisNatsPasswords,
): [TrellisNatsUser, TrellisNatsUser] {
  for (const [name, value] of Object.entries(passwords)) {
    if (typeof value !== 'string' || value === '') {
      throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', `${name} must be a non-empty string`);
    }
  }
  return [
    {
      user: CONTROL_PLANE_NATS_USER,
      password: passwords.controlPlanePassword,
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
          allow: [subjects.sync, subjects.allStatus, subjects.allTelemetry, '_INBOX.>'],
        },
      },
    },
    {
      user: SIDECAR_NATS_USER,
      password: passwords.sidecarPassword,
      permissions: {
        publish: {
          allow: [subjects.sync, subjects.allStatus, subjects.allTelemetry],
          // Redundant with the allow list, and kept so that widening it never lets config in.
          deny: [`${SUBJECT_PREFIX}.config.>`, '$JS.>', '$KV.>'],
        },
        subscribe: { allow: [subjects.configUpdates, '_INBOX.>'] },
      },
    },
  ];
}
