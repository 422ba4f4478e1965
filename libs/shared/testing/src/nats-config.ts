// The nats-server configuration a test server runs with, and its rendering into nats-server's
// config syntax. Pure: startNatsServer writes the string to a file and passes it with `-c`.
import { TestingError } from './errors.js';

/** Test servers only ever listen on loopback. */
export const LOOPBACK_HOST = '127.0.0.1';

/** Subjects a user may (allow) or may not (deny) use; wildcards as in NATS (`*`, `>`). */
export interface NatsSubjectRule {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

/**
 * A user's permissions, passed through to nats-server as given: the helper adds nothing, so a
 * user that needs `_INBOX.>` (replies) or `$JS.API.>` (JetStream) must be granted them here.
 * Omitted `permissions` means the user may publish and subscribe to everything.
 */
export interface NatsUserPermissions {
  readonly publish?: NatsSubjectRule;
  readonly subscribe?: NatsSubjectRule;
  /** Lets the user publish one reply to each request it receives (`allow_responses`). */
  readonly allowResponses?: boolean;
}

export interface NatsUserOptions {
  readonly user: string;
  /** Generated (random hex) when omitted; read it back from `handle.users[name].password`. */
  readonly password?: string;
  readonly permissions?: NatsUserPermissions;
}

export interface NatsCredentials {
  readonly user: string;
  readonly password: string;
}

export interface NatsClusterOptions {
  /** Shared by every node of the cluster (nats-server `cluster.name`). */
  readonly name: string;
  /** This node's route listener port. */
  readonly port: number;
  /** Route ports of the other nodes (this node's own may be included; nats-server skips it). */
  readonly routePorts: readonly number[];
}

export interface NatsJetStreamConfig {
  readonly storeDir: string;
  readonly maxMemoryStore: number;
  readonly maxFileStore: number;
}

/**
 * Client connection limits. Omitted fields keep nats-server's defaults (max_connections 65,536;
 * 2 s to authenticate; 10 s write deadline), which thousands of clients reconnecting at once on
 * a small machine can exceed: a client that has not sent CONNECT within the auth timeout is cut
 * off and dials again, which feeds the storm.
 */
export interface NatsConnectionLimits {
  /** nats-server `max_connections`. */
  readonly maxConnections?: number;
  /** Seconds a client has to authenticate after connecting (`authorization.timeout`). */
  readonly authTimeoutSeconds?: number;
  /** Seconds a write to a slow client may block before it is cut off (`write_deadline`). */
  readonly writeDeadlineSeconds?: number;
}

/** Everything that goes into one server's config file, with all defaults resolved. */
export interface NatsConfigSpec {
  readonly port: number;
  readonly monitorPort: number;
  readonly serverName?: string;
  readonly maxPayload: number;
  readonly limits?: NatsConnectionLimits;
  /** Omitted: JetStream disabled. */
  readonly jetstream?: NatsJetStreamConfig;
  readonly users: readonly (NatsUserOptions & { readonly password: string })[];
  readonly cluster?: NatsClusterOptions;
}

type ConfScalar = string | number | boolean;
interface ConfBlock {
  readonly [key: string]:
    ConfScalar | readonly ConfScalar[] | ConfBlock | readonly ConfBlock[] | undefined;
}

/** Renders `spec` as a nats-server config file (every string quoted, so `$JS.API.>` stays literal). */
export function renderNatsConfig(spec: NatsConfigSpec): string {
  if (spec.users.length === 0) {
    // NATS runs with authentication in Trellis; a server without users would accept anyone.
    throw new TestingError('TRL_TESTING_INVALID_OPTION', 'a nats-server needs at least one user');
  }
  const names = new Set<string>();
  for (const { user } of spec.users) {
    if (user === '')
      throw new TestingError('TRL_TESTING_INVALID_OPTION', 'a NATS user name must not be empty');
    if (names.has(user))
      throw new TestingError('TRL_TESTING_INVALID_OPTION', `duplicate NATS user "${user}"`);
    names.add(user);
  }
  const root: ConfBlock = {
    server_name: spec.serverName,
    listen: `${LOOPBACK_HOST}:${port(spec.port)}`,
    http: `${LOOPBACK_HOST}:${port(spec.monitorPort)}`,
    max_payload: spec.maxPayload,
    max_connections: positive('maxConnections', spec.limits?.maxConnections),
    write_deadline: seconds('writeDeadlineSeconds', spec.limits?.writeDeadlineSeconds),
    jetstream: spec.jetstream && {
      store_dir: spec.jetstream.storeDir,
      max_memory_store: spec.jetstream.maxMemoryStore,
      max_file_store: spec.jetstream.maxFileStore,
    },
    authorization: {
      timeout: positive('authTimeoutSeconds', spec.limits?.authTimeoutSeconds),
      users: spec.users.map((u) => ({
        user: u.user,
        password: u.password,
        permissions: u.permissions && permissionsBlock(u.user, u.permissions),
      })),
    },
    cluster: spec.cluster && {
      name: spec.cluster.name,
      listen: `${LOOPBACK_HOST}:${port(spec.cluster.port)}`,
      routes: spec.cluster.routePorts.map((p) => `nats-route://${LOOPBACK_HOST}:${port(p)}`),
    },
  };
  return renderBlock(root, 0, []).join('\n') + '\n';
}

function permissionsBlock(user: string, p: NatsUserPermissions): ConfBlock {
  return {
    publish: p.publish && ruleBlock(user, 'publish', p.publish),
    subscribe: p.subscribe && ruleBlock(user, 'subscribe', p.subscribe),
    allow_responses: p.allowResponses,
  };
}

function ruleBlock(user: string, kind: string, rule: NatsSubjectRule): ConfBlock {
  if (rule.allow !== undefined && rule.allow.length === 0) {
    // nats-server reads an empty allow list as "no restriction", the opposite of what it says.
    throw new TestingError(
      'TRL_TESTING_INVALID_OPTION',
      `user "${user}": an empty ${kind}.allow list would allow everything; use deny: [">"] to allow nothing`,
    );
  }
  return { allow: rule.allow, deny: rule.deny };
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new TestingError(
      'TRL_TESTING_INVALID_OPTION',
      `${name} must be a whole number > 0 (got ${value})`,
    );
  }
  return value;
}

