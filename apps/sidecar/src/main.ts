// trellis-sidecar: wiring only. Config comes from a file (standalone and edge mode); the
// admin endpoint reports what is in force. The proxy listeners plug in on the same holder.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatHostPort, parseHostPort } from '@trellis/address';
import type { HostPort } from '@trellis/address';
import { formatIssue } from '@trellis/config';
import type { Snapshot } from '@trellis/config';
import { createAdminServer } from '@trellis/sidecar-admin';
import { ConfigHolder, StaticConfig } from '@trellis/sidecar-runtime';

const usage = `Usage: trellis-sidecar --config FILE [options]

The Trellis sidecar and edge gateway.

Options:
  --config PATH        static config file or folder (standalone/edge mode); reloaded on
                       change and on SIGHUP, keeping the last good config when a reload is invalid
  --admin HOST:PORT    admin endpoint (default 127.0.0.1:15000): /live /ready /config
  -h, --help           show this help`;

function fail(message: string): never {
  process.stderr.write(`trellis-sidecar: ${message}\n\n${usage}\n`);
  process.exit(2);
}

let flags;
let admin: HostPort;
try {
  flags = parseArgs({
    options: {
      config: { type: 'string' },
      admin: { type: 'string', default: '127.0.0.1:15000' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
  admin = parseHostPort(flags.admin ?? '', '--admin', '127.0.0.1');
} catch (error) {
  fail((error as Error).message);
}
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!flags.config) fail('--config is required');

const log = pino({ base: { component: 'sidecar' }, timestamp: pino.stdTimeFunctions.isoTime });
const holder = new ConfigHolder((snapshot: Snapshot) => snapshot);
const staticConfig = new StaticConfig(flags.config, holder, {
  onReload(outcome, trigger) {
    if (outcome.accepted) {
      log.info(
        { trigger, version: outcome.version, hash: holder.current?.snapshot.hash },
        'config applied',
      );
      return;
    }
    for (const issue of outcome.issues)
      log.error({ code: issue.code, issue: formatIssue(issue) }, 'config issue');
    log.error(
      { trigger, keptVersion: holder.current?.snapshot.version ?? null },
      'config rejected; the last good config stays in force',
    );
  },
});

const adminServer = createAdminServer({
  views: {
    '/live': () => ({ status: 200, body: 'live\n' }),
    '/ready': () =>
      holder.current ? { status: 200, body: 'ready\n' } : { status: 503, body: 'no config yet\n' },
    '/config': () => {
      const current = holder.current;
      return {
        status: current ? 200 : 503,
        body: {
          version: current?.snapshot.version ?? null,
          hash: current?.snapshot.hash ?? null,
          appliedAt: current ? new Date(current.appliedAt).toISOString() : null,
          lastRejection: holder.lastRejection
            ? { ...holder.lastRejection, issues: holder.lastRejection.issues.map(formatIssue) }
            : null,
          resources: current?.snapshot.resources ?? [],
        },
      };
    },
  },
});
adminServer.on('error', (error) => {
  log.fatal({ err: error }, `cannot listen on ${formatHostPort(admin)}`);
  process.exit(1);
});

await staticConfig.start();
adminServer.listen(admin.port, admin.host, () =>
  log.info({ admin: `http://${formatHostPort(admin)}` }, 'admin endpoint listening'),
);

function shutdown(signal: string): void {
  log.info({ signal }, 'shutting down');
  staticConfig.stop();
  adminServer.close(() => process.exit(0));
  adminServer.closeAllConnections();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
