import { describe, expect, it } from 'vitest';
import { H1Server } from './server.js';

const onExchange = () => undefined;

describe('H1Server options', () => {
  it.each([
    ['maxHeaderBytes', { maxHeaderBytes: 0 }],
    ['maxHeaderCount', { maxHeaderCount: 1.5 }],
    ['headersTimeoutMs', { headersTimeoutMs: -1 }],
    ['idleTimeoutMs', { idleTimeoutMs: Number.POSITIVE_INFINITY }],
    ['lingerMs', { lingerMs: 0 }],
  ])('rejects a bad %s', (name, bad) => {
    expect(() => new H1Server({ onExchange, ...bad })).toThrow(
      expect.objectContaining({
        code: 'TRL_H1S_INVALID_OPTIONS',
        message: expect.stringContaining(name),
      }),
    );
  });

  it('requires onExchange', () => {
    expect(() => new H1Server({} as never)).toThrow(
      expect.objectContaining({ code: 'TRL_H1S_INVALID_OPTIONS' }),
    );
  });

  it('starts with no connections and not draining', () => {
    const server = new H1Server({ onExchange, headersTimeoutMs: 0, idleTimeoutMs: 0 });
    expect([server.connections, server.draining, server.closeIdle()]).toEqual([0, false, 0]);
  });
});
