import { describe, expect, it } from 'vitest';
import type { H2Error } from './errors.js';
import { receivedRequest } from './server-headers.js';

const GET = [':method', 'GET', ':scheme', 'http', ':authority', 'svc', ':path', '/a?b'];

function refusal(fields: string[], endStream = true): string {
  try {
    receivedRequest(fields, endStream);
  } catch (err) {
    return `${(err as H2Error).code}: ${(err as Error).message}`;
  }
  throw new Error('accepted');
}

describe('receivedRequest', () => {
  it('resolves the pseudo-headers and strips them from the list in place', () => {
    const fields = [...GET, 'accept', '*/*', 'x-a', '1'];
    const request = receivedRequest(fields, true);
    expect(request).toMatchObject({
      method: 'GET',
      scheme: 'http',
      authority: 'svc',
      path: '/a?b',
    });
    expect(request.headers).toBe(fields);
    expect(fields).toEqual(['accept', '*/*', 'x-a', '1']);
    expect(request.contentLength).toBe(-1);
  });

  it('falls back to Host without :authority', () => {
    const request = receivedRequest(
      [':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'h'],
      true,
    );
    expect(request.authority).toBe('h');
  });

  it('reads content-length, and accepts repeats of the same value', () => {
    const fields = [...GET, 'content-length', '5', 'content-length', '5'];
    expect(receivedRequest(fields, false).contentLength).toBe(5);
  });

  it.each([
    ['conflicting content-length', [...GET, 'content-length', '5', 'content-length', '6'], false],
    ['a non-numeric content-length', [...GET, 'content-length', '5x'], false],
    ['content-length on a request without body', [...GET, 'content-length', '3'], true],
    ['an upper-case name', [...GET, 'Accept', 'x'], true],
    ['a connection-specific field', [...GET, 'keep-alive', '1'], true],
    ['te: gzip', [...GET, 'te', 'gzip'], true],
    ['a NUL in a value', [...GET, 'x', 'a\0b'], true],
    ['an unknown pseudo-header', [...GET, ':protocol', 'websocket'], true],
    ['CONNECT with a :path', [':method', 'CONNECT', ':authority', 'a:1', ':path', '/'], true],
  ])('refuses %s', (_name, fields, endStream) => {
    expect(refusal(fields as string[], endStream as boolean)).toMatch(/^TRL_H2_INVALID_HEADER/);
  });

  it('accepts CONNECT with :authority only', () => {
    expect(receivedRequest([':method', 'CONNECT', ':authority', 'a:443'], true).authority).toBe(
      'a:443',
    );
  });
});
