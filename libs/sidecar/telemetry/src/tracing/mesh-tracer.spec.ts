import type { ProxyRequest } from '@trellis/sidecar-proxy';
import { describe, expect, it } from 'vitest';
import { MeshTracer } from './mesh-tracer.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** A request with just what the tracer reads before the stack runs. */
function requestWith(headers: string[]): ProxyRequest {
  return {
    headers,
    exchange: { method: 'GET', target: '/', authority: 'web', protocol: 'http/1.1' },
  } as unknown as ProxyRequest;
}

/** The headers the first attempt of a request with `incoming` headers is sent with. */
function forwarded(tracer: MeshTracer, incoming: string[] = []): string[] {
  const request = requestWith(incoming);
  const headers = incoming.slice();
  tracer.startRequest(request, 'gateway').startAttempt(request, headers);
  return headers;
}

describe('MeshTracer sampling (no exporter: propagation only)', () => {
  it('samples a new trace when the draw falls under samplingPercent', async () => {
    const tracer = await MeshTracer.create({
      serviceName: 'web',
      random: () => 0.49,
      settings: { samplingPercent: 50, propagation: ['w3c'] },
    });
    expect(forwarded(tracer)[1]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('does not sample a new trace when the draw is at or over samplingPercent', async () => {
    const tracer = await MeshTracer.create({
      serviceName: 'web',
      random: () => 0.5,
      settings: { samplingPercent: 50, propagation: ['w3c'] },
    });
    expect(forwarded(tracer)[1]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('follows the caller decision whatever the ratio (parent-based)', async () => {
    const tracer = await MeshTracer.create({
      serviceName: 'web',
      random: () => 0.99,
      settings: { samplingPercent: 0, propagation: ['b3'] },
    });
    expect(forwarded(tracer, ['traceparent', `00-${TRACE}-${SPAN}-01`])).toEqual([
      'b3',
      `${TRACE}-${SPAN}-1`,
    ]);
  });

  it('lets the ratio decide a deferred B3 decision, keeping the trace id', async () => {
    const tracer = await MeshTracer.create({
      serviceName: 'web',
      random: () => 0,
      settings: { samplingPercent: 10, propagation: ['w3c'] },
    });
    expect(forwarded(tracer, ['b3', `${TRACE}-${SPAN}`])).toEqual([
      'traceparent',
      `00-${TRACE}-${SPAN}-01`,
    ]);
  });

  it('applies new settings from configure to later requests', async () => {
    const tracer = await MeshTracer.create({ serviceName: 'web', random: () => 0.5 });
    expect(tracer.settings).toEqual({ samplingPercent: 1, propagation: ['w3c'] });
    tracer.configure({ samplingPercent: 100, propagation: ['b3-multi'] });
    const headers = forwarded(tracer);
    expect(headers.filter((_, i) => i % 2 === 0)).toEqual([
      'x-b3-traceid',
      'x-b3-spanid',
      'x-b3-sampled',
    ]);
    expect(headers[5]).toBe('1');
  });

  it('returns to the defaults when the Telemetry resource goes away', async () => {
    const tracer = await MeshTracer.create({
      serviceName: 'web',
      random: () => 0.5,
      settings: { samplingPercent: 100, propagation: ['b3'] },
    });
    tracer.configure(undefined);
    expect(tracer.settings).toEqual({ samplingPercent: 1, propagation: ['w3c'] });
  });

  it('keeps one trace id across the attempts of a request', async () => {
    const tracer = await MeshTracer.create({ serviceName: 'web', random: () => 0.99 });
    const request = requestWith([]);
    const trace = tracer.startRequest(request, 'outbound');
    const first: string[] = [];
    const second: string[] = [];
    trace.startAttempt(request, first);
    trace.startAttempt(request, second);
    expect(second).toEqual(first);
  });

  it('names the trace it propagates: the incoming one, or the one it started', async () => {
    const tracer = await MeshTracer.create({ serviceName: 'web', random: () => 0.99 });
    const joined = tracer.startRequest(requestWith(['traceparent', `00-${TRACE}-${SPAN}-01`]), 'x');
    expect(joined.traceId).toBe(TRACE);
    const request = requestWith([]);
    const started = tracer.startRequest(request, 'outbound');
    const headers: string[] = [];
    started.startAttempt(request, headers);
    expect(headers[1]).toBe(`00-${started.traceId}-${headers[1]!.slice(36, 52)}-00`);
    expect(started.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
