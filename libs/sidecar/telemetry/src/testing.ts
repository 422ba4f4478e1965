// Test helpers: a CompletedRequest built from just the fields telemetry reads, and a parser
// for the Prometheus text exposition so specs assert exact series and values.
import type { CompletedRequest, ProxyRequest, RequestRecord } from '@trellis/sidecar-proxy';

export interface CompletedInit {
  readonly method?: string;
  readonly authority?: string;
  readonly target?: string;
  readonly protocol?: 'http/1.1' | 'h2';
  readonly headers?: readonly string[];
  /** The id of the trace the tracer gave the request (absent: no tracer ran). */
  readonly traceId?: string;
  readonly requestId?: string;
  readonly record?: Partial<RequestRecord>;
  readonly status?: number;
  readonly grpcStatus?: string;
  readonly outcome?: CompletedRequest['outcome'];
  readonly durationMs?: number;
  readonly bytesIn?: number;
  readonly bytesOut?: number;
}

/** A finished request; unset fields are those of a plain routed 200. */
export function completedRequest(init: CompletedInit = {}): CompletedRequest {
  const record: RequestRecord = {
    route: 'route/catalog.shop',
    destination: 'catalog.shop:8080',
    endpoint: '10.0.0.1:8080',
    attempts: 1,
    retryReasons: [],
    error: undefined,
    faultInjected: false,
    ...init.record,
  };
  // Telemetry reads only the exchange's request line and headers, the id and the record; the
  // rest of a live ProxyRequest (runtime, body, deadlines) has no bearing on it.
  const request = {
    exchange: {
      method: init.method ?? 'GET',
      authority: init.authority ?? 'catalog:8080',
      target: init.target ?? '/items?x=1',
      protocol: init.protocol ?? 'http/1.1',
      headers: init.headers ?? [],
      remoteAddress: '127.0.0.1',
    },
    requestId: init.requestId ?? 'req-1',
    trace: init.traceId === undefined ? undefined : { traceId: init.traceId },
    record,
    startedAt: 0,
  } as unknown as ProxyRequest;
  return {
    request,
    status: init.status ?? 200,
    grpcStatus: init.grpcStatus,
    outcome: init.outcome ?? 'complete',
    durationMs: init.durationMs ?? 12,
    bytesIn: init.bytesIn ?? 0,
    bytesOut: init.bytesOut ?? 5,
  };
}

/** Sample lines of a text exposition: `name{labels}` → value, comments left out. */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/** The samples whose series name is `name` (histograms: pass `_bucket`, `_sum`, `_count`). */
export function seriesOf(samples: Map<string, number>, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [series, value] of samples) {
    if (series === name || series.startsWith(`${name}{`)) out[series] = value;
  }
  return out;
}
