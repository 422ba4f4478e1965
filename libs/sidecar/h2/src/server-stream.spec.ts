import { describe, expect, it } from 'vitest';
import type { H2Error } from './errors.js';
import { ServerStream } from './server-stream.js';
import type { ServerStreamHost } from './server-stream.js';

class FakeSession implements ServerStreamHost {
  readonly calls: string[] = [];
  sendHead(_s: ServerStream, fields: readonly string[], endStream: boolean): void {
    this.calls.push(`head ${fields.join(' ')}${endStream ? ' end' : ''}`);
  }
  flushStream(s: ServerStream): void {
    this.calls.push(`flush ${s.outBytes}${s.localEnd ? ' end' : ''}`);
  }
  resetStream(_s: ServerStream, code: number): void {
    this.calls.push(`reset ${code}`);
  }
  consumed(_s: ServerStream, bytes: number): void {
    this.calls.push(`consumed ${bytes}`);
  }
}

function setup(): { stream: ServerStream; session: FakeSession; events: string[] } {
  const session = new FakeSession();
  const stream = new ServerStream(
    session,
    {
      method: 'POST',
      scheme: 'http',
      authority: 'svc',
      path: '/p',
      headers: ['x-a', '1'],
      contentLength: -1,
    },
    true,
    '127.0.0.1',
    8,
  );
  stream.host = session;
  const events: string[] = [];
  stream.setHandler({
    onData: (c) => events.push(`data ${c.toString()}`),
    onTrailers: (t) => events.push(`trailers ${t.join(' ')}`),
    onEnd: () => events.push('end'),
    onError: (e: H2Error) => events.push(`error ${e.code}`),
    onDrain: () => events.push('drain'),
  });
  return { stream, session, events };
}

describe('ServerStream', () => {
  it('starts paused: body, trailers and end wait for resume()', () => {
    const { stream, events } = setup();
    expect(stream.isPaused).toBe(true);
    expect(stream.deliverData(Buffer.from('a'))).toBe(false);
    stream.deliverTrailers(['x', 'y']);
    stream.deliverEnd();
    expect(events).toEqual([]);
    stream.resume();
    expect(events).toEqual(['data a', 'trailers x y', 'end']);
  });

  it('respond() sends :status first and checks the fields', () => {
    const { stream, session } = setup();
    stream.respond(204, ['x-b', '2'], true);
    expect(session.calls).toEqual(['head :status 204 x-b 2 end']);
    expect(stream.headSent).toBe(true);
    expect(() => stream.respond(200, [])).toThrow(/already sent/);
  });

  it.each([
    ['an upper-case name', 200, ['X-B', '1']],
    ['a connection-specific field', 200, ['connection', 'close']],
    ['a CR in a value', 200, ['x', 'a\rb']],
    ['an informational status', 100, []],
    ['an odd list', 200, ['x']],
  ])('respond() refuses %s', (_name, status, headers) => {
    const { stream, session } = setup();
    expect(() => stream.respond(status as number, headers as string[])).toThrow(
      expect.objectContaining({ code: 'TRL_H2_INVALID_HEADER' }),
    );
    expect(session.calls).toEqual([]);
  });

  it('informational() sends a 1xx HEADERS without END_STREAM; the head still follows', () => {
    const { stream, session } = setup();
    stream.informational(103, ['link', '</a.css>; rel=preload']);
    stream.informational(102, []);
    expect(stream.headSent).toBe(false);
    stream.respond(200, ['x-b', '2']);
    expect(session.calls).toEqual([
      'head :status 103 link </a.css>; rel=preload',
      'head :status 102',
      'head :status 200 x-b 2',
    ]);
    expect(() => stream.informational(103, [])).toThrow(
      expect.objectContaining({ code: 'TRL_H2_INVALID_STATE' }),
    );
  });

  it.each([
    ['101 (no upgrades in HTTP/2)', 101, []],
    ['a final status', 200, []],
    ['a status below 100', 99, []],
    ['a connection-specific field', 103, ['connection', 'close']],
    ['a CR in a value', 103, ['link', 'a\rb']],
  ])('informational() refuses %s', (_name, status, headers) => {
    const { stream, session } = setup();
    expect(() => stream.informational(status as number, headers as string[])).toThrow(
      expect.objectContaining({ code: 'TRL_H2_INVALID_HEADER' }),
    );
    expect(session.calls).toEqual([]);
  });

  it('informational() on a reset stream sends nothing', () => {
    const { stream, session } = setup();
    stream.reset(8);
    stream.informational(103, []);
    expect(session.calls).toEqual(['reset 8']);
  });

  it('write() and end() need the head first', () => {
    const { stream } = setup();
    expect(() => stream.write(Buffer.from('x'))).toThrow(/before respond/);
    expect(() => stream.end()).toThrow(/before respond/);
  });

  it('write() queues and returns false at the high-water mark; end() takes trailers', () => {
    const { stream, session } = setup();
    stream.respond(200, []);
    expect(stream.write(Buffer.from('1234'))).toBe(true);
    expect(stream.write(Buffer.from('5678'))).toBe(false);
    stream.end(['grpc-status', '0']);
    expect(session.calls.slice(1)).toEqual(['flush 4', 'flush 8', 'flush 8 end']);
    expect(stream.trailers).toEqual(['grpc-status', '0']);
    expect(() => stream.write(Buffer.from('x'))).toThrow(/after end/);
  });

  it('reset() tells the session once and silences the stream', () => {
    const { stream, session, events } = setup();
    stream.reset(8);
    stream.reset(8);
    stream.fail({ code: 'TRL_H2_STREAM_RESET' } as H2Error);
    expect(session.calls).toEqual(['reset 8']);
    expect(events).toEqual([]);
    expect(stream.finished).toBe(true);
  });
});
