// The sidecar's command line: every flag, its default and its environment variable.
import { parseArgs } from 'node:util';
import { parseHostPort } from '@trellis/address';
import type { HostPort } from '@trellis/address';
import type { SidecarRole } from '@trellis/sidecar-proxy';

export const usage = `Usage: trellis-sidecar --config PATH [options]

The Trellis sidecar proxy, and the edge gateway (--role gateway).

Config (one of):
  --config PATH             static config file or folder (standalone and edge mode); reloaded
                            on change and on SIGHUP; an invalid reload keeps the last good config
  --nats URL                the control plane's NATS (comma-separated URLs; $TRELLIS_NATS_URL),
                            with --nats-user/--nats-password ($TRELLIS_NATS_USER,
                            $TRELLIS_NATS_PASSWORD): this pod's own user,
                            trellis-sidecar.<namespace>.<pod> (docs/protocol.md, Security)
  --state-file PATH         where the last good config from the control plane is kept, to start
                            from it when the control plane is down (default
                            $TMPDIR/trellis-sidecar-<namespace>-<pod>.json)
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
  --pod NAME                pod name ($POD_NAME, else the host name)
  --service NAME            the service this workload belongs to ($TRELLIS_SERVICE)
  --zone ZONE               zone of this workload, for zone-aware balancing ($TRELLIS_ZONE)
Behaviour:
  --drain-timeout-ms N      longest graceful drain on SIGTERM (default 20000)
  --replay-limit-bytes N    request-body bytes kept for retries; larger bodies are not
                            retried (default 65536)
  --max-request-body-bytes N
                            largest request body accepted; larger ones are answered 413
                            (x-trellis-error: request-too-large); 0 for no limit (default
                            10485760 for the gateway, no limit for the sidecar role)
  --concurrency N           worker processes serving the listeners, for pods with more than
                            one core: 1 to 64, or 0 / auto for one per CPU Node sees (in a
                            container that can be the node's CPUs: prefer N = the CPU limit);
                            a primary process owns config and the admin endpoint
                            ($TRELLIS_CONCURRENCY; default 1: one process does everything)
  -h, --help                show this help

Run through the launcher (apps/sidecar/bin/trellis-sidecar, the package's bin): it sets the
memory and GC settings the sidecar ships with (MALLOC_ARENA_MAX=1,
MALLOC_MMAP_THRESHOLD_=131072, NODE_OPTIONS=--max-semi-space-size=4, and node's own
--no-parallel-scavenge, replaced by $TRELLIS_SIDECAR_NODE_FLAGS when set); values set by the caller
win. See docs/sidecar.md.`;

export interface NatsFlags {
  readonly servers: string[];
  readonly user: string;
  readonly password: string;
  readonly stateFile: string;
}

export interface SidecarFlags {
  readonly help: boolean;
  /** Static config path; '' when config comes from the control plane. */
  readonly config: string;
  readonly nats: NatsFlags | undefined;
  readonly pod: string;
  readonly service: string;
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
  /** Largest request body, bytes; Infinity for no limit. */
  readonly maxRequestBodyBytes: number;
  /** Worker processes running the listeners; 1 = no workers, one process does everything. */
  readonly concurrency: number;
}

/** Most worker processes: beyond this the primary's fan-out and IPC outweigh more cores. */
export const MAX_CONCURRENCY = 64;

function concurrency(value: string | undefined, cpus: number): number {
  if (value === undefined) return 1;
  if (value === 'auto' || value === '0') return Math.min(Math.max(1, cpus), MAX_CONCURRENCY);
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_CONCURRENCY)
    throw new Error(
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, or 0 / auto for one per CPU (got "${value}")`,
    );
  return n;
}

function wholeNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new Error(`${flag} must be a whole number ≥ 0 (got "${value}")`);
  return n;
}

/**
 * Parses flags; throws an Error whose message says which flag is wrong and why. `cpus` is what
 * `--concurrency auto` means (os.availableParallelism() in main).
 */
export function parseSidecarFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  hostname = 'localhost',
  cpus = 1,
): SidecarFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      nats: { type: 'string' },
      'nats-user': { type: 'string' },
      'nats-password': { type: 'string' },
      'state-file': { type: 'string' },
      pod: { type: 'string' },
      service: { type: 'string' },
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
      'max-request-body-bytes': { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const role = values.role;
  if (role !== 'sidecar' && role !== 'gateway')
    throw new Error(`--role must be sidecar or gateway (got "${role}")`);
  const natsUrl = values.nats ?? env.TRELLIS_NATS_URL;
  if (!values.help && !values.config && !natsUrl) {
    throw new Error('give --config PATH (standalone) or --nats URL (control plane)');
  }
  if (values.config && natsUrl) throw new Error('give either --config or --nats, not both');
  const namespace = values.namespace ?? env.POD_NAMESPACE ?? 'default';
  const pod = values.pod ?? env.POD_NAME ?? hostname;
  let nats: NatsFlags | undefined;
  if (natsUrl) {
    const user = values['nats-user'] ?? env.TRELLIS_NATS_USER;
    const password = values['nats-password'] ?? env.TRELLIS_NATS_PASSWORD;
    if (!user || !password) {
      throw new Error(
        '--nats needs --nats-user and --nats-password (NATS always runs with authentication)',
      );
    }
    nats = {
      servers: natsUrl
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      user,
      password,
      stateFile:
        values['state-file'] ?? `${env.TMPDIR ?? '/tmp'}/trellis-sidecar-${namespace}-${pod}.json`,
    };
  }
  return {
    help: values.help ?? false,
    config: values.config ?? '',
    nats,
    pod,
    service: values.service ?? env.TRELLIS_SERVICE ?? '',
    role,
    outbound: parseHostPort(values.outbound ?? '', '--outbound', '127.0.0.1'),
    inbound: parseHostPort(values.inbound ?? '', '--inbound'),
    app: values.app === undefined ? undefined : parseHostPort(values.app, '--app', '127.0.0.1'),
    listen: parseHostPort(values.listen ?? '', '--listen'),
    admin: parseHostPort(values.admin ?? '', '--admin', '127.0.0.1'),
    namespace,
    zone: values.zone ?? env.TRELLIS_ZONE,
    drainTimeoutMs: wholeNumber(values['drain-timeout-ms'], '--drain-timeout-ms', 20_000),
    replayLimitBytes: wholeNumber(values['replay-limit-bytes'], '--replay-limit-bytes', 64 * 1024),
    // The gateway faces the internet, where a bounded body is the safe default; a sidecar
    // carries its own app's traffic, whose uploads it has no business capping.
    maxRequestBodyBytes:
      wholeNumber(
        values['max-request-body-bytes'],
        '--max-request-body-bytes',
        role === 'gateway' ? 10 * 1024 * 1024 : 0,
      ) || Infinity,
    concurrency: concurrency(values.concurrency ?? env.TRELLIS_CONCURRENCY, cpus),
  };
}
