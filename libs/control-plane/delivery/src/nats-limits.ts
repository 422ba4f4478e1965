// The nats-server connection limits a Trellis mesh runs with (the demo and the benchmark render
// them next to the users of nats-users.ts). nats-server's defaults are tuned
// for a few long-lived clients: after a NATS restart every sidecar dials back within its
// reconnect window, and a client that has not authenticated within the 2 s default auth timeout
// is cut off and dials again, so on a busy node the storm feeds itself (measured: 10–75 s for
// 10,000 sidecars with the default, docs/benchmarks.md). The shape is @trellis/testing's
// `limits` option and nats-server's `max_connections`, `authorization.timeout`, `write_deadline`.
import { DeliveryError } from './errors.js';

export interface TrellisNatsLimits {
  readonly maxConnections: number;
  readonly authTimeoutSeconds: number;
  readonly writeDeadlineSeconds: number;
}

/** nats-server's own max_connections default, kept as the floor. */
const NATS_DEFAULT_MAX_CONNECTIONS = 65_536;
/** Room for the control plane replicas, the dashboard and tooling beside the sidecars. */
const OTHER_CONNECTIONS = 1_024;
/** Long enough for a client process on a saturated node to answer INFO with CONNECT. */
export const MESH_NATS_AUTH_TIMEOUT_SECONDS = 10;
/** A full sync reply can be 8 MiB; a slow reader gets this long before it is cut off. */
export const MESH_NATS_WRITE_DEADLINE_SECONDS = 10;

/** Limits for a mesh of up to `sidecars` proxies (each holds one connection). */
export function trellisNatsLimits(sidecars: number): TrellisNatsLimits {
  if (!Number.isSafeInteger(sidecars) || sidecars < 0) {
    throw new DeliveryError(
      'TRL_DELIVERY_INVALID_OPTION',
      `sidecars must be a whole number ≥ 0 (got ${sidecars})`,
    );
  }
  return {
    maxConnections: Math.max(NATS_DEFAULT_MAX_CONNECTIONS, sidecars + OTHER_CONNECTIONS),
    authTimeoutSeconds: MESH_NATS_AUTH_TIMEOUT_SECONDS,
    writeDeadlineSeconds: MESH_NATS_WRITE_DEADLINE_SECONDS,
  };
}
