// The sidecar's command line: every flag, its default and its environment variable.
import { parseArgs } from 'node:util';
import { parseHostPort } from '@trellis/address';
import type { HostPort } from '@trellis/address';
import type { SidecarRole } from '@trellis/sidecar-proxy';

export const usage = `Usage: trellis-sidecar --config PATH [options]

The Trellis sidecar proxy, and the edge gateway (--role gateway).

Config:
  --config PATH             static config file or folder (standalone and edge mode); reloaded
                            on change and on SIGHUP; an invalid reload keeps the last good config
Roles and listeners:
  --role sidecar|gateway    sidecar: outbound + inbound listeners (default)
                            gateway: one public listener routing by host and path
  --outbound HOST:PORT      sidecar outbound listener, the app's calls (default 127.0.0.1:15001)
  --inbound HOST:PORT       sidecar inbound listener, calls from other pods (default 0.0.0.0:15006)
  --app HOST:PORT           the local app inbound calls go to; no inbound listener without it
  --listen HOST:PORT        gateway listener (default 0.0.0.0:8080)
  --admin HOST:PORT         admin endpoint (default 127.0.0.1:15000): /live /ready /config
                            /clusters /stats, POST /drain
Identity:
  --namespace NS            namespace of this workload; short service names resolve in it
                            (default $POD_NAMESPACE or "default")
  --zone ZONE               zone of this workload, for zone-aware balancing ($TRELLIS_ZONE)
Behaviour:
  --drain-timeout-ms N      longest graceful drain on SIGTERM (default 20000)
  --replay-limit-bytes N    request-body bytes kept for retries; larger bodies are not
                            retried (default 65536)
  -h, --help                show this help`;

export interface SidecarFlags {
  readonly help: boolean;
  readonly config: string;
  readonly role: SidecarRole;
  readonly outbound: HostPort;
  readonly inbound: HostPort;
  readonly app: HostPort | undefined;
  readonly listen: HostPort;
  readonly admin: HostPort;
  readonly namespace: string;
  readonly zone: string | undefined;
  readonly drainTimeoutMs: number;
  readonly replayLimitBytes: number;
}

function wholeNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new Error(`${flag} must be a whole number ≥ 0 (got "${value}")`);
  return n;
}

/** Parses flags; throws an Error whose message says which flag is wrong and why. */
export function parseSidecarFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SidecarFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      role: { type: 'string', default: 'sidecar' },
      outbound: { type: 'string', default: '127.0.0.1:15001' },
      inbound: { type: 'string', default: '0.0.0.0:15006' },
      app: { type: 'string' },
      listen: { type: 'string', default: '0.0.0.0:8080' },
      admin: { type: 'string', default: '127.0.0.1:15000' },
      namespace: { type: 'string' },
      zone: { type: 'string' },
      'drain-timeout-ms': { type: 'string' },
      'replay-limit-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const role = values.role;
  if (role !== 'sidecar' && role !== 'gateway')
    throw new Error(`--role must be sidecar or gateway (got "${role}")`);
  if (!values.help && !values.config)
    throw new Error('--config is required (control-plane delivery arrives with the NATS client)');
  return {
    help: values.help ?? false,
    config: values.config ?? '',
    role,
    outbound: parseHostPort(values.outbound ?? '', '--outbound', '127.0.0.1'),
    inbound: parseHostPort(values.inbound ?? '', '--inbound'),
    app: values.app === undefined ? undefined : parseHostPort(values.app, '--app', '127.0.0.1'),
    listen: parseHostPort(values.listen ?? '', '--listen'),
    admin: parseHostPort(values.admin ?? '', '--admin', '127.0.0.1'),
    namespace: values.namespace ?? env.POD_NAMESPACE ?? 'default',
    zone: values.zone ?? env.TRELLIS_ZONE,
    drainTimeoutMs: wholeNumber(values['drain-timeout-ms'], '--drain-timeout-ms', 20_000),
    replayLimitBytes: wholeNumber(values['replay-limit-bytes'], '--replay-limit-bytes', 64 * 1024),
  };
}
