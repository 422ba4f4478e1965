// AccessLog: the exact JSON line, flags, text templates, sampling and settings swaps.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@trellis/time';
import { AccessLog } from './access-log.js';
import { accessLogEntry } from './access-log-entry.js';
import type { AccessLogDestination, AccessLogOptions } from './access-log.js';
import { AccessLogFormatError } from './access-log-format.js';
import { FdWriter } from './fd-writer.js';
import { completedRequest } from './testing.js';
import type { CompletedInit } from './testing.js';

/** 2026-01-02T03:04:05.678Z */
const FINISHED_AT = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function setup(options: Omit<AccessLogOptions, 'destination'> = {}) {
  const lines: string[] = [];
  const destination: AccessLogDestination = {
    write: (chunk: Buffer) => void lines.push(chunk.toString()),
  };
  const log = new AccessLog({
    destination,
    wallNow: () => FINISHED_AT,
    batchBytes: 0,
    ...options,
  });
  return { log, lines };
}

function jsonLine(init: CompletedInit, direction = 'outbound'): Record<string, unknown> {
  const { log, lines } = setup();
  log.log(completedRequest(init), direction);
  expect(lines).toHaveLength(1);
  expect(lines[0]!.endsWith('\n')).toBe(true);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('JSON lines', () => {
  it('writes one JSON object per request with exactly the access-log fields, in order', () => {
    const line = jsonLine({
      method: 'POST',
      authority: 'catalog:8080',
      target: '/items?x=1',
      protocol: 'h2',
      headers: ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      requestId: 'req-42',
      status: 503,
      grpcStatus: '14',
      durationMs: 12.3456789,
      bytesIn: 9,
      bytesOut: 17,
      record: { attempts: 3, retryReasons: ['5xx', 'reset'], error: 'upstream-reset' },
    });
    expect(Object.keys(line)).toEqual([
      'time',
      'request_id',
      'direction',
      'trace_id',
      'method',
      'authority',
      'path',
      'protocol',
      'status',
      'grpc_status',
      'duration_ms',
      'upstream',
      'route',
      'destination',
      'attempts',
      'retry_reasons',
      'bytes_in',
      'bytes_out',
      'retried',
      'timed_out',
      'breaker',
      'rate_limited',
      'fault_injected',
      'client_aborted',
      'error',
    ]);
    expect(line).toEqual({
      time: '2026-01-02T03:04:05.666Z',
      request_id: 'req-42',
      direction: 'outbound',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      method: 'POST',
      authority: 'catalog:8080',
      path: '/items?x=1',
      protocol: 'h2',
      status: 503,
      grpc_status: '14',
      duration_ms: 12.346,
      upstream: '10.0.0.1:8080',
      route: 'route/catalog.shop',
      destination: 'catalog.shop:8080',
      attempts: 3,
      retry_reasons: ['5xx', 'reset'],
      bytes_in: 9,
      bytes_out: 17,
      retried: true,
      timed_out: false,
      breaker: false,
      rate_limited: false,
      fault_injected: false,
      client_aborted: false,
      error: 'upstream-reset',
    });
  });

  it('names the trace the sidecar started for a request that came without one', () => {
    const line = jsonLine({ traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(line.trace_id).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it("reads an untraced request's trace id as the tracer would: B3 64-bit ids widened", () => {
    const line = jsonLine({
      headers: ['x-b3-traceid', 'A3CE929D0E0E4736', 'x-b3-spanid', '00f067aa0ba902b7'],
    });
    expect(line.trace_id).toBe('0000000000000000a3ce929d0e0e4736');
    // A trace id without its span id is malformed B3: no trace, so no trace_id.
    expect('trace_id' in jsonLine({ headers: ['x-b3-traceid', 'a3ce929d0e0e4736'] })).toBe(false);
  });

  it('omits trace_id without trace headers and writes null for unknown values', () => {
    const line = jsonLine({
      record: { route: undefined, destination: undefined, endpoint: undefined, attempts: 0 },
      status: 404,
    });
    expect('trace_id' in line).toBe(false);
    expect(line).toMatchObject({
      grpc_status: null,
      upstream: null,
      route: null,
      destination: null,
      error: null,
      attempts: 0,
      retried: false,
    });
  });

  it.each(['request-timeout', 'per-try-timeout', 'grpc-deadline-exceeded'])(
    'flags %s as timed_out',
    (error) => {
      expect(jsonLine({ status: 504, record: { error } })).toMatchObject({
        timed_out: true,
        breaker: false,
        error,
      });
    },
  );

  it.each(['overloaded', 'circuit-open'])('flags %s as breaker', (error) => {
    expect(jsonLine({ status: 503, record: { error } })).toMatchObject({
      breaker: true,
      timed_out: false,
    });
  });

  it('flags rate limiting, injected faults and client aborts', () => {
    expect(jsonLine({ status: 429, record: { error: 'rate-limited' } })).toMatchObject({
      rate_limited: true,
    });
    expect(jsonLine({ record: { faultInjected: true } })).toMatchObject({ fault_injected: true });
    expect(jsonLine({ outcome: 'client-gone' })).toMatchObject({ client_aborted: true });
  });
});

describe('text format', () => {
  it('fills an Envoy-style template', () => {
    const { log, lines } = setup();
    log.configure({
      enabled: true,
      samplingPercent: 100,
      format: '%START_TIME% "%METHOD% %PATH% %PROTOCOL%" %STATUS% %DURATION_MS% %UPSTREAM%',
    });
    log.log(completedRequest({ durationMs: 12 }), 'outbound');
    expect(lines).toEqual([
      '2026-01-02T03:04:05.666Z "GET /items?x=1 http/1.1" 200 12 10.0.0.1:8080\n',
    ]);
  });

  it('writes - for missing values and joins retry reasons with commas', () => {
    const { log, lines } = setup();
    log.configure({
      enabled: true,
      samplingPercent: 100,
      format: '%TRACE_ID% %GRPC_STATUS% %ERROR% %RETRY_REASONS% %ROUTE%',
    });
    log.log(completedRequest({ record: { route: undefined } }), 'outbound');
    log.log(completedRequest({ record: { retryReasons: ['5xx', 'reset'] } }), 'outbound');
    expect(lines).toEqual(['- - - - -\n', '- - - 5xx,reset route/catalog.shop\n']);
  });

  it('supports every field in upper snake case', () => {
    const { log, lines } = setup();
    log.configure({
      enabled: true,
      samplingPercent: 100,
      format:
        '%TIME%|%REQUEST_ID%|%DIRECTION%|%AUTHORITY%|%ATTEMPTS%|%BYTES_IN%|%BYTES_OUT%|%DESTINATION%|%RETRIED%|%TIMED_OUT%|%BREAKER%|%RATE_LIMITED%|%FAULT_INJECTED%|%CLIENT_ABORTED%',
    });
    log.log(completedRequest({ bytesIn: 3, record: { attempts: 2 } }), 'inbound');
    expect(lines).toEqual([
      '2026-01-02T03:04:05.666Z|req-1|inbound|catalog:8080|2|3|5|catalog.shop:8080|true|false|false|false|false|false\n',
    ]);
  });

  it('keeps %% as a percent sign, a lone % and template tabs as written', () => {
    const { log, lines } = setup();
    log.configure({ enabled: true, samplingPercent: 100, format: '100%% %STATUS%\t50% done' });
    log.log(completedRequest(), 'outbound');
    expect(lines).toEqual(['100% 200\t50% done\n']);
  });

  it('escapes control characters in values so a request stays one line', () => {
    const { log, lines } = setup();
    log.configure({ enabled: true, samplingPercent: 100, format: '%PATH%' });
    log.log(completedRequest({ target: '/a\nb\tc' }), 'outbound');
    expect(lines).toEqual(['/a\\x0ab\\x09c\n']);
  });

  it('rejects an unknown field with TRL_ACCESS_LOG_FORMAT and keeps the old settings', () => {
    const { log, lines } = setup();
    log.configure({ enabled: true, samplingPercent: 100, format: '%STATUS%' });
    let thrown: unknown;
    try {
      log.configure({ enabled: true, samplingPercent: 100, format: '%STATUS% %BOGUS%' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AccessLogFormatError);
    expect((thrown as AccessLogFormatError).code).toBe('TRL_ACCESS_LOG_FORMAT');
    log.log(completedRequest(), 'outbound');
    expect(lines).toEqual(['200\n']);
  });
});

describe('settings', () => {
  function randoms(values: number[]) {
    let calls = 0;
    return {
      random: () => {
        calls++;
        return values.shift() ?? 0;
      },
      calls: () => calls,
    };
  }

  it('logs nothing at 0 percent, without drawing random numbers', () => {
    const r = randoms([0]);
    const { log, lines } = setup({ random: r.random });
    log.configure({ enabled: true, samplingPercent: 0 });
    for (let i = 0; i < 5; i++) log.log(completedRequest(), 'outbound');
    expect(lines).toEqual([]);
    expect(r.calls()).toBe(0);
  });

  it('logs every request at 100 percent, without drawing random numbers', () => {
    const r = randoms([0.999]);
    const { log, lines } = setup({ random: r.random });
    log.configure({ enabled: true, samplingPercent: 100 });
    for (let i = 0; i < 5; i++) log.log(completedRequest(), 'outbound');
    expect(lines).toHaveLength(5);
    expect(r.calls()).toBe(0);
  });

  it('logs a request at 50 percent when the draw is below one half', () => {
    const r = randoms([0.2, 0.5, 0.4999, 0.99]);
    const { log, lines } = setup({ random: r.random });
    log.configure({ enabled: true, samplingPercent: 50 });
    for (const id of ['a', 'b', 'c', 'd']) log.log(completedRequest({ requestId: id }), 'outbound');
    expect(lines.map((l) => (JSON.parse(l) as { request_id: string }).request_id)).toEqual([
      'a',
      'c',
    ]);
  });

  it('logs nothing when disabled, whatever the sampling', () => {
    const { log, lines } = setup();
    log.configure({ enabled: false, samplingPercent: 100 });
    log.log(completedRequest(), 'outbound');
    expect(lines).toEqual([]);
  });

  it('returns to JSON for every request when the Telemetry resource goes away', () => {
    const { log, lines } = setup();
    log.configure({ enabled: true, samplingPercent: 100, format: '%STATUS%' });
    log.configure(undefined);
    log.log(completedRequest(), 'outbound');
    expect(JSON.parse(lines[0]!)).toMatchObject({ status: 200, request_id: 'req-1' });
  });

  it('holds lines until the batch is full', () => {
    const clock = new FakeClock();
    const line = `${JSON.stringify(accessLogEntry(completedRequest(), 'outbound', FINISHED_AT))}\n`;
    const { log, lines } = setup({ clock, batchBytes: line.length * 3 });
    log.log(completedRequest(), 'outbound');
    log.log(completedRequest(), 'outbound');
    expect(lines).toEqual([]);
    log.log(completedRequest(), 'outbound');
    expect(lines).toEqual([line.repeat(3)]);
  });

  it('writes whole lines, multi-byte characters intact, across many batches', () => {
    const { log, lines } = setup({ clock: new FakeClock(), batchBytes: 1000 });
    const paths = Array.from({ length: 300 }, (_, i) => `/é€😀/${i}/${'x'.repeat(i % 97)}`);
    for (const target of paths) log.log(completedRequest({ target }), 'outbound');
    void log.flush();
    expect(lines.length).toBeGreaterThan(10);
    for (const chunk of lines) expect(chunk.endsWith('\n')).toBe(true);
    const written = lines.join('').split('\n').slice(0, -1);
    expect(written.map((line) => (JSON.parse(line) as { path: string }).path)).toEqual(paths);
  });

  it('writes a line longer than the buffer on its own, in order', () => {
    const { log, lines } = setup({ clock: new FakeClock(), batchBytes: 100 });
    const long = `/${'ü'.repeat(40_000)}`;
    for (const target of ['/a', long, '/b']) log.log(completedRequest({ target }), 'outbound');
    void log.flush();
    const written = lines.join('').split('\n').slice(0, -1);
    expect(written.map((line) => (JSON.parse(line) as { path: string }).path)).toEqual([
      '/a',
      long,
      '/b',
    ]);
  });

  it('writes held lines one interval after the first of them', () => {
    const clock = new FakeClock();
    const { log, lines } = setup({ clock, batchBytes: 1 << 20, flushIntervalMs: 1000 });
    log.log(completedRequest(), 'outbound');
    clock.advance(600);
    log.log(completedRequest(), 'outbound');
    clock.advance(399);
    expect(lines).toEqual([]);
    clock.advance(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split('\n')).toHaveLength(3);
    clock.advance(5000);
    expect(lines).toHaveLength(1);
  });

  it('writes held lines on flush', async () => {
    const clock = new FakeClock();
    const { log, lines } = setup({ clock, batchBytes: 1 << 20 });
    log.log(completedRequest(), 'outbound');
    await log.flush();
    expect(lines).toHaveLength(1);
    clock.advance(5000);
    expect(lines).toHaveLength(1);
  });

  it('fills a batch buffer again once the destination hands it back', () => {
    const backing: ArrayBuffer[] = [];
    const destination: AccessLogDestination = {
      write: (chunk, done) => {
        backing.push(chunk.buffer as ArrayBuffer);
        done?.(chunk, false);
      },
    };
    const log = new AccessLog({ destination, clock: new FakeClock(), batchBytes: 300 });
    for (let i = 0; i < 12; i++) log.log(completedRequest(), 'outbound');
    expect(backing.length).toBeGreaterThanOrEqual(6);
    // The first buffer, then the second (allocated while the first was out), then those two only.
    expect(new Set(backing).size).toBe(2);
  });

  it('counts the lines of every chunk the destination drops, and only those', () => {
    let written = 0;
    let calls = 0;
    const destination: AccessLogDestination = {
      // Every other chunk is dropped.
      write: (chunk, done) => {
        const dropped = calls++ % 2 === 1;
        if (!dropped) written += chunk.toString().split('\n').length - 1;
        done?.(chunk, dropped);
      },
    };
    const log = new AccessLog({ destination, clock: new FakeClock(), batchBytes: 700 });
    for (let i = 0; i < 40; i++) log.log(completedRequest(), 'outbound');
    void log.flush();
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(log.droppedLines).toBeGreaterThan(0);
    expect(log.droppedLines + written).toBe(40);
  });

  it('counts the lines an FdWriter drops while stdout is stalled', () => {
    // A write that never completes: stdout nobody reads. Only the first batch fits the bound.
    const destination = new FdWriter({ fd: 99, maxPendingBytes: 1000, write: () => undefined });
    const log = new AccessLog({ destination, clock: new FakeClock(), batchBytes: 600 });
    for (let i = 0; i < 30; i++) log.log(completedRequest(), 'outbound');
    void log.flush();
    const sample = setup();
    sample.log.log(completedRequest(), 'outbound');
    const lineBytes = Buffer.byteLength(sample.lines[0]!);
    const firstBatchLines = Math.ceil(600 / lineBytes);
    expect(log.droppedLines).toBe(30 - firstBatchLines);
  });

  it('writes its lines through an FdWriter to a file, whole and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-log-'));
    try {
      const path = join(dir, 'access.log');
      const fd = openSync(path, 'w');
      const destination = new FdWriter({ fd, maxPendingBytes: 1 << 20 });
      const log = new AccessLog({ destination, clock: new FakeClock(), batchBytes: 4096 });
      const targets = Array.from({ length: 500 }, (_, i) => `/items/${i}`);
      for (const target of targets) log.log(completedRequest({ target }), 'outbound');
      await log.flush();
      closeSync(fd);
      const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
      expect(lines.map((line) => (JSON.parse(line) as { path: string }).path)).toEqual(targets);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('flushes a destination without a flush of its own', async () => {
    const { log } = setup();
    await expect(log.flush()).resolves.toBeUndefined();
  });
});
