// Distributed tracing for the sidecar: trace-context propagation (W3C, B3 single, B3 multi),
// request and attempt spans, ratio sampling, OTLP/HTTP export.
export type { IncomingContext, TraceIds } from './incoming-context.js';
export type { MeshTracerOptions, TracingSettings } from './mesh-tracer.js';
export { DEFAULT_TRACING_SETTINGS, MeshTracer } from './mesh-tracer.js';
export type { OutgoingContext } from './trace-headers.js';
export { extractTraceContext, injectTraceContext, removeTraceHeaders } from './trace-headers.js';
