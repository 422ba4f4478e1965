// trellis-sidecar: flags → a Sidecar with its config source (a static file, or the control
// plane over NATS) and its admin endpoint. Wiring only.
import cluster from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import { pino } from 'pino';
import { formatHostPort } from '@trellis/address';
import { createAdminServer } from '@trellis/sidecar-admin';
import { PoolConnector, Sidecar } from '@trellis/sidecar-proxy';
import {
  AccessLog,
  DestinationWindows,
  MeshTracer,
  SidecarMetrics,
  SummaryPublisher,
  telemetryFor,
} from '@trellis/sidecar-telemetry';
import { systemClock } from '@trellis/time';
import { runPrimary } from './cluster/primary.js';
import { configSource } from './config-source.js';
import type { ConfigSource } from './config-source.js';
import { linkToPrimary, workerNumber, workerViews } from './cluster/worker.js';
import { parseSidecarFlags, usage } from './flags.js';
import type { SidecarFlags } from './flags.js';

let flags: SidecarFlags;
try {
  flags = parseSidecarFlags(process.argv.slice(2), process.env, hostname(), availableParallelism());
} catch (error) {
  process.stderr.write(`trellis-sidecar: ${(error as Error).message}\n\n${usage}\n`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const log = pino({
  base: { component: 'sidecar', role: flags.role, pod: flags.pod, worker: workerNumber() },
  timestamp: pino.stdTimeFunctions.isoTime,
});
/** Logs `what` with the error (pino flushes the line on exit) and exits 1. */
const fatal =
  (what: string, code?: string) =>
  (error: unknown): never => {
    log.fatal({ err: error, code }, what);
    process.exit(1);
  };
// A bug that escapes every handler still ends the process, as Node would, but with one log line
// that has a code instead of the bundle's minified source on stderr; the pod's restart policy
// does the rest.
process.on('uncaughtException', fatal('uncaught exception; exiting', 'TRL_SIDECAR_CRASHED'));
process.on(
  'unhandledRejection',
  fatal('unhandled promise rejection; exiting', 'TRL_SIDECAR_CRASHED'),
);
// --concurrency N > 1: this process is the primary (config source, admin endpoint, N workers
// running the listeners: cluster/primary.ts) and never reaches the wiring below; the workers do.
if (flags.concurrency > 1 && cluster.isPrimary) process.exit(await runPrimary(flags, log));
const telemetryOwner =
  flags.role === 'sidecar' && flags.service
    ? { name: flags.service, namespace: flags.namespace }
    : undefined;
const metrics = new SidecarMetrics();
const accessLog = new AccessLog({
  onWriteError: (err) =>
    log.error({ err, code: 'TRL_ACCESS_LOG_WRITE_FAILED' }, 'access log stopped: stdout failed'),
});
// Without OTEL_EXPORTER_OTLP_ENDPOINT traces are only propagated, never recorded.
const tracer = await MeshTracer.create({
  serviceName: telemetryOwner?.name ?? `trellis-${flags.role}`,
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  onExportError: (err) =>
    log.error(
      { err, code: 'TRL_TRACE_EXPORT_FAILED' },
      'span export stopped: sampled spans are dropped',
    ),
  random: Math.random,
});
// With --nats, per-destination windows feed the telemetry summaries (docs/protocol.md). A single
// process publishes its own; a cluster worker hands its windows to the primary, which merges
// those of every worker into one summary for the pod (cluster/primary.ts).
const telemetryIdentity = { namespace: flags.namespace, pod: flags.pod, service: flags.service };
const summaryWindows = flags.nats
  ? new DestinationWindows({ clock: systemClock, identity: telemetryIdentity })
  : undefined;
const sidecar = new Sidecar({
  role: flags.role,
  outbound: flags.outbound,
  inbound: flags.app ? { listen: flags.inbound, app: flags.app } : undefined,
  gateway: flags.listen,
  localNamespace: flags.namespace,
  localZone: flags.zone,
  drainTimeoutMs: flags.drainTimeoutMs,
  replayLimitBytes: flags.replayLimitBytes,
  maxRequestBodyBytes: flags.maxRequestBodyBytes,
  connector: new PoolConnector(systemClock),
  clock: systemClock,
  random: Math.random,
  log,
  tracer,
  onComplete(completed, listener) {
    metrics.record(completed, listener);
    accessLog.log(completed, listener);
    summaryWindows?.record(completed, listener);
  },
});
metrics.observeRuntime(() => sidecar.holder.current?.runtime);
metrics.observeAccessLogDrops(() => accessLog.droppedLines);
metrics.observeListeners(() => sidecar.listenerStats());
sidecar.holder.onApplied((applied) => {
  sidecar.stats.increment('config_applied');
  log.info({ version: applied.snapshot.version, hash: applied.snapshot.hash }, 'config applied');
  const telemetry = telemetryFor(applied.snapshot.resources, telemetryOwner);
  tracer.configure(telemetry?.tracing);
  metrics.configure(telemetry?.metrics);
  try {
    accessLog.configure(telemetry?.accessLog);
  } catch (error) {
    log.error({ err: error }, 'access log format rejected; the previous access-log settings stay');
  }
});

/** In a cluster worker config comes from the primary, which owns the file or the control plane. */
const fromPrimary = workerNumber() === undefined ? undefined : linkToPrimary(sidecar.holder, log);

const source: ConfigSource =
  fromPrimary ??
  configSource(flags, sidecar.holder, log, {
    onRejected: () => sidecar.stats.increment('config_rejected'),
    summaries:
      summaryWindows &&
      ((client) =>
        new SummaryPublisher({
          windows: summaryWindows,
          identity: telemetryIdentity,
          clock: systemClock,
          publish: (payload) => client.publishTelemetry(payload),
          log,
        })),
  });
const endpoints = sidecar.adminEndpoints();
const admin = createAdminServer({
  ...endpoints,
  views: {
    ...endpoints.views,
    ...source.views,
    '/metrics': async () => ({ status: 200, body: await metrics.metrics() }),
  },
});
admin.on('error', fatal(`cannot listen on admin ${formatHostPort(flags.admin)}`));

try {
  await source.start();
  const bound = await sidecar.start();
  // A worker answers the admin views through the primary, which serves the admin endpoint.
  if (fromPrimary)
    fromPrimary.serve(
      workerViews(
        bound,
        endpoints,
        () => metrics.registry.getMetricsAsJSON(),
        () => {
          void shutdown('drain from primary');
        },
        summaryWindows,
      ),
    );
  else
    await new Promise<void>((resolve) => admin.listen(flags.admin.port, flags.admin.host, resolve));
  log.info(
    {
      ...Object.fromEntries(
        Object.entries(bound).map(([name, address]) => [name, formatHostPort(address)]),
      ),
      admin: formatHostPort(flags.admin),
      config: flags.nats ? `nats ${flags.nats.servers.join(',')}` : flags.config,
    },
    'sidecar listening',
  );
} catch (error) {
  fatal('cannot start')(error);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // Whatever happens below, exit once the drain deadline (plus flushing time) has passed.
  setTimeout(() => {
    log.error({ signal }, 'shutdown took longer than the drain deadline; exiting');
    process.exit(1);
  }, flags.drainTimeoutMs + 5_000).unref();
  await sidecar.drain();
  await source.stop();
  // The drain is done: a last write or export that fails now loses those lines or spans, which
  // is logged, and the exit stays clean.
  await accessLog
    .flush()
    .catch((err: unknown) =>
      log.error({ err, code: 'TRL_ACCESS_LOG_WRITE_FAILED' }, 'the last access-log lines are lost'),
    );
  await tracer
    .shutdown()
    .catch((err: unknown) =>
      log.error({ err, code: 'TRL_TRACE_EXPORT_FAILED' }, 'the last spans could not be exported'),
    );
  admin.close();
  admin.closeAllConnections();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