/** nats-server reads a duration as a string with a unit. */
function seconds(name: string, value: number | undefined): string | undefined {
  return positive(name, value) === undefined ? undefined : `${value}s`;
}

function port(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new TestingError('TRL_TESTING_INVALID_OPTION', `invalid TCP port ${value}`);
  }
  return value;
}

/**
 * Appends `block`'s lines to `lines`. One shared array, never a spread of a nested result: a
 * users list of 10,000 sidecars renders to ~130,000 lines, more arguments than one call takes.
 */
function renderBlock(block: ConfBlock, depth: number, lines: string[]): string[] {
  const pad = '  '.repeat(depth);
  for (const [key, value] of Object.entries(block)) {
    if (value === undefined) continue;
    if (isArray(value)) {
      if (value.every(isScalar)) {
        lines.push(`${pad}${key}: [${value.map((v) => scalar(key, v)).join(', ')}]`);
      } else {
        lines.push(`${pad}${key}: [`);
        for (const item of value) {
          if (isScalar(item))
            throw new TestingError('TRL_TESTING_INVALID_OPTION', `mixed list in "${key}"`);
          lines.push(`${pad}  {`);
          renderBlock(item, depth + 2, lines);
          lines.push(`${pad}  }`);
        }
        lines.push(`${pad}]`);
      }
    } else if (isScalar(value)) {
      lines.push(`${pad}${key}: ${scalar(key, value)}`);
    } else {
      lines.push(`${pad}${key} {`);
      renderBlock(value, depth + 1, lines);
      lines.push(`${pad}}`);
    }
  }
  return lines;
}

function scalar(key: string, value: ConfScalar): string {
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TestingError(
        'TRL_TESTING_INVALID_OPTION',
        `"${key}" must be a non-negative integer (got ${value})`,
      );
    }
    return String(value);
  }
  // Strings are written JSON-quoted; nats-server's lexer reads \" and \\ but not JSON's \uXXXX,
  // which JSON.stringify would use for control characters and lone surrogates.
  if (/[\u0000-\u001f\u007f]|\p{Cs}/u.test(value)) {
    throw new TestingError(
      'TRL_TESTING_INVALID_OPTION',
      `"${key}" contains a character that a nats-server config cannot hold: ${JSON.stringify(value)}`,
    );
  }
  return JSON.stringify(value);
}

function isScalar(value: unknown): value is ConfScalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}
