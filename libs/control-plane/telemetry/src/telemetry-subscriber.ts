// Feeds the aggregator from NATS: one plain subscription to every sidecar's telemetry subject on
// the control plane's connection (no queue group: every replica keeps its own view, as it does
// for sync state). Nothing the aggregator does may unwind into nats.js's dispatch loop.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { subjects } from '@trellis/mesh-protocol';
import type { TelemetryAggregator, TelemetryLogger } from './telemetry-aggregator.js';

export function subscribeTelemetry(
  nc: NatsConnection,
  aggregator: TelemetryAggregator,
  log?: TelemetryLogger,
): Subscription {
  return nc.subscribe(subjects.allTelemetry, {
    callback: (error, msg) => {
      if (error) {
        log?.warn(
          { code: 'TRL_TELEMETRY_SUBSCRIPTION_FAILED', reason: error.message },
          'telemetry subscription failed',
        );
        return;
      }
      try {
        aggregator.accept(msg.subject, msg.data);
      } catch (unexpected) {
        log?.warn(
          { code: 'TRL_TELEMETRY_UNEXPECTED', reason: (unexpected as Error).message },
          'telemetry summary handling failed',
        );
      }
    },
  });
}
