// trellis-sidecar: flags → a Sidecar with its config source and admin endpoint. Wiring only.
import { pino } from 'pino';
import { formatHostPort } from '@trellis/address';
import { formatIssue } from '@trellis/config';
import { createAdminServer } from '@trellis/sidecar-admin';
import { PoolConnector, Sidecar } from '@trellis/sidecar-proxy';
import { StaticConfig } from '@trellis/sidecar-runtime';
import { systemClock } from '@trellis/time';
import { parseSidecarFlags, usage } from './flags.js';

let flags;
try {
  flags = parseSidecarFlags(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`trellis-sidecar: ${(error as Error).message}\n\n${usage}\n`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const log = pino({
  base: { component: 'sidecar', role: flags.role },
  timestamp: pino.stdTimeFunctions.isoTime,
});
const sidecar = new Sidecar({
  role: flags.role,
  outbound: flags.outbound,
  inbound: flags.app ? { listen: flags.inbound, app: flags.app } : undefined,
  gateway: flags.listen,
  localNamespace: flags.namespace,
  localZone: flags.zone,
  drainTimeoutMs: flags.drainTimeoutMs,
  replayLimitBytes: flags.replayLimitBytes,
  connector: new PoolConnector(systemClock),
  clock: systemClock,
  random: Math.random,
  log,
});

const staticConfig = new StaticConfig(flags.config, sidecar.holder, {
  onReload(outcome, trigger) {
    if (outcome.accepted) {
      sidecar.stats.increment('config_applied');
      log.info(
        { trigger, version: outcome.version, hash: sidecar.holder.current?.snapshot.hash },
        'config applied',
      );
      return;
    }
    sidecar.stats.increment('config_rejected');
    for (const issue of outcome.issues)
      log.error({ code: issue.code, issue: formatIssue(issue) }, 'config issue');
    log.error(
      { trigger, keptVersion: sidecar.holder.current?.snapshot.version ?? null },
      'config rejected; the last good config stays in force',
    );
  },
});

const admin = createAdminServer(sidecar.adminEndpoints());
const fatal = (what: string) => (error: Error) => {
  log.fatal({ err: error }, what);
  process.exit(1);
};
admin.on('error', fatal(`cannot listen on admin ${formatHostPort(flags.admin)}`));

try {
  await staticConfig.start();
  const bound = await sidecar.start();
  await new Promise<void>((resolve) => admin.listen(flags.admin.port, flags.admin.host, resolve));
  log.info(
    {
      ...Object.fromEntries(
        Object.entries(bound).map(([name, address]) => [name, formatHostPort(address)]),
      ),
      admin: formatHostPort(flags.admin),
    },
    'sidecar listening',
  );
} catch (error) {
  fatal('cannot start')(error as Error);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  staticConfig.stop();
  await sidecar.drain();
  admin.close();
  admin.closeAllConnections();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
