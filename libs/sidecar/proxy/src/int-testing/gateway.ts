// An in-process edge gateway on 127.0.0.1:0, wired like apps/sidecar does it: the real pool
// connector, the system clock, and config applied through the holder. Log lines are kept for
// assertions instead of printed.
import { systemClock } from '@trellis/time';
import { PoolConnector } from '../connectors.js';
import type { ListenerLimits } from '../listener.js';
import { defaultListenerLimits } from '../listener.js';
import type { CompletedRequest } from '../proxy.js';
import { Sidecar } from '../sidecar.js';
import type { Logger } from '../sidecar.js';
import { snapshotOf } from './config.js';

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: object;
  readonly message: string;
}

export interface TestGateway {
  readonly sidecar: Sidecar;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly logs: LogLine[];
  readonly completed: CompletedRequest[];
  /** Applies `text` as the next config version; throws if the sidecar rejects it. */
  apply(text: string): void;
  /** Drains the gateway (bounded by its drain timeout) and closes its upstream pools. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  readonly config?: string;
  readonly limits?: Partial<ListenerLimits>;
  readonly drainTimeoutMs?: number;
  readonly replayLimitBytes?: number;
  /** Keep every CompletedRequest in `completed` (default true; load tests turn it off). */
  readonly keepCompleted?: boolean;
}

export async function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const logs: LogLine[] = [];
  const completed: CompletedRequest[] = [];
  const log: Logger = {
    info: (fields, message) => logs.push({ level: 'info', fields, message }),
    warn: (fields, message) => logs.push({ level: 'warn', fields, message }),
    error: (fields, message) => logs.push({ level: 'error', fields, message }),
  };
  const sidecar = new Sidecar({
    role: 'gateway',
    gateway: { host: '127.0.0.1', port: 0 },
    localNamespace: 'test',
    drainTimeoutMs: options.drainTimeoutMs ?? 2_000,
    replayLimitBytes: options.replayLimitBytes ?? 64 * 1024,
    limits: { ...defaultListenerLimits, ...options.limits },
    connector: new PoolConnector(systemClock),
    clock: systemClock,
    random: Math.random,
    log,
    onComplete: options.keepCompleted === false ? undefined : (c) => completed.push(c),
  });
  let version = 0;
  const apply = (text: string) => {
    version += 1;
    const result = sidecar.holder.apply(snapshotOf(text, version));
    if (!result.accepted)
      throw new Error(`config version ${version} rejected: ${JSON.stringify(result.issues)}`);
  };
  if (options.config !== undefined) apply(options.config);
  const bound = await sidecar.start();
  const port = bound['gateway']?.port;
  if (port === undefined) throw new Error('the gateway listener did not bind');
  return {
    sidecar,
    port,
    origin: `http://127.0.0.1:${port}`,
    logs,
    completed,
    apply,
    close: () => sidecar.drain(),
  };
}
