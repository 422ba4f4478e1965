import { describe, expect, it } from 'vitest';
import { parseB3Multi, parseB3Single } from './b3.js';
import { extractTraceContext, injectTraceContext, removeTraceHeaders } from './trace-headers.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const PARENT = 'b7ad6b7169203331';

describe('extractTraceContext: W3C', () => {
  it('reads traceparent and tracestate', () => {
    expect(
      extractTraceContext(['traceparent', `00-${TRACE}-${SPAN}-01`, 'tracestate', 'vendor=a,x=y']),
    ).toEqual({ ids: { traceId: TRACE, spanId: SPAN, traceState: 'vendor=a,x=y' }, sampled: true });
  });

  it('reads the sampled flag off', () => {
    expect(extractTraceContext(['traceparent', `00-${TRACE}-${SPAN}-00`])).toEqual({
      ids: { traceId: TRACE, spanId: SPAN, traceState: undefined },
      sampled: false,
    });
  });

  it.each([
    ['too short', `00-${TRACE}-${SPAN.slice(1)}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['not hex', `00-${TRACE.replace('4', 'g')}-${SPAN}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version 00 with more fields', `00-${TRACE}-${SPAN}-01-extra`],
  ])('ignores a malformed traceparent (%s)', (_case, value) => {
    expect(extractTraceContext(['traceparent', value])).toBeUndefined();
  });

  it('reads a future version with more fields, and the sampled bit among other flags', () => {
    expect(extractTraceContext(['traceparent', `01-${TRACE}-${SPAN}-03-future`])).toEqual({
      ids: { traceId: TRACE, spanId: SPAN, traceState: undefined },
      sampled: true,
    });
    expect(extractTraceContext(['traceparent', `00-${TRACE}-${SPAN}-02`])?.sampled).toBe(false);
  });

  it('drops invalid tracestate members and keeps the valid ones', () => {
    expect(
      extractTraceContext(['traceparent', `00-${TRACE}-${SPAN}-01`, 'tracestate', 'ok=1,B@D=x'])
        ?.ids?.traceState,
    ).toBe('ok=1');
  });

  it('falls back to B3 when traceparent is malformed', () => {
    expect(extractTraceContext(['traceparent', 'garbage', 'b3', `${TRACE}-${SPAN}-1`])).toEqual({
      ids: { traceId: TRACE, spanId: SPAN, traceState: undefined },
      sampled: true,
    });
  });

  it('prefers traceparent over B3 when both are valid', () => {
    const ids = extractTraceContext([
      'b3',
      `${'a'.repeat(32)}-${PARENT}-1`,
      'traceparent',
      `00-${TRACE}-${SPAN}-01`,
    ])?.ids;
    expect(ids?.traceId).toBe(TRACE);
  });
});

describe('B3 single', () => {
  it('reads trace id, span id, sampling and parent', () => {
    expect(parseB3Single(`${TRACE}-${SPAN}-1-${PARENT}`)).toEqual({
      ids: { traceId: TRACE, spanId: SPAN, traceState: undefined },
      sampled: true,
    });
  });

  it('widens a 64-bit trace id to 128 bits', () => {
    expect(parseB3Single(`a3ce929d0e0e4736-${SPAN}-0`)?.ids?.traceId).toBe(
      '0000000000000000a3ce929d0e0e4736',
    );
  });

  it('treats debug (d) as sampled', () => {
    expect(parseB3Single(`${TRACE}-${SPAN}-d`)?.sampled).toBe(true);
  });

  it('leaves the decision deferred without a sampling state', () => {
    expect(parseB3Single(`${TRACE}-${SPAN}`)?.sampled).toBeUndefined();
  });

  it('reads a decision without ids', () => {
    expect(parseB3Single('0')).toEqual({ ids: undefined, sampled: false });
  });

  it.each([
    ['bad sampling state', `${TRACE}-${SPAN}-x`],
    ['bad parent', `${TRACE}-${SPAN}-1-xyz`],
    ['short span id', `${TRACE}-abc-1`],
    ['too many fields', `${TRACE}-${SPAN}-1-${PARENT}-1`],
    ['bad lone decision', 'yes'],
    ['all-zero trace id', `${'0'.repeat(32)}-${SPAN}-1`],
  ])('ignores a malformed header (%s)', (_case, value) => {
    expect(parseB3Single(value)).toBeUndefined();
  });
});

describe('B3 multi', () => {
  it('reads the x-b3-* headers', () => {
    expect(
      extractTraceContext([
        'x-b3-traceid',
        TRACE.toUpperCase(),
        'x-b3-spanid',
        SPAN,
        'x-b3-parentspanid',
        PARENT,
        'x-b3-sampled',
        '0',
      ]),
    ).toEqual({ ids: { traceId: TRACE, spanId: SPAN, traceState: undefined }, sampled: false });
  });

  it('treats x-b3-flags: 1 (debug) as sampled', () => {
    const parsed = parseB3Multi({ traceId: TRACE, spanId: SPAN, sampled: '0', flags: '1' });
    expect(parsed?.sampled).toBe(true);
  });

  it('accepts the legacy true/false sampled values', () => {
    const parsed = parseB3Multi({
      traceId: TRACE,
      spanId: SPAN,
      sampled: 'true',
      flags: undefined,
    });
    expect(parsed?.sampled).toBe(true);
  });

  it('ignores a trace id without a span id', () => {
    expect(extractTraceContext(['x-b3-traceid', TRACE, 'x-b3-sampled', '1'])).toBeUndefined();
  });

  it('ignores an unknown sampled value', () => {
    expect(
      parseB3Multi({ traceId: TRACE, spanId: SPAN, sampled: 'maybe', flags: undefined }),
    ).toBeUndefined();
  });

  it('reads a decision without ids', () => {
    expect(extractTraceContext(['x-b3-sampled', '1'])).toEqual({ ids: undefined, sampled: true });
  });
});

describe('injectTraceContext', () => {
  const context = { traceId: TRACE, spanId: SPAN, sampled: true, traceState: 'vendor=a' };

  it('replaces incoming trace headers with the new context in every listed format', () => {
    const headers = [
      'host',
      'svc',
      'traceparent',
      `00-${'a'.repeat(32)}-${PARENT}-01`,
      'b3',
      'old',
      'x-b3-traceid',
      'old',
      'x-b3-parentspanid',
      'old',
      'x-b3-flags',
      '1',
    ];
    injectTraceContext(headers, context, ['b3', 'w3c', 'b3-multi']);
    expect(headers).toEqual([
      'host',
      'svc',
      'b3',
      `${TRACE}-${SPAN}-1`,
      'traceparent',
      `00-${TRACE}-${SPAN}-01`,
      'tracestate',
      'vendor=a',
      'x-b3-traceid',
      TRACE,
      'x-b3-spanid',
      SPAN,
      'x-b3-sampled',
      '1',
    ]);
  });

  it('writes the sampled flag off when not sampled', () => {
    const headers: string[] = [];
    injectTraceContext(headers, { ...context, sampled: false, traceState: undefined }, ['w3c']);
    expect(headers).toEqual(['traceparent', `00-${TRACE}-${SPAN}-00`]);
  });

  it.each([['w3c'], ['b3'], ['b3-multi']] as const)('round-trips through %s', (format) => {
    const headers: string[] = [];
    injectTraceContext(headers, { ...context, traceState: undefined }, [format]);
    expect(extractTraceContext(headers)).toEqual({
      ids: { traceId: TRACE, spanId: SPAN, traceState: undefined },
      sampled: true,
    });
  });

  it('removeTraceHeaders keeps every other header in order', () => {
    const headers = ['a', '1', 'tracestate', 'x', 'b', '2', 'x-b3-sampled', '1', 'c', '3'];
    removeTraceHeaders(headers);
    expect(headers).toEqual(['a', '1', 'b', '2', 'c', '3']);
  });
});
