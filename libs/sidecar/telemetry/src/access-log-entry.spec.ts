// accessLogJson is the fast writer of the JSON access line: it must equal JSON.stringify of the
// entry object for any request, whatever its strings hold (quotes, backslashes, control and
// non-ASCII characters) and whatever its numbers are.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accessLogEntry, accessLogJson } from './access-log-entry.js';
import { completedRequest } from './testing.js';

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', 'a"b', 'c\\d'),
);
const optionalText = fc.option(text, { nil: undefined });
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e21, 1e-7));

const completed = fc.record({
  method: text,
  authority: text,
  target: text,
  protocol: fc.constantFrom('http/1.1', 'h2'),
  requestId: text,
  traceparent: fc.option(fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), {
    nil: undefined,
  }),
  traceId: fc.option(fc.constantFrom('4bf92f3577b34da6a3ce929d0e0e4736', 'a"b'), {
    nil: undefined,
  }),
  status: fc.integer({ min: 100, max: 599 }),
  grpcStatus: optionalText,
  outcome: fc.constantFrom('complete', 'client-gone', 'upstream-error'),
  durationMs: fc.oneof(
    fc.double({ min: 0, max: 1e6, noNaN: true }),
    fc.integer({ min: 0, max: 10_000_000 }).map((micros) => micros / 1000),
    fc.constantFrom(0.0005, 0.0015, 1e-7, 9.9995, 1e15),
  ),
  bytesIn: number,
  bytesOut: number,
  route: optionalText,
  destination: optionalText,
  endpoint: optionalText,
  attempts: fc.integer({ min: 0, max: 10 }),
  retryReasons: fc.array(text, { maxLength: 3 }),
  error: fc.option(
    fc.oneof(
      text,
      fc.constantFrom('request-timeout', 'overloaded', 'circuit-open', 'rate-limited'),
    ),
    { nil: undefined },
  ),
  faultInjected: fc.boolean(),
  direction: fc.oneof(text, fc.constantFrom('outbound', 'inbound', 'gateway')),
});

describe('accessLogJson', () => {
  it('writes exactly JSON.stringify(accessLogEntry(…))', () => {
    fc.assert(
      fc.property(completed, fc.integer({ min: 1e12, max: 4e12 }), (c, wallNowMs) => {
        const request = completedRequest({
          method: c.method,
          authority: c.authority,
          target: c.target,
          protocol: c.protocol,
          requestId: c.requestId,
          headers: c.traceparent === undefined ? [] : ['traceparent', c.traceparent],
          traceId: c.traceId,
          status: c.status,
          grpcStatus: c.grpcStatus,
          outcome: c.outcome,
          durationMs: c.durationMs,
          bytesIn: c.bytesIn,
          bytesOut: c.bytesOut,
          record: {
            route: c.route,
            destination: c.destination,
            endpoint: c.endpoint,
            attempts: c.attempts,
            retryReasons: c.retryReasons,
            error: c.error,
            faultInjected: c.faultInjected,
          },
        });
        expect(accessLogJson(request, c.direction, wallNowMs)).toBe(
          JSON.stringify(accessLogEntry(request, c.direction, wallNowMs)),
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('accessLogJson on consecutive lines', () => {
  // Runs of fields repeated from the previous line are copied, not written again: lines drawn
  // from few values repeat some runs and change others, in every combination.
  const few = <T>(...values: T[]) => fc.constantFrom(...values);
  const line = fc.record({
    method: few('GET', 'POST'),
    authority: few('catalog:8080', 'a"b'),
    protocol: few('http/1.1' as const, 'h2' as const),
    status: few(200, 503),
    grpcStatus: few(undefined, '0', '14'),
    endpoint: few(undefined, '10.0.0.1:8080', '10.0.0.2:8080'),
    route: few(undefined, 'route/a.shop'),
    destination: few('a.shop:80', 'b.shop:80'),
    attempts: few(0, 1, 2),
    retryReasons: few<string[]>([], ['5xx']),
    error: few(undefined, 'overloaded'),
    bytesIn: few(0, 12),
    bytesOut: few(5, 1024),
    outcome: few('complete' as const, 'client-gone' as const),
    durationMs: fc.integer({ min: 0, max: 100_000 }).map((micros) => micros / 1000),
  });

  it('writes exactly JSON.stringify(accessLogEntry(…)) for each', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 2, maxLength: 6 }), (lines) => {
        for (const l of lines) {
          const request = completedRequest({
            method: l.method,
            authority: l.authority,
            protocol: l.protocol,
            status: l.status,
            grpcStatus: l.grpcStatus,
            outcome: l.outcome,
            durationMs: l.durationMs,
            bytesIn: l.bytesIn,
            bytesOut: l.bytesOut,
            record: {
              endpoint: l.endpoint,
              route: l.route,
              destination: l.destination,
              attempts: l.attempts,
              retryReasons: l.retryReasons,
              error: l.error,
            },
          });
          expect(accessLogJson(request, 'outbound', 1.7e12)).toBe(
            JSON.stringify(accessLogEntry(request, 'outbound', 1.7e12)),
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it('writes a value that differs from the previous line only in its content', () => {
    // Equal strings that are different objects repeat a run; a changed one does not.
    const first = completedRequest({ authority: ['cat', 'alog:80'].join('') });
    const again = completedRequest({ authority: 'catalog:80' });
    const other = completedRequest({ authority: 'catalog:81' });
    expect(accessLogJson(first, 'outbound', 1.7e12)).toContain('"authority":"catalog:80"');
    expect(accessLogJson(again, 'outbound', 1.7e12)).toContain('"authority":"catalog:80"');
    expect(accessLogJson(other, 'outbound', 1.7e12)).toContain('"authority":"catalog:81"');
  });
});
