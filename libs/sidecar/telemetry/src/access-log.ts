// Access logging: one line per finished request, a JSON object or text from a configured
// template, with the settings (enabled, sampling, format) swapped whole on each config change.
// The default destination is stdout written on the thread pool (FdWriter), so writing never
// blocks a request. Lines are batched (up to 256 KiB or 1 s): one write per line cost a
// thread-pool round trip and two context switches per request on the proxy's one core, and each
// batch costs one more. The two batch buffers are reused: the destination hands each back once
// written or dropped. Each line is encoded into a byte buffer as it is made: appending to one
// long string instead built a rope of thousands of pieces that the write then had to flatten
// and encode. JSON lines go into that buffer piece by piece, never as a string
// (writeAccessLogJson). Lines are serialised here rather than through a pino Logger: a Logger
// adds a level field (an empty level formatter yields invalid JSON in pino 10), and an access
// line is one flat object whose JSON is built directly.
import { systemClock } from '@trellis/time';
import type { Clock, Timer } from '@trellis/time';
import type { CompletedRequest } from '@trellis/sidecar-proxy';
import {
  accessLogEntry,
  accessLogJson,
  accessLogJsonBound,
  accessLogTraceId,
  writeAccessLogJson,
} from './access-log-entry.js';
import type { AccessLogEntry } from './access-log-entry.js';
import { compileAccessLogFormat } from './access-log-format.js';
import { FdWriter } from './fd-writer.js';
import type { ChunkDone } from './fd-writer.js';
import { JsonBytes } from './json-bytes.js';

/** The Telemetry resource's `spec.accessLog`. */
export interface AccessLogSettings {
  readonly enabled: boolean;
  /** Share of requests logged, 0–100. */
  readonly samplingPercent: number;
  /** Envoy-style line template; absent: one JSON object per line. */
  readonly format?: string | undefined;
}

/**
 * Where lines go, whole lines per chunk. The destination owns a chunk until it calls
 * `done(chunk, dropped)`, after which the log fills that buffer again and counts the chunk's
 * lines if it was dropped; one that never calls it keeps the chunk for good. FdWriter is one.
 */
export interface AccessLogDestination {
  write(chunk: Buffer, done?: ChunkDone): unknown;
  flush?(callback: (error?: Error) => unknown): void;
}

export interface AccessLogOptions {
  /** Where lines go; default: stdout, written on the thread pool. */
  readonly destination?: AccessLogDestination;
  /** Called once if writing to the default stdout stops for good (e.g. EPIPE); lines are then dropped. */
  readonly onWriteError?: (error: Error) => void;
  /** Uniform in [0, 1); drives sampling. */
  readonly random?: () => number;
  /** Wall clock in epoch ms, for the `time` field. */
  readonly wallNow?: () => number;
  /** Lines are held until this many bytes are pending (default 256 KiB; 0: write each line). */
  readonly batchBytes?: number;
  /** …or until this long after the first pending line (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Schedules the interval flush (default systemClock). */
  readonly clock?: Clock;
}

interface Compiled {
  readonly enabled: boolean;
  readonly samplingPercent: number;
  /** Undefined: JSON lines. */
  readonly render: ((entry: AccessLogEntry) => string) | undefined;
}

/**
 * Most bytes the default stdout writer holds while stdout is slow; past it batches are dropped
 * (and their lines counted, droppedLines), so a stalled log reader costs lines, never unbounded
 * memory.
 */
const DEFAULT_BUFFER_LIMIT_BYTES = 16 * 1024 * 1024;

const MIN_BUFFER_BYTES = 16 * 1024;

const DEFAULTS: Compiled = { enabled: true, samplingPercent: 100, render: undefined };

export class AccessLog {
  readonly #destination: AccessLogDestination;
  readonly #random: () => number;
  readonly #wallNow: () => number;
  readonly #batchBytes: number;
  readonly #flushIntervalMs: number;
  readonly #clock: Clock;
  #settings: Compiled = DEFAULTS;
  /** Lines not yet handed to the destination: the first #pendingBytes bytes of #buffer. */
  #buffer: Buffer;
  /** A batch buffer the destination handed back, filled next. */
  #spare: Buffer | undefined;
  #pendingBytes = 0;
  #droppedLines = 0;
  /** The JSON writer over #buffer, reused for every line. */
  readonly #out = new JsonBytes(Buffer.alloc(0), 0);
  #flushTimer: Timer | undefined;

  constructor(options: AccessLogOptions = {}) {
    this.#destination = options.destination ?? stdoutDestination(options.onWriteError);
    this.#random = options.random ?? Math.random;
    this.#wallNow = options.wallNow ?? Date.now;
    this.#batchBytes = options.batchBytes ?? 256 * 1024;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#clock = options.clock ?? systemClock;
    this.#buffer = Buffer.allocUnsafe(this.#bufferBytes());
  }

