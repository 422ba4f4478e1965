// The HTTP/2 response writer's interim responses: which it hands to the stream, which it drops,
// and that a 1xx the stream refuses never costs the client its final response.
import { H2Error } from '@trellis/sidecar-h2';
import type { H2ServerStream, H2ServerStreamHandler } from '@trellis/sidecar-h2';
import { describe, expect, it } from 'vitest';
import { h2Exchange } from './downstream-h2.js';

const LINK = ['link', '</style.css>; rel=preload; as=style'];

/** The members of a server stream the exchange touches, recording what it is asked to send. */
class FakeStream {
  readonly calls: string[] = [];
  readonly method = 'GET';
  readonly authority = 'web';
  readonly path = '/';
  readonly headers: string[] = [];
  readonly remoteAddress = '127.0.0.1';
  readonly hasBody = false;
  headSent = false;
  finished = false;
  responseEnded = false;
  /** Makes informational() throw as the real stream does for a field HTTP/2 cannot carry. */
  refuseInterim = false;

  setHandler(_handler: H2ServerStreamHandler): void {}

  informational(status: number, headers: readonly string[]): void {
    if (this.refuseInterim) throw new H2Error('TRL_H2_INVALID_HEADER', 'invalid header');
    this.calls.push(`interim ${status} ${headers.join(' ')}`);
  }

  respond(status: number, _headers: readonly string[], endStream = false): void {
    this.headSent = true;
    this.finished = endStream;
    this.calls.push(`head ${status}${endStream ? ' end' : ''}`);
  }

  reset(code: number): void {
    this.finished = true;
    this.calls.push(`reset ${code}`);
  }
}

function setup() {
  const stream = new FakeStream();
  // The fake has only what the exchange uses; the rest of the stream's face is never read.
  const exchange = h2Exchange(stream as unknown as H2ServerStream);
  return { stream, response: exchange.response };
}

describe('H2 response writer: informational()', () => {
  it('hands a 103 to the stream ahead of the head', () => {
    const { stream, response } = setup();
    response.informational(103, LINK);
    response.head(200, [], true, false);
    expect(stream.calls).toEqual([`interim 103 ${LINK.join(' ')}`, 'head 200 end']);
  });

  it.each([
    ['100 (each side handles Expect itself)', 100],
    ['101 (no upgrades in HTTP/2)', 101],
    ['a final status', 200],
  ])('drops %s', (_name, status) => {
    const { stream, response } = setup();
    response.informational(status, LINK);
    expect(stream.calls).toEqual([]);
  });

  it('drops anything once the head was sent', () => {
    const { stream, response } = setup();
    response.head(200, [], false, false);
    response.informational(103, LINK);
    expect(stream.calls).toEqual(['head 200']);
  });

  it('drops anything once the stream is finished (reset, or refused by the listener)', () => {
    const { stream, response } = setup();
    response.abort();
    response.informational(103, LINK);
    expect(stream.calls).toEqual(['reset 2']);
  });

  it('drops a 1xx the stream refuses, without resetting: the final response still goes', () => {
    const { stream, response } = setup();
    stream.refuseInterim = true;
    response.informational(103, ['connection', 'close']);
    response.head(200, [], true, false);
    expect(stream.calls).toEqual(['head 200 end']);
  });
});
