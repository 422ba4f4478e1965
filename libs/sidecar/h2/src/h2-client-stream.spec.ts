import { describe, expect, it } from 'vitest';
import { H2Error } from './errors.js';
import { ClientStream } from './h2-client-stream.js';
import type { StreamHost } from './h2-client-stream.js';

class FakeHost implements StreamHost {
  flushes = 0;
  resets: number[] = [];
  credited: number[] = [];
  flushStream(): void {
    this.flushes++;
  }
  resetStream(_s: ClientStream, code: number): void {
    this.resets.push(code);
  }
  consumed(_s: ClientStream, bytes: number): void {
    this.credited.push(bytes);
  }
}

function setup(highWaterMark = 10): { stream: ClientStream; host: FakeHost; events: string[] } {
  const events: string[] = [];
  const stream = new ClientStream(
    ['x', '1'],
    {
      onData: (c) => events.push(`data:${c.toString()}`),
      onTrailers: (t) => events.push(`trailers:${t.join('=')}`),
      onEnd: () => events.push('end'),
      onError: (e) => events.push(`error:${e.code}`),
      onDrain: () => events.push('drain'),
    },
    highWaterMark,
    false,
  );
  const host = new FakeHost();
  stream.host = host;
  return { stream, host, events };
}

describe('ClientStream', () => {
  it('queues writes and reports the high-water mark', () => {
    const { stream, host } = setup(10);
    expect(stream.write(Buffer.alloc(6))).toBe(true);
    expect(stream.write(Buffer.alloc(4))).toBe(false);
    expect(stream.writableLength).toBe(10);
    expect(host.flushes).toBe(2);
  });

  it('ignores empty writes', () => {
    const { stream, host } = setup();
    expect(stream.write(Buffer.alloc(0))).toBe(true);
    expect(host.flushes).toBe(0);
  });

  it('throws on write after end', () => {
    const { stream } = setup();
    stream.end();
    expect(() => stream.write(Buffer.from('x'))).toThrow(H2Error);
  });

  it('validates trailers given to end()', () => {
    const { stream } = setup();
    expect(() => stream.end([[':status', '200']])).toThrow(/pseudo-header/);
    stream.end([['grpc-status', '0']]);
    expect(stream.trailers).toEqual(['grpc-status', '0']);
  });

  it('signals drain once after write() returned false', () => {
    const { stream, events } = setup(1);
    stream.write(Buffer.from('ab'));
    stream.drained();
    stream.drained();
    expect(events).toEqual(['drain']);
  });

  it('holds data, trailers and end while paused and replays them in order on resume', () => {
    const { stream, host, events } = setup();
    stream.deliverData(Buffer.from('a'));
    stream.pause();
    expect(stream.deliverData(Buffer.from('b'))).toBe(false);
    stream.deliverData(Buffer.from('c'));
    stream.deliverTrailers(['t', '1']);
    stream.deliverEnd();
    expect(events).toEqual(['data:a']);
    stream.resume();
    expect(events).toEqual(['data:a', 'data:b', 'data:c', 'trailers:t=1', 'end']);
    expect(host.credited).toEqual([1, 1, 0]);
  });

  it('stops replaying when the handler pauses again mid-replay', () => {
    const events: string[] = [];
    const stream = new ClientStream(
      [],
      { onData: (c) => events.push(c.toString()), onEnd: () => events.push('end') },
      10,
      false,
    );
    stream.pause();
    stream.deliverData(Buffer.from('1'));
    stream.deliverData(Buffer.from('2'));
    stream.deliverEnd();
    stream.setHandler({
      onData: (c) => {
        events.push(c.toString());
        stream.pause();
      },
      onEnd: () => events.push('end'),
    });
    stream.resume();
    expect(events).toEqual(['1']);
    stream.resume();
    expect(events).toEqual(['1', '2']);
    stream.resume();
    expect(events).toEqual(['1', '2', 'end']);
  });

  it('reset() tells the host once and silences every later event', () => {
    const { stream, host, events } = setup();
    stream.pause();
    stream.deliverData(Buffer.from('held'));
    stream.reset(0x8);
    stream.reset(0x2);
    stream.resume();
    stream.deliverData(Buffer.from('late'));
    stream.deliverEnd();
    stream.fail(new H2Error('TRL_H2_STREAM_RESET', 'x'));
    expect(host.resets).toEqual([0x8]);
    expect(events).toEqual([]);
    expect(stream.write(Buffer.from('dropped'))).toBe(true);
    expect(stream.writableLength).toBe(0);
  });

  it('fail() reports one error and drops held data', () => {
    const { stream, events } = setup();
    stream.pause();
    stream.deliverData(Buffer.from('held'));
    stream.fail(new H2Error('TRL_H2_CONNECTION_CLOSED', 'gone'));
    stream.fail(new H2Error('TRL_H2_CONNECTION_CLOSED', 'again'));
    stream.resume();
    expect(events).toEqual(['error:TRL_H2_CONNECTION_CLOSED']);
    expect(stream.isTerminated).toBe(true);
  });
});
