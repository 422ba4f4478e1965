// NATS subjects of the Trellis control protocol, version 1. Every subject starts with
// `trellis.v1.`; a future incompatible protocol gets `trellis.v2.` and both can run side by
// side during an upgrade. See docs/protocol.md.

export const SUBJECT_PREFIX = 'trellis.v1';

export const subjects = {
  /**
   * Request/reply, queue group `control-plane`: a sidecar asks for the full config on
   * `trellis.v1.sync.<namespace>.<pod>` (per pod, so its NATS user may publish on its own only).
   */
  sync: (namespace: string, pod: string): string => `${SUBJECT_PREFIX}.sync.${namespace}.${pod}`,
  /** Every sync request, for the control plane's queue subscription. */
  allSync: `${SUBJECT_PREFIX}.sync.>`,
  /** Broadcast: each new config version as an increment over its base version. */
  configUpdates: `${SUBJECT_PREFIX}.config.updates`,
  /** A sidecar's ACK/NACK/heartbeat/goodbye: `trellis.v1.status.<namespace>.<pod>`. */
  status: (namespace: string, pod: string): string =>
    `${SUBJECT_PREFIX}.status.${namespace}.${pod}`,
  /** Every sidecar status, for the control plane's subscription. */
  allStatus: `${SUBJECT_PREFIX}.status.>`,
  /** A sidecar's telemetry summary: `trellis.v1.telemetry.<namespace>.<pod>`. */
  telemetry: (namespace: string, pod: string): string =>
    `${SUBJECT_PREFIX}.telemetry.${namespace}.${pod}`,
  allTelemetry: `${SUBJECT_PREFIX}.telemetry.>`,
} as const;

/** Queue group of the control-plane replicas: one of them answers each sync request. */
export const CONTROL_PLANE_QUEUE = 'control-plane';

/** JetStream KV buckets: the compiled config (versions survive restarts) and the writer lease. */
export const KV_CONFIG_BUCKET = 'trellis-config';
export const KV_CONFIG_KEY = 'snapshot';
export const KV_LEADER_BUCKET = 'trellis-leader';
export const KV_LEADER_KEY = 'writer';

/** A subject token: no dots, wildcards or whitespace (namespace and pod names are DNS labels). */
export function isSubjectToken(value: string): boolean {
  return value.length > 0 && value.length <= 253 && /^[A-Za-z0-9_-]+$/.test(value);
}

/**
 * Prefix of a sidecar's reply inboxes (nats.js `connect({ inboxPrefix })`): `_INBOX.<namespace>.<pod>`,
 * so its NATS user may subscribe to its own replies only.
 */
export function inboxPrefix(namespace: string, pod: string): string {
  return `_INBOX.${namespace}.${pod}`;
}

/** The per-proxy subjects: `trellis.v1.<kind>.<namespace>.<pod>`. */
export type ProxySubjectKind = 'sync' | 'status' | 'telemetry';

/** `[namespace, pod]` of a per-proxy subject of `kind`, or undefined when it is not one. */
export function parseProxySubject(
  subject: string,
  kind: ProxySubjectKind,
): [string, string] | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || `${parts[0]}.${parts[1]}` !== SUBJECT_PREFIX || parts[2] !== kind)
    return undefined;
  return [parts[3] as string, parts[4] as string];
}
