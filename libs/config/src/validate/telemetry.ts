// Semantic checks of one Telemetry document.
import type { TelemetryResource } from '../schema/telemetry.js';
import type { IssueSink } from './issue-sink.js';
import { unique } from './rules.js';

export function checkTelemetry(telemetry: TelemetryResource, sink: IssueSink): void {
  unique(
    sink,
    telemetry.spec.tracing.propagation,
    (index) => ['spec', 'tracing', 'propagation', index],
    (format) => format,
    (format) => `propagation ${JSON.stringify(format)}`,
  );
}
