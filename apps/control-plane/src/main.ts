// trellis-control-plane: wires config sources → compile pipeline → HTTP API.
// Delivery to sidecars over NATS plugs in after the pipeline (see docs/protocol.md).
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseHostPort } from '@trellis/address';
import { formatIssue } from '@trellis/config';
import { compilePipeline, createApiServer } from '@trellis/control-plane-core';
import type { CompileResult } from '@trellis/control-plane-core';
import { folderSource } from '@trellis/control-plane-sources';

const usage = `Usage: trellis-control-plane --source DIR [options]

Watches Trellis config documents, validates and compiles them into versioned snapshots.

Options:
  --source DIR          folder of YAML documents to watch (required)
  --api HOST:PORT       HTTP JSON API address (default 127.0.0.1:15080)
  --debounce-ms N       quiet time before a change is compiled (default 100)
  -h, --help            show this help`;

function fail(message: string): never {
  process.stderr.write(`trellis-control-plane: ${message}\n\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      source: { type: 'string' },
      api: { type: 'string', default: '127.0.0.1:15080' },
      'debounce-ms': { type: 'string', default: '100' },
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
const debounceMs = Number(args['debounce-ms']);
if (!Number.isInteger(debounceMs) || debounceMs < 0)
  fail(`--debounce-ms must be a whole number ≥ 0 (got "${args['debounce-ms']}")`);
let api;
try {
  api = parseHostPort(args.api ?? '', '--api', '127.0.0.1');
} catch (error) {
  fail((error as Error).message);
}

const log = pino({
  base: { component: 'control-plane' },
  timestamp: pino.stdTimeFunctions.isoTime,
});
let current: CompileResult | undefined;

const subscription = compilePipeline([folderSource(args.source)], { debounceMs }).subscribe({
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
  },
  error(error: Error) {
    log.fatal({ err: error }, 'config source failed');
    process.exit(1);
  },
});

const server = createApiServer({ current: () => current });
server.on('error', (error) => {
  log.fatal({ err: error }, `cannot listen on ${args.api}`);
  process.exit(1);
});
server.listen(api.port, api.host, () =>
  log.info({ api: `http://${args.api}` }, 'control plane API listening'),
);

function shutdown(signal: string): void {
  log.info({ signal }, 'shutting down');
  subscription.unsubscribe();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
