// The sidecar's tracer: decides once per request whether it is sampled (parent-based, else a
// ratio of new traces), opens a request span and one client span per forwarded attempt when it
// is, and always propagates the trace context upstream. Unsampled requests (and every request
// when no exporter is configured) allocate no spans: they carry the caller's context (or a
// fresh trace id) on with the sampled flag as decided. Sampled spans are plain data here; the
// OpenTelemetry SDK makes and exports them in a worker thread (otlp-export.ts), started only
// when an OTLP endpoint is configured.
import type { Propagation } from '@trellis/config';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type {
  AttemptTrace,
  CompletedRequest,
  FlatHeaders,
  ProxyRequest,
  RequestTrace,
  RequestTracer,
} from '@trellis/sidecar-proxy';
import type { IncomingContext } from './incoming-context.js';
import type { SpanExport } from './otlp-export.js';
import { spanTimeNow, startFinishedSpan } from './finished-span.js';
import type { FinishedSpan } from './finished-span.js';
import { randomHexId } from './random-ids.js';
import {
  addRequestSpanEnd,
  attemptSpanStart,
  isGrpc,
  requestSpanStart,
} from './span-attributes.js';
import { extractTraceContext, headerOf, injectTraceContext } from './trace-headers.js';
import type { OutgoingContext } from './trace-headers.js';

export interface TracingSettings {
  /** Share of new traces (no caller decision) that are sampled, 0–100. */
  readonly samplingPercent: number;
  /** Formats written upstream, first preferred; every format is read. */
  readonly propagation: readonly Propagation[];
}

/** The Telemetry kind's defaults (spec.tracing = {}). */
export const DEFAULT_TRACING_SETTINGS: TracingSettings = {
  samplingPercent: 1,
  propagation: ['w3c'],
};

export interface MeshTracerOptions {
  /** `service.name` of the exported spans (e.g. the workload's service, or `trellis-gateway`). */
  readonly serviceName: string;
  /**
   * OTLP/HTTP base URL (what OTEL_EXPORTER_OTLP_ENDPOINT holds): spans are posted to
   * `<endpoint>/v1/traces`. Unset: no exporter, no spans; tracing only propagates.
   */
  readonly otlpEndpoint?: string | undefined;
  /** Uniform in [0, 1): the ratio sampler's draw. */
  readonly random: () => number;
  readonly settings?: TracingSettings;
  /** Most time spans wait in the batch before export (ms; the SDK default is 5000). */
  readonly exportDelayMs?: number;
  /** Called once if span export stops for good (its worker failed); spans are dropped then. */
  readonly onExportError?: (error: Error) => void;
}

const LISTENER_SPAN_KIND: Record<string, SpanKind> = {
  inbound: SpanKind.SERVER,
  gateway: SpanKind.SERVER,
};

export class MeshTracer implements RequestTracer {
  readonly #export: SpanExport | undefined;
  readonly #random: () => number;
  #settings: TracingSettings;

  /**
   * A tracer that records and exports sampled spans when `otlpEndpoint` is set (loading the
   * OpenTelemetry SDK for that), and otherwise only propagates trace context.
   */
  static async create(options: MeshTracerOptions): Promise<MeshTracer> {
    if (!options.otlpEndpoint) return new MeshTracer(options, undefined);
    const { startOtlpExport } = await import('./otlp-export.js');
    const spanExport = startOtlpExport({
      endpoint: options.otlpEndpoint,
      serviceName: options.serviceName,
      exportDelayMs: options.exportDelayMs,
      onError: options.onExportError,
    });
    return new MeshTracer(options, spanExport);
  }

  private constructor(options: MeshTracerOptions, spanExport: SpanExport | undefined) {
    this.#random = options.random;
    this.#settings = options.settings ?? DEFAULT_TRACING_SETTINGS;
    this.#export = spanExport;
  }

  /** Applies a config swap's tracing settings (undefined: the defaults). */
  configure(settings: TracingSettings | undefined): void {
    this.#settings = settings ?? DEFAULT_TRACING_SETTINGS;
  }

  get settings(): TracingSettings {
    return this.#settings;
  }

  startRequest(request: ProxyRequest, listener: string): RequestTrace {
    const settings = this.#settings;
    const incoming = extractTraceContext(request.headers);
    const sampled = incoming?.sampled ?? this.#random() * 100 < settings.samplingPercent;
    const spanExport = this.#export;
    if (!sampled || !spanExport) return this.#propagateOnly(incoming, sampled, settings);
    const ids = incoming?.ids;
    const { name, attributes } = requestSpanStart(request);
    const span = startFinishedSpan({
      name,
      kind: LISTENER_SPAN_KIND[listener] ?? SpanKind.INTERNAL,
      traceId: ids?.traceId ?? randomHexId(16),
      parentSpanId: ids?.spanId,
      parentIsRemote: true,
      traceState: ids?.traceState,
      attributes,
    });
    return new SpanTrace(spanExport, span, settings.propagation);
  }

  /** Exports every finished span now. */
  async forceFlush(): Promise<void> {
    await this.#export?.forceFlush();
  }

