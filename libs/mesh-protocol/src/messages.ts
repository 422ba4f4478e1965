// The messages of protocol v1 (JSON, UTF-8) and their decoders. Decoders check size, syntax
// and shape and throw ProtocolError naming the field; resource contents are validated by the
// receiver with @trellis/config, which knows the model.
import type { ConfigIssue, Resource, ResourceKey } from '@trellis/config';
import { ProtocolError } from './errors.js';
import { isSubjectToken } from './subjects.js';

export const PROTOCOL_VERSION = 1;
/** Default bound of a message; nats-server's max_payload should be at least this. */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export type ProxyRole = 'sidecar' | 'gateway';

/** Who a sidecar is. `namespace` and `pod` also appear in its subjects and must match them. */
export interface ProxyIdentity {
  readonly namespace: string;
  readonly pod: string;
  /** The service the workload belongs to ('' for a gateway serving many). */
  readonly service: string;
  readonly role: ProxyRole;
  readonly labels: Readonly<Record<string, string>>;
  /** ISO time the sidecar process started: a restart shows as a new value. */
  readonly startedAt: string;
}

export interface WireSnapshot {
  readonly version: number;
  readonly hash: string;
  readonly resources: readonly Resource[];
}

/** Sidecar → control plane (request): "I am this proxy and hold this version." */
export interface SyncRequest {
  readonly proxy: ProxyIdentity;
  /** Version in force, 0 when none. */
  readonly version: number;
  readonly hash: string;
}

export type SyncReply =
  | { readonly kind: 'full'; readonly snapshot: WireSnapshot }
  | { readonly kind: 'current'; readonly version: number; readonly hash: string }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

/** Control plane → all sidecars: version `version` as changes over `baseVersion`. */
export interface ConfigUpdate {
  readonly version: number;
  readonly baseVersion: number;
  /** Hash of the complete snapshot after applying the changes. */
  readonly hash: string;
  readonly added: readonly Resource[];
  readonly changed: readonly Resource[];
  readonly removed: readonly ResourceKey[];
  readonly publishedAt: string;
}

export type ProxyStatusKind = 'ack' | 'nack' | 'heartbeat' | 'goodbye';

