// The span export worker (started by otlp-export.ts): turns the proxy's finished spans into
// OpenTelemetry SDK spans, with the ids they were propagated with and their own times, and
// exports them with the SDK's batching processor and OTLP/HTTP (JSON) exporter. The sidecar's
// build bundles this file as dist/apps/sidecar/otlp-export-worker.js.
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import type { Context, Tracer } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core/build/src/trace/TraceState.js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { FinishedSpan } from './finished-span.js';
import type { ExportWorkerData, FromExportWorker, ToExportWorker } from './otlp-export.js';

/** Hands the SDK the ids a span was propagated with, instead of drawing new ones. */
class PresetIds implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

function serve(port: MessagePort, data: ExportWorkerData): void {
  const ids = new PresetIds();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': data.serviceName }),
    // The sampling decision was taken on the proxy's side (MeshTracer.startRequest).
    sampler: new AlwaysOnSampler(),
    idGenerator: ids,
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: data.url }),
        data.exportDelayMs === undefined ? {} : { scheduledDelayMillis: data.exportDelayMs },
      ),
    ],
  });
  const tracer = provider.getTracer('@trellis/sidecar-telemetry');
  const answer = (id: number, done: Promise<void>): void => {
    done.then(
      () => port.postMessage({ type: 'done', id } satisfies FromExportWorker),
      (error: unknown) =>
        port.postMessage({ type: 'done', id, error: String(error) } satisfies FromExportWorker),
    );
  };
  port.on('message', (message: ToExportWorker) => {
    if (message.type === 'spans') {
      for (const span of message.spans) makeSpan(tracer, ids, span);
    } else if (message.type === 'flush') {
      answer(message.id, provider.forceFlush());
    } else {
      answer(message.id, provider.shutdown());
    }
  });
}

function makeSpan(tracer: Tracer, ids: PresetIds, finished: FinishedSpan): void {
  ids.traceId = finished.traceId;
  ids.spanId = finished.spanId;
  const span = tracer.startSpan(
    finished.name,
    { kind: finished.kind, attributes: finished.attributes, startTime: finished.startTime },
    parentContext(finished),
  );
  if (finished.status) span.setStatus(finished.status);
  span.end(finished.endTime);
}

/** The context the SDK reads the span's trace, parent and tracestate from. */
function parentContext(finished: FinishedSpan): Context {
  if (finished.parentSpanId === undefined) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: finished.traceId,
    spanId: finished.parentSpanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: finished.parentIsRemote,
    traceState: finished.traceState === undefined ? undefined : new TraceState(finished.traceState),
  });
}

if (parentPort) serve(parentPort, workerData as ExportWorkerData);
