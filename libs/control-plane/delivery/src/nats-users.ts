// The NATS users of a Trellis mesh and their least-privilege permissions (docs/protocol.md,
// Security): the control plane, and one user per sidecar pod that may publish on its own
// subjects only. The shape is the one nats-server's `authorization.users` takes and
// @trellis/testing's startNatsServer({users}) accepts; the demo and the benchmark render it too.
import {
  CONTROL_PLANE_NATS_PERMISSIONS,
  isSubjectToken,
  sidecarNatsPermissions,
} from '@trellis/mesh-protocol';
import type { NatsPermissions } from '@trellis/mesh-protocol';
import { DeliveryError } from './errors.js';

export const CONTROL_PLANE_NATS_USER = 'trellis-control-plane';

/** The NATS user of the sidecar in pod `namespace/pod`: `trellis-sidecar.<namespace>.<pod>`. */
export function sidecarNatsUser(namespace: string, pod: string): string {
  return `trellis-sidecar.${namespace}.${pod}`;
}

export interface TrellisNatsUser {
  readonly user: string;
  readonly password: string;
  readonly permissions: NatsPermissions;
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
 * `trellis-control-plane`, then one user per sidecar in the order given, with the protocol's
 * permissions (CONTROL_PLANE_NATS_PERMISSIONS, sidecarNatsPermissions in @trellis/mesh-protocol).
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
  return { user: CONTROL_PLANE_NATS_USER, password, permissions: CONTROL_PLANE_NATS_PERMISSIONS };
}

function sidecarUser({ namespace, pod, password }: SidecarNatsCredentials): TrellisNatsUser {
  return {
    user: sidecarNatsUser(namespace, pod),
    password,
    permissions: sidecarNatsPermissions(namespace, pod),
  };
}

function requirePassword(name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '')
    throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', `${name} must be a non-empty string`);
}
