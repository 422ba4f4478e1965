// Where a sidecar's config comes from: the static file (hot reload) or the control plane over
// NATS. Used by the single process and, with --concurrency N > 1, by the primary alone — only
// the primary connects to NATS, so the control plane sees one sidecar and each version is
// ACKed or NACKed once; the workers get what the primary accepted.
import { formatIssue } from '@trellis/config';
import { ControlPlaneClient } from '@trellis/sidecar-delivery';
import type { ProxyRuntime } from '@trellis/sidecar-proxy';
import type { ConfigHolder } from '@trellis/sidecar-runtime';
import { StaticConfig } from '@trellis/sidecar-runtime';
import type { SummaryPublisher } from '@trellis/sidecar-telemetry';
import type { Logger } from 'pino';
import type { SidecarFlags } from './flags.js';

interface ViewAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Both sources report the same way and stop on shutdown. */
export interface ConfigSource {
  start(): Promise<unknown>;
  stop(): Promise<void> | void;
  views: Record<string, () => ViewAnswer | Promise<ViewAnswer>>;
}

export interface ConfigSourceOptions {
  /** Called for each refused config (the last good one stays in force). */
  readonly onRejected: () => void;
  /**
   * With --nats: the telemetry summaries to publish on the control-plane connection (with
   * --concurrency, the primary's, merged over its workers).
   */
  readonly summaries?: (client: ControlPlaneClient) => SummaryPublisher;
}

export function configSource(
  flags: SidecarFlags,
  holder: ConfigHolder<ProxyRuntime>,
  log: Logger,
  options: ConfigSourceOptions,
): ConfigSource {
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
    const summaries = options.summaries?.(client);
    return {
      start: async () => {
        await client.start();
        summaries?.start();
      },
      stop: () => {
        summaries?.stop();
        return client.close();
      },
      views: {
        '/sync': () => ({ status: 200, body: client.state() }),
        ...(summaries && { '/telemetry': () => telemetryView(summaries) }),
      },
    };
  }
  const file = new StaticConfig(flags.config, holder, {
    onReload(outcome, trigger) {
      if (outcome.accepted) return;
      options.onRejected();
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

/** The summary as it stands; 503 when the primary's workers gave it nothing to summarize. */
async function telemetryView(summaries: SummaryPublisher): Promise<ViewAnswer> {
  try {
    return { status: 200, body: await summaries.summary() };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { status: 503, body: { error: message, ...(code && { code }) } };
  }
}
