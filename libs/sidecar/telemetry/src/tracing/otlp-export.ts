// The recording half of tracing, on the proxy's side: sampled spans, finished as plain data
// (FinishedSpan), go in batches to a worker thread (otlp-export-worker.ts) where the
// OpenTelemetry SDK makes them into spans and its batching processor exports them over OTLP/HTTP.
// The proxy's thread never runs SDK code. Measured with two sidecars sharing a core
// (`npm run bench:telemetry-pairs`, docs/benchmarks.md): making SDK spans on the proxy's thread,
// even one request in a hundred, cost every request a few microseconds more, wherever the
// batching and export ran. MeshTracer.create imports this module only when an OTLP endpoint is
// configured, so a sidecar that only propagates trace context starts no worker.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FinishedSpan } from './finished-span.js';

export interface OtlpExportOptions {
  /** OTLP/HTTP base URL: spans are posted to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  /** `service.name` of the exported spans. */
  readonly serviceName: string;
  /** Most time spans wait in the batch before export (ms; the SDK default is 5000). */
  readonly exportDelayMs?: number | undefined;
  /** Called once if the worker fails; spans are dropped from then on. */
  readonly onError?: ((error: Error) => void) | undefined;
}

/** Where finished spans go, and how to flush or stop their export. */
export interface SpanExport {
  record(span: FinishedSpan): void;
  /** Resolves once every span recorded so far has been exported (or failed to be). */
  forceFlush(): Promise<void>;
  /** Exports what is left and stops the worker; later spans are dropped. */
  shutdown(): Promise<void>;
}

/** What the worker is started with. */
export interface ExportWorkerData {
  /** OTLP/HTTP traces URL (`<endpoint>/v1/traces`). */
  readonly url: string;
  readonly serviceName: string;
  readonly exportDelayMs: number | undefined;
}

/** Messages to the worker. */
export type ToExportWorker =
  | { readonly type: 'spans'; readonly spans: readonly FinishedSpan[] }
  | { readonly type: 'flush' | 'shutdown'; readonly id: number };

/** The worker's answer to a flush or shutdown; `error` when the export failed. */
export interface FromExportWorker {
  readonly type: 'done';
  readonly id: number;
  readonly error?: string;
}

/** Finished spans sent to the worker in one message, at most. */
const SEND_BATCH = 64;
/** Longest a finished span waits before it is sent (ms). */
const SEND_DELAY_MS = 100;

export function startOtlpExport(options: OtlpExportOptions): SpanExport {
  const worker = startExportWorker({
    url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
    serviceName: options.serviceName,
    exportDelayMs: options.exportDelayMs,
  });
  // Spans waiting in the worker never keep the process alive; shutdown() exports them.
  worker.unref();
  let pending: FinishedSpan[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let nextId = 1;
  const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();

  const send = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0 || stopped) return;
    const spans = pending;
    pending = [];
    worker.postMessage({ type: 'spans', spans } satisfies ToExportWorker);
  };
  const ask = (type: 'flush' | 'shutdown'): Promise<void> => {
    if (stopped) return Promise.resolve();
    send();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ type, id } satisfies ToExportWorker);
    });
  };
  const fail = (error: Error): void => {
    if (stopped) return;
    stopped = true;
    pending = [];
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
    options.onError?.(error);
  };
  worker.on('message', (message: FromExportWorker) => {
    const answer = waiting.get(message.id);
    if (!answer) return;
    waiting.delete(message.id);
    if (message.error === undefined) answer.resolve();
    else answer.reject(new Error(message.error));
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the span export worker exited (code ${code})`)));

  return {
    record(span) {
      if (stopped) return;
      pending.push(span);
      if (pending.length >= SEND_BATCH) send();
      else if (timer === undefined) {
        timer = setTimeout(send, SEND_DELAY_MS);
        timer.unref();
      }
    },
    forceFlush: () => ask('flush'),
    async shutdown() {
      if (stopped) return;
      try {
        await ask('shutdown');
      } finally {
        // Stopped either way: a failed last export must not leave the worker running.
        stopped = true;
        await worker.terminate();
      }
    },
  };
}

/**
 * The worker's young generation: V8's default size (two 16 MB semi-spaces and the space beside
 * them), not the 4 MB semi-spaces the sidecar's launcher sets for the whole process to keep the
 * proxy's RSS down. The worker allocates in bursts (each batch becomes SDK spans and a JSON
 * body) and scavenged often with the small one: tracing at 1 % cost about 1 % more CPU
 * (`bench:telemetry-pairs`), for no measurable RSS (docs/benchmarks.md).
 */
const WORKER_YOUNG_GENERATION_MB = 48;

/**
 * The worker, from the script beside this module: the bundle's otlp-export-worker.js in a built
 * sidecar; when running from source (the specs), the TypeScript file, compiled on load by tsx.
 */
function startExportWorker(data: ExportWorkerData): Worker {
  const options = {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  };
  const built = new URL('./otlp-export-worker.js', import.meta.url);
  if (existsSync(built)) return new Worker(built, options);
  const source = fileURLToPath(new URL('./otlp-export-worker.ts', import.meta.url));
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`, {
    ...options,
    eval: true,
  });
}
