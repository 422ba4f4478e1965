// The recording half of tracing: the OpenTelemetry SDK's tracer provider with a batching OTLP/HTTP
// exporter. MeshTracer.create imports this module only when an OTLP endpoint is configured, so a
// sidecar that only propagates trace context never loads (or pays start-up time for) the SDK.
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface OtlpExportOptions {
  /** OTLP/HTTP base URL: spans are posted to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  /** `service.name` of the exported spans. */
  readonly serviceName: string;
  /** Most time spans wait in the batch before export (ms; the SDK default is 5000). */
  readonly exportDelayMs?: number | undefined;
}

/** Where sampled spans are recorded, and how to flush or stop their export. */
export interface SpanExport {
  readonly tracer: Tracer;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function startOtlpExport(options: OtlpExportOptions): SpanExport {
  const exporter = new OTLPTraceExporter({
    url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    // The sampling decision is taken before any span exists (see MeshTracer.startRequest).
    sampler: new AlwaysOnSampler(),
    spanProcessors: [
      new BatchSpanProcessor(
        exporter,
        options.exportDelayMs === undefined ? {} : { scheduledDelayMillis: options.exportDelayMs },
      ),
    ],
  });
  return {
    tracer: provider.getTracer('@trellis/sidecar-telemetry'),
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
