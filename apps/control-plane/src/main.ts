// trellis-control-plane: wires config sources → compile pipeline → HTTP API, and with --nats the
// delivery to sidecars (docs/protocol.md): stored versions, writer lease, updates, sync replies,
// sync state, metrics. Logic lives in the libs; this file parses options and connects them.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { formatHostPort, parseHostPort } from '@trellis/address';
import { formatIssue } from '@trellis/config';
import { startControlPlaneApi } from '@trellis/control-plane-api';
import type { ControlPlaneApi } from '@trellis/control-plane-api';
import { compilePipeline, createApiServer } from '@trellis/control-plane-core';
import type { ApiRoute, CompileResult } from '@trellis/control-plane-core';
import {
  ControlPlaneDelivery,
  DeliveryMetrics,
  connectToNats,
  deliveryRoutes,
} from '@trellis/control-plane-delivery';
import {
  TelemetryAggregator,
  subscribeTelemetry,
  telemetryRoutes,
} from '@trellis/control-plane-telemetry';
import { kubernetesSource, loadKubeConfig } from '@trellis/control-plane-k8s';
import { folderSource } from '@trellis/control-plane-sources';
import type { ConfigSource } from '@trellis/control-plane-sources';

const usage = `Usage: trellis-control-plane --source DIR|k8s [options]

Watches Trellis config documents, validates and compiles them into versioned snapshots, and with
--nats delivers them to the sidecars (docs/protocol.md).

Options:
  --source DIR|k8s      where config comes from (required): a folder of YAML documents to
                        watch, or k8s for the Kubernetes API (Services, EndpointSlices, Pods
                        and the trellis.dev CRDs)
  --kubeconfig FILE     with --source k8s: kubeconfig (default $KUBECONFIG, ~/.kube/config,
                        then the in-cluster service account)
  --namespaces A,B      with --source k8s: namespaces to watch (default all)
  --api HOST:PORT       HTTP JSON API address (default 127.0.0.1:15080)
  --debounce-ms N       quiet time before a change is compiled (default 100)
  --debounce-leading    compile the first change after a quiet period at once, and the rest
                        of its burst once N ms pass without another change (for sources whose
                        every event is a whole state; a folder's half-written file is not)
  -h, --help            show this help

Delivery over NATS (without --nats: compile and serve the API only):
  --nats URL[,URL...]   NATS server(s) (env TRELLIS_NATS_URL)
  --nats-user USER      NATS user (env TRELLIS_NATS_USER)
  --nats-password PASS  NATS password (env TRELLIS_NATS_PASSWORD; preferred, as arguments show in ps)
  --grpc HOST:PORT      gRPC API for meshctl (default 127.0.0.1:15090)
  --replica-id ID       this replica's name in the writer lease (default <hostname>-<pid>)
  --lease-ms N          writer lease time (default 5000)
  --stale-after-ms N    a sidecar behind this long is STALE (default 5000)
  --heartbeat-ms N      the sidecars' heartbeat interval (default 10000)
  --kv-replicas N       replicas of the KV buckets when created: 1, 3 or 5 (default 1)`;