  /** Flushes and stops the exporter; later spans are dropped. */
  async shutdown(): Promise<void> {
    await this.#export?.shutdown();
  }

  #propagateOnly(
    incoming: IncomingContext | undefined,
    sampled: boolean,
    settings: TracingSettings,
  ): RequestTrace {
    const ids = incoming?.ids;
    // Fields written out, not spread (see startFinishedSpan).
    const context: OutgoingContext = ids
      ? { traceId: ids.traceId, spanId: ids.spanId, sampled, traceState: ids.traceState }
      : {
          traceId: randomHexId(16),
          spanId: randomHexId(8),
          sampled,
          traceState: undefined,
        };
    return new PropagatingTrace(context, settings.propagation);
  }
}

/** An unsampled request: headers only, no spans. */
class PropagatingTrace implements RequestTrace {
  constructor(
    private readonly context: OutgoingContext,
    private readonly formats: readonly Propagation[],
  ) {}

  get traceId(): string {
    return this.context.traceId;
  }

  startAttempt(_request: ProxyRequest, headers: FlatHeaders): undefined {
    injectTraceContext(headers, this.context, this.formats);
  }

  end(): void {}
}

/**
 * A sampled request: its span, and a client span per attempt, kept as plain data and handed to
 * the export when they end; the OpenTelemetry SDK makes them into spans off the proxy's thread
 * (otlp-export.ts says why).
 */
class SpanTrace implements RequestTrace {
  readonly #export: SpanExport;
  readonly #span: FinishedSpan;
  readonly #formats: readonly Propagation[];
  /** The grpc-status the last attempt ended with (trailers), for the request span. */
  #grpcStatus: string | undefined;

  constructor(spanExport: SpanExport, span: FinishedSpan, formats: readonly Propagation[]) {
    this.#export = spanExport;
    this.#span = span;
    this.#formats = formats;
  }

  get traceId(): string {
    return this.#span.traceId;
  }

  startAttempt(request: ProxyRequest, headers: FlatHeaders): AttemptTrace {
    const { name, attributes } = attemptSpanStart(request);
    const parent = this.#span;
    const span = startFinishedSpan({
      name,
      kind: SpanKind.CLIENT,
      traceId: parent.traceId,
      parentSpanId: parent.spanId,
      parentIsRemote: false,
      traceState: parent.traceState,
      attributes,
    });
    injectTraceContext(
      headers,
      { traceId: span.traceId, spanId: span.spanId, sampled: true, traceState: span.traceState },
      this.#formats,
    );
    return new AttemptSpan(this.#export, span, isGrpc(request), (status) => {
      this.#grpcStatus = status;
    });
  }

  end(completed: CompletedRequest): void {
    const span = this.#span;
    const { route } = completed.request.record;
    const grpc = isGrpc(completed.request);
    if (route !== undefined && !grpc) span.name = `${completed.request.exchange.method} ${route}`;
    const errorType = addRequestSpanEnd(
      span.attributes,
      completed,
      completed.grpcStatus ?? (grpc ? this.#grpcStatus : undefined),
    );
    if (errorType !== undefined) span.status = { code: SpanStatusCode.ERROR, message: errorType };
    span.endTime = spanTimeNow();
    this.#export.record(span);
  }
}

/** One forwarded attempt's client span: ended once, on failure or when the body is done. */
class AttemptSpan implements AttemptTrace {
  readonly #export: SpanExport;
  readonly #span: FinishedSpan;
  readonly #grpc: boolean;
  readonly #onGrpcStatus: (status: string) => void;
  #status: number | undefined;
  #grpcStatus: string | undefined;
  #ended = false;

  constructor(
    spanExport: SpanExport,
    span: FinishedSpan,
    grpc: boolean,
    onGrpcStatus: (status: string) => void,
  ) {
    this.#export = spanExport;
    this.#span = span;
    this.#grpc = grpc;
    this.#onGrpcStatus = onGrpcStatus;
  }

  response(status: number, headers: FlatHeaders): void {
    this.#status = status;
    this.#span.attributes['http.response.status_code'] = status;
    if (this.#grpc) this.#grpcStatusIs(headerOf(headers, 'grpc-status'));
  }

  trailers(trailers: FlatHeaders | undefined): void {
    if (this.#grpc && trailers) this.#grpcStatusIs(headerOf(trailers, 'grpc-status'));
  }

  end(failure: string | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    let errorType = failure;
    if (errorType === undefined && this.#status !== undefined && this.#status >= 400)
      errorType = String(this.#status);
    if (errorType === undefined && this.#grpcStatus !== undefined && this.#grpcStatus !== '0')
      errorType = this.#grpcStatus;
    if (errorType !== undefined) {
      span.attributes['error.type'] = errorType;
      span.status = { code: SpanStatusCode.ERROR, message: errorType };
    }
    span.endTime = spanTimeNow();
    this.#export.record(span);
  }

  #grpcStatusIs(status: string | undefined): void {
    if (status === undefined) return;
    this.#grpcStatus = status;
    const code = Number(status);
    if (Number.isInteger(code)) this.#span.attributes['rpc.grpc.status_code'] = code;
    this.#onGrpcStatus(status);
  }
}