  /** Room for a full batch plus the line that completes it. */
  #bufferBytes(): number {
    return Math.max(2 * this.#batchBytes, MIN_BUFFER_BYTES);
  }

  /** Lines the destination dropped (stdout too slow or failed), since start. */
  get droppedLines(): number {
    return this.#droppedLines;
  }

  /**
   * Applies `spec.accessLog` (undefined: the defaults, JSON for every request). Compiles the
   * format first, so a bad template throws AccessLogFormatError and the old settings stay.
   */
  configure(settings: AccessLogSettings | undefined): void {
    if (!settings) {
      this.#settings = DEFAULTS;
      return;
    }
    const render =
      settings.format === undefined ? undefined : compileAccessLogFormat(settings.format);
    this.#settings = {
      enabled: settings.enabled,
      samplingPercent: settings.samplingPercent,
      render,
    };
  }

  /** Writes the line for `completed` if logging is on and the request is sampled. */
  log(completed: CompletedRequest, direction: string): void {
    const settings = this.#settings;
    if (!settings.enabled || !sampled(settings.samplingPercent, this.#random)) return;
    const wallNow = this.#wallNow();
    if (settings.render)
      this.#append(`${settings.render(accessLogEntry(completed, direction, wallNow))}\n`);
    else this.#appendJson(completed, direction, wallNow);
    if (this.#pendingBytes >= this.#batchBytes) this.#writePending();
    else this.#flushTimer ??= this.#clock.setTimer(this.#flushIntervalMs, this.#onFlushTimer);
  }

  /** JSON lines are written straight into the batch buffer (see json-bytes.ts). */
  #appendJson(completed: CompletedRequest, direction: string, wallNow: number): void {
    const traceId = accessLogTraceId(completed);
    const mostBytes = accessLogJsonBound(completed, direction, traceId) + 1;
    if (this.#pendingBytes + mostBytes > this.#buffer.length) this.#writePending();
    if (mostBytes > this.#buffer.length) {
      this.#destination.write(
        Buffer.from(`${accessLogJson(completed, direction, wallNow)}\n`),
        this.#onDone,
      );
      return;
    }
    const out = this.#out;
    out.buffer = this.#buffer;
    out.offset = this.#pendingBytes;
    writeAccessLogJson(completed, direction, traceId, wallNow, out);
    this.#buffer[out.offset++] = 0x0a;
    this.#pendingBytes = out.offset;
  }

  #append(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: with that much room, write() never cuts.
    const mostBytes = 3 * line.length;
    if (this.#pendingBytes + mostBytes > this.#buffer.length) this.#writePending();
    if (mostBytes > this.#buffer.length) {
      this.#destination.write(Buffer.from(line), this.#onDone);
      return;
    }
    this.#pendingBytes += this.#buffer.write(line, this.#pendingBytes);
  }

  readonly #onFlushTimer = (): void => {
    this.#flushTimer = undefined;
    this.#writePending();
  };

  #writePending(): void {
    this.#flushTimer?.cancel();
    this.#flushTimer = undefined;
    if (this.#pendingBytes === 0) return;
    const chunk = this.#buffer.subarray(0, this.#pendingBytes);
    this.#buffer = this.#spare ?? Buffer.allocUnsafe(this.#bufferBytes());
    this.#spare = undefined;
    this.#pendingBytes = 0;
    this.#destination.write(chunk, this.#onDone);
  }

  /** A chunk comes back: its lines are counted if dropped; a batch's buffer is filled next. */
  readonly #onDone = (chunk: Buffer, dropped: boolean): void => {
    if (dropped) this.#droppedLines += countLines(chunk);
    const whole = chunk.buffer;
    // Batch buffers are too large for Buffer's shared pool: each has an ArrayBuffer of its own.
    if (chunk.byteOffset === 0 && whole.byteLength === this.#bufferBytes())
      this.#spare = Buffer.from(whole);
  };

  /** Pushes pending and buffered lines out (call before the process exits). */
  flush(): Promise<void> {
    this.#writePending();
    const destination = this.#destination;
    return new Promise((resolve, reject) => {
      if (!destination.flush) resolve();
      else destination.flush((error) => (error ? reject(error) : resolve()));
    });
  }
}

/** stdout, written on the thread pool. */
function stdoutDestination(onError: ((error: Error) => void) | undefined): AccessLogDestination {
  return new FdWriter({ fd: 1, maxPendingBytes: DEFAULT_BUFFER_LIMIT_BYTES, onError });
}

/** Lines in a chunk of whole lines. */
function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
  return lines;
}

function sampled(percent: number, random: () => number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return random() * 100 < percent;
}
