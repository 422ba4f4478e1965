// The primary's config source with --concurrency N > 1: the static file (hot reload) or the
// control plane over NATS, as in a single process, but applied to the primary's own holder —
// only the primary connects to NATS, so the control plane sees one sidecar and each version is
// ACKed or NACKed once; the workers get what the primary accepted.
import { formatIssue } from '@trellis/config';
import { ControlPlaneClient } from '@trellis/sidecar-delivery';
import type { ProxyRuntime } from '@trellis/sidecar-proxy';
import type { ConfigHolder } from '@trellis/sidecar-runtime';
import { StaticConfig } from '@trellis/sidecar-runtime';
import type { Logger } from 'pino';
import type { SidecarFlags } from '../flags.js';

export interface PrimaryConfigSource {
  start(): Promise<unknown>;
  stop(): Promise<void> | void;
  views: Record<string, () => { status: number; body: unknown }>;
}

export function primaryConfigSource(
  flags: SidecarFlags,
  holder: ConfigHolder<ProxyRuntime>,
  log: Logger,
  onRejected: () => void,
): PrimaryConfigSource {
  const nats = flags.nats;
  if (nats) {
    const client = new ControlPlaneClient({
      servers: nats.servers,
      user: nats.user,
      password: nats.password,
      identity: {
        namespace: flags.namespace,
        pod: flags.pod,
        service: flags.service,
        role: flags.role,
        labels: {},
        startedAt: new Date().toISOString(),
      },
      holder,
      persistPath: nats.stateFile,
      log,
    });
    return {
      start: () => client.start(),
      stop: () => client.close(),
      views: { '/sync': () => ({ status: 200, body: client.state() }) },
    };
  }
  const file = new StaticConfig(flags.config, holder, {
    onReload(outcome, trigger) {
      if (outcome.accepted) return;
      onRejected();
      for (const issue of outcome.issues)
        log.error({ code: issue.code, issue: formatIssue(issue) }, 'config issue');
      log.error(
        { trigger, keptVersion: holder.current?.snapshot.version ?? null },
        'config rejected; the last good config stays in force',
      );
    },
  });
  return { start: () => file.start(), stop: () => file.stop(), views: {} };
}