/** Sidecar → control plane: what it did with a version, or that it is alive. */
export interface ProxyStatus {
  readonly proxy: ProxyIdentity;
  readonly kind: ProxyStatusKind;
  /** Version in force after this event (0 when none). */
  readonly version: number;
  readonly hash: string;
  /** For a NACK: the version refused and why. */
  readonly rejectedVersion?: number;
  readonly issues?: readonly ConfigIssue[];
  readonly at: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(
  message: SyncRequest | SyncReply | ConfigUpdate | ProxyStatus,
): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

export type Json = Record<string, unknown>;

export function parse(bytes: Uint8Array, what: string, maxBytes: number): Json {
  if (bytes.byteLength > maxBytes) {
    throw new ProtocolError(
      'TRL_PROTO_TOO_LARGE',
      `${what}: ${bytes.byteLength} bytes exceeds the ${maxBytes}-byte limit`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new ProtocolError(
      'TRL_PROTO_MALFORMED',
      `${what}: not JSON (${(error as Error).message})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('TRL_PROTO_MALFORMED', `${what}: must be a JSON object`);
  }
  return value as Json;
}

export function invalid(what: string, field: string, reason: string): never {
  throw new ProtocolError('TRL_PROTO_INVALID', `${what}: ${field}: ${reason}`);
}

export function string(obj: Json, field: string, what: string): string {
  const v = obj[field];
  if (typeof v !== 'string')
    invalid(what, field, `must be a string (got ${v === null ? 'null' : typeof v})`);
  return v;
}

function version(obj: Json, field: string, what: string): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    invalid(what, field, `must be a whole number ≥ 0 (got ${JSON.stringify(v)})`);
  return v;
}

export function object(obj: Json, field: string, what: string): Json {
  const v = obj[field];
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    invalid(what, field, 'must be an object');
  return v as Json;
}

export function array(obj: Json, field: string, what: string): unknown[] {
  const v = obj[field];
  if (!Array.isArray(v)) invalid(what, field, 'must be an array');
  return v;
}

function resources(obj: Json, field: string, what: string): Resource[] {
  return array(obj, field, what).map((r, i) => {
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof (r as Json).kind !== 'string' ||
      typeof (r as Json).metadata !== 'object'
    ) {
      invalid(what, `${field}[${i}]`, 'must be a resource with kind and metadata');
    }
    return r as Resource;
  });
}

function identity(obj: Json, what: string): ProxyIdentity {
  const p = object(obj, 'proxy', what);
  const namespace = string(p, 'namespace', `${what}.proxy`);
  const pod = string(p, 'pod', `${what}.proxy`);
  if (!isSubjectToken(namespace))
    invalid(what, 'proxy.namespace', `must be a DNS label (got ${JSON.stringify(namespace)})`);
  if (!isSubjectToken(pod))
    invalid(what, 'proxy.pod', `must be a DNS label (got ${JSON.stringify(pod)})`);
  const role = p.role;
  if (role !== 'sidecar' && role !== 'gateway')
    invalid(what, 'proxy.role', `must be sidecar or gateway (got ${JSON.stringify(role)})`);
  const labels = object(p, 'labels', `${what}.proxy`);
  for (const [k, v] of Object.entries(labels))
    if (typeof v !== 'string') invalid(what, `proxy.labels.${k}`, 'must be a string');
  return {
    namespace,
    pod,
    service: string(p, 'service', `${what}.proxy`),
    role,
    labels: labels as Record<string, string>,
    startedAt: string(p, 'startedAt', `${what}.proxy`),
  };
}

function snapshot(obj: Json, what: string): WireSnapshot {
  return {
    version: version(obj, 'version', what),
    hash: string(obj, 'hash', what),
    resources: resources(obj, 'resources', what),
  };
}

export function decodeSyncRequest(
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
): SyncRequest {
  const what = 'sync request';
  const obj = parse(bytes, what, maxBytes);
  return {
    proxy: identity(obj, what),
    version: version(obj, 'version', what),
    hash: string(obj, 'hash', what),
  };
}

export function decodeSyncReply(
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
): SyncReply {
  const what = 'sync reply';
  const obj = parse(bytes, what, maxBytes);
  switch (obj.kind) {
    case 'full':
      return {
        kind: 'full',
        snapshot: snapshot(object(obj, 'snapshot', what), `${what}.snapshot`),
      };
    case 'current':
      return {
        kind: 'current',
        version: version(obj, 'version', what),
        hash: string(obj, 'hash', what),
      };
    case 'unavailable':
      return { kind: 'unavailable', reason: string(obj, 'reason', what) };
    case 'error':
      return {
        kind: 'error',
        code: string(obj, 'code', what),
        message: string(obj, 'message', what),
      };
    default:
      return invalid(
        what,
        'kind',
        `must be full, current, unavailable or error (got ${JSON.stringify(obj.kind)})`,
      );
  }
}

export function decodeConfigUpdate(
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
): ConfigUpdate {
  const what = 'config update';
  const obj = parse(bytes, what, maxBytes);
  const update: ConfigUpdate = {
    version: version(obj, 'version', what),
    baseVersion: version(obj, 'baseVersion', what),
    hash: string(obj, 'hash', what),
    added: resources(obj, 'added', what),
    changed: resources(obj, 'changed', what),
    removed: array(obj, 'removed', what).map((k, i) => {
      const key = k as Json;
      if (typeof key !== 'object' || key === null)
        invalid(what, `removed[${i}]`, 'must be {kind, namespace, name}');
      return {
        kind: string(key, 'kind', `${what}.removed[${i}]`),
        namespace: string(key, 'namespace', `${what}.removed[${i}]`),
        name: string(key, 'name', `${what}.removed[${i}]`),
      } as ResourceKey;
    }),
    publishedAt: string(obj, 'publishedAt', what),
  };
  if (update.version <= update.baseVersion)
    invalid(
      what,
      'version',
      `must be greater than baseVersion ${update.baseVersion} (got ${update.version})`,
    );
  return update;
}

const STATUS_KINDS: readonly ProxyStatusKind[] = ['ack', 'nack', 'heartbeat', 'goodbye'];

export function decodeProxyStatus(
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
): ProxyStatus {
  const what = 'proxy status';
  const obj = parse(bytes, what, maxBytes);
  const kind = obj.kind as ProxyStatusKind;
  if (!STATUS_KINDS.includes(kind))
    invalid(
      what,
      'kind',
      `must be one of ${STATUS_KINDS.join(', ')} (got ${JSON.stringify(obj.kind)})`,
    );
  const status: ProxyStatus = {
    proxy: identity(obj, what),
    kind,
    version: version(obj, 'version', what),
    hash: string(obj, 'hash', what),
    at: string(obj, 'at', what),
    ...(kind === 'nack'
      ? {
          rejectedVersion: version(obj, 'rejectedVersion', what),
          issues: array(obj, 'issues', what).map((i, n) => {
            const issue = i as Json;
            if (typeof issue !== 'object' || issue === null || typeof issue.message !== 'string')
              invalid(what, `issues[${n}]`, 'must be an issue with a message');
            return issue as unknown as ConfigIssue;
          }),
        }
      : {}),
  };
  return status;
}
