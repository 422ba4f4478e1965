// The control plane's NATS connection: user/password auth, and reconnecting forever — sidecars
// keep serving through an outage, and the control plane must come back by itself after one.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliveryError } from './errors.js';

export interface NatsConnectOptions {
  /** One URL or several, comma-separated (`nats://a:4222,nats://b:4222`), or a list. */
  readonly servers: string | readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** Connection name shown by the server's monitoring (`trellis-control-plane/<replica>`). */
  readonly name?: string;
}

export function natsServers(servers: string | readonly string[]): string[] {
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers])
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new DeliveryError('TRL_DELIVERY_INVALID_OPTION', 'no NATS server URL given');
  return list;
}

/** Resolves once connected; until the first connection succeeds it keeps trying, too. */
export function connectToNats(options: NatsConnectOptions): Promise<NatsConnection> {
  if ((options.user === undefined) !== (options.password === undefined)) {
    throw new DeliveryError(
      'TRL_DELIVERY_INVALID_OPTION',
      'a NATS user needs a password, and a password a user',
    );
  }
  return connect({
    servers: natsServers(options.servers),
    user: options.user,
    pass: options.password,
    name: options.name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    // The control plane dials back faster than the sidecars (1 s + up to 2 s of jitter): it is
    // one connection per replica, and the sync requests of the returning fleet need it
    // subscribed, or they fail with "no responders" and back off.
    reconnectTimeWait: 250,
    reconnectJitter: 100,
  });
}
