// UpstreamBody: holding chunks that arrive before the body is piped, and when that pauses the
// upstream.
import { describe, expect, it } from 'vitest';
import { UpstreamBody } from './response.js';
import type { BodyOutcome } from './response.js';
import type { UpstreamCall } from './upstream.js';
import { fakeExchange } from './testing.js';

function recordingCall() {
  const events: string[] = [];
  const call: UpstreamCall = {
    write: () => true,
    onDrain: () => undefined,
    end: () => undefined,
    abort: () => events.push('abort'),
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
  };
  return { call, events };
}

describe('UpstreamBody', () => {
  it('holds a small body that arrives before pipe without pausing the upstream', async () => {
    const { call, events } = recordingCall();
    const body = new UpstreamBody();
    body.bind(call);
    body.push(Buffer.alloc(1024, 'a'));
    body.end(undefined);
    expect(events).toEqual([]);
    const client = fakeExchange({ authority: 'x' });
    client.exchange.response.head(200, [], false, false);
    let done: [BodyOutcome, number] | undefined;
    body.pipe(client.exchange.response, (outcome, bytes) => (done = [outcome, bytes]));
    expect((await client.finished).body).toBe('a'.repeat(1024));
    expect(done).toEqual(['complete', 1024]);
    expect(events).toEqual([]);
  });

  it('pauses the upstream once more than 64 KiB wait for pipe, and resumes it at pipe', () => {
    const { call, events } = recordingCall();
    const body = new UpstreamBody();
    body.bind(call);
    body.push(Buffer.alloc(64 * 1024));
    expect(events).toEqual([]);
    body.push(Buffer.alloc(1));
    expect(events).toEqual(['pause']);
    const client = fakeExchange({ authority: 'x' });
    client.exchange.response.head(200, [], false, false);
    body.pipe(client.exchange.response, () => undefined);
    expect(events).toEqual(['pause', 'resume']);
  });
});
