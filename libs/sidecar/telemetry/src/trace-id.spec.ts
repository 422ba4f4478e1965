// traceIdOf: which trace-context header wins, and which values are refused.
import { describe, expect, it } from 'vitest';
import { traceIdOf } from './trace-id.js';

const W3C_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${W3C_ID}-00f067aa0ba902b7-01`;

describe('traceIdOf', () => {
  it('reads the trace id of a W3C traceparent', () => {
    expect(traceIdOf(['traceparent', TRACEPARENT])).toBe(W3C_ID);
  });

  it('prefers traceparent over B3 headers', () => {
    expect(
      traceIdOf([
        'b3',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
        'traceparent',
        TRACEPARENT,
      ]),
    ).toBe(W3C_ID);
  });

  it('reads the trace id of a single b3 header', () => {
    expect(traceIdOf(['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1'])).toBe(
      '80f198ee56343ba864fe8b2a57d3eff7',
    );
  });

  it('reads a 64-bit x-b3-traceid, lower-cased', () => {
    expect(traceIdOf(['x-b3-traceid', 'A3CE929D0E0E4736'])).toBe('a3ce929d0e0e4736');
  });

  it('falls back to B3 when the traceparent is malformed', () => {
    expect(traceIdOf(['traceparent', '00-xyz-01', 'x-b3-traceid', 'a3ce929d0e0e4736'])).toBe(
      'a3ce929d0e0e4736',
    );
  });

  it('refuses an all-zero trace id and the forbidden version ff', () => {
    expect(traceIdOf(['traceparent', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`])).toBeUndefined();
    expect(traceIdOf(['traceparent', `ff-${W3C_ID}-00f067aa0ba902b7-01`])).toBeUndefined();
  });

  it('finds nothing in a sampling-only b3 header or without trace headers', () => {
    expect(traceIdOf(['b3', '1'])).toBeUndefined();
    expect(traceIdOf(['accept', '*/*'])).toBeUndefined();
  });
});