function fail(message: string): never {
  process.stderr.write(`trellis-control-plane: ${message}\n\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      source: { type: 'string' },
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string' },
      api: { type: 'string', default: '127.0.0.1:15080' },
      'debounce-ms': { type: 'string', default: '100' },
      'debounce-leading': { type: 'boolean', default: false },
      nats: { type: 'string', default: process.env['TRELLIS_NATS_URL'] },
      'nats-user': { type: 'string', default: process.env['TRELLIS_NATS_USER'] },
      'nats-password': { type: 'string', default: process.env['TRELLIS_NATS_PASSWORD'] },
      'replica-id': { type: 'string', default: `${hostname()}-${process.pid}` },
      'lease-ms': { type: 'string', default: '5000' },
      'stale-after-ms': { type: 'string', default: '5000' },
      'heartbeat-ms': { type: 'string', default: '10000' },
      'kv-replicas': { type: 'string', default: '1' },
      grpc: { type: 'string', default: '127.0.0.1:15090' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!args.source) fail('--source is required');

function wholeNumber(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    fail(`--${name} must be a whole number ≥ ${min} (got "${value}")`);
  return n;
}

const debounceMs = wholeNumber('debounce-ms', args['debounce-ms'], 0);
let api;
let grpcAddress;
try {
  api = parseHostPort(args.api ?? '', '--api', '127.0.0.1');
  grpcAddress = formatHostPort(parseHostPort(args.grpc ?? '', '--grpc', '127.0.0.1'));
} catch (error) {
  fail((error as Error).message);
}

const log = pino({
  base: { component: 'control-plane' },
  timestamp: pino.stdTimeFunctions.isoTime,
});

let delivery: ControlPlaneDelivery | undefined;
if (args.nats) {
  try {
    delivery = new ControlPlaneDelivery({
      replicaId: args['replica-id'] ?? '',
      leaseMs: wholeNumber('lease-ms', args['lease-ms'], 30),
      staleAfterMs: wholeNumber('stale-after-ms', args['stale-after-ms'], 1),
      heartbeatMs: wholeNumber('heartbeat-ms', args['heartbeat-ms'], 1),
      kvReplicas: wholeNumber('kv-replicas', args['kv-replicas'], 1),
      log: log.child({ replica: args['replica-id'] }),
      metrics: new DeliveryMetrics({ processMetrics: true }),
    });
  } catch (error) {
    fail((error as Error).message);
  }
}

let current: CompileResult | undefined;
const noResult: CompileResult = {
  snapshot: undefined,
  published: false,
  diff: undefined,
  issues: [],
};
// With delivery, the config in force is the stored one (any replica may have written it);
// the issues are this replica's compilation of the sources.
const apiState = {
  current: (): CompileResult | undefined =>
    delivery ? { ...(current ?? noResult), snapshot: delivery.latest } : current,
};
// The sidecars' telemetry summaries, rolled up per service (GET /api/v1/telemetry).
const telemetry = delivery
  ? new TelemetryAggregator({
      log: log.child({ component: 'telemetry' }),
      onRejected: (code) => delivery.metrics.rejected.inc({ subject: 'telemetry', code }),
    })
  : undefined;
const routes: ApiRoute[] =
  delivery && telemetry
    ? [
        deliveryRoutes({ tracker: delivery.tracker, metrics: delivery.metrics }),
        telemetryRoutes(telemetry),
      ]
    : [];
const server = createApiServer(apiState, routes);
server.on('error', (error) => {
  log.fatal({ err: error }, `cannot listen on ${args.api}`);
  process.exit(1);
});
server.listen(api.port, api.host, () =>
  log.info({ api: `http://${args.api}` }, 'control plane API listening'),
);

let nc: NatsConnection | undefined;
let grpcApi: ControlPlaneApi | undefined;
if (delivery) {
  try {
    log.info({ nats: args.nats, user: args['nats-user'] ?? null }, 'connecting to NATS');
    nc = await connectToNats({
      servers: args.nats ?? '',
      user: args['nats-user'],
      password: args['nats-password'],
      name: `trellis-control-plane/${args['replica-id']}`,
    });
    await delivery.start(nc);
    if (telemetry) subscribeTelemetry(nc, telemetry, log);
  } catch (error) {
    log.fatal({ err: error }, 'cannot start delivery over NATS');
    process.exit(1);
  }
  const tracked = delivery;
  try {
    grpcApi = await startControlPlaneApi({
      address: grpcAddress,
      tracker: tracked.tracker,
      latest: () => tracked.latest,
      log: log.child({ api: 'grpc' }),
    });
    log.info({ grpc: grpcAddress, port: grpcApi.port }, 'control plane gRPC API listening');
  } catch (error) {
    log.fatal({ err: error }, 'cannot start the gRPC API');
    process.exit(1);
  }
}

function configSource(
  spec: string,
  kubeconfig: string | undefined,
  namespaceList: string | undefined,
): ConfigSource {
  if (spec !== 'k8s') return folderSource(spec);
  const namespaces = namespaceList
    ?.split(',')
    .map((n: string) => n.trim())
    .filter(Boolean);
  try {
    return kubernetesSource({
      kubeConfig: loadKubeConfig({ file: kubeconfig }),
      namespaces: namespaces?.length ? namespaces : undefined,
      logger: log.child({ source: 'k8s' }),
    });
  } catch (error) {
    log.fatal({ err: error }, 'cannot use the Kubernetes API');
    process.exit(1);
  }
}

const subscription = compilePipeline(
  [configSource(args.source, args.kubeconfig, args.namespaces)],
  {
    debounceMs,
    leadingEdge: args['debounce-leading'],
    lastVersion: delivery?.storedVersion,
  },
).subscribe({
  next(result) {
    current = result;
    for (const issue of result.issues) {
      log[issue.severity === 'error' ? 'error' : 'warn'](
        { code: issue.code, issue: formatIssue(issue) },
        'config issue',
      );
    }
    if (result.published && result.snapshot) {
      const { diff, snapshot } = result;
      log.info(
        {
          version: snapshot.version,
          hash: snapshot.hash,
          resources: snapshot.resources.length,
          added: diff?.added.length,
          changed: diff?.changed.length,
          removed: diff?.removed.length,
        },
        'config compiled',
      );
    } else if (result.issues.some((i) => i.severity === 'error')) {
      log.error(
        { keptVersion: result.snapshot?.version ?? null },
        'config rejected; the last good version stays in force',
      );
    }
    delivery?.offer(result.snapshot);
  },
  error(error: Error) {
    log.fatal({ err: error }, 'config source failed');
    process.exit(1);
  },
});

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  subscription.unsubscribe();
  server.close();
  server.closeAllConnections();
  try {
    await grpcApi?.close();
    // Steps down first, releasing the lease so another replica writes without waiting it out.
    await delivery?.close();
    await nc?.drain();
  } catch (error) {
    log.error({ err: error }, 'NATS shutdown failed');
  }
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
