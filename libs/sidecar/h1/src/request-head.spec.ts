import { describe, expect, it } from 'vitest';
import { H1Error } from './errors.js';
import {
  FRAMING_CHUNKED,
  FRAMING_LENGTH,
  FRAMING_NONE,
  serializeRequestHead,
} from './request-head.js';
import type { RequestFraming } from './request-head.js';
import type { H1RequestInit } from './types.js';

function framing(): RequestFraming {
  return {
    framing: -1,
    contentLength: -2,
    expectContinue: false,
    upgrade: false,
    connectionClose: false,
  };
}

function serialize(init: H1RequestInit): { head: string; out: RequestFraming } {
  const out = framing();
  const head = serializeRequestHead(init, 'up.example:8080', out);
  return { head, out };
}

function rejection(init: H1RequestInit): string {
  try {
    serializeRequestHead(init, 'h:1', framing());
  } catch (err) {
    expect(err).toBeInstanceOf(H1Error);
    return (err as H1Error).code;
  }
  return 'accepted';
}

describe('serializeRequestHead', () => {
  it('writes the request line, a default Host first, then fields in order with duplicates', () => {
    const { head, out } = serialize({
      method: 'GET',
      path: '/a?b=c',
      headers: ['Accept', '*/*', 'X-Dup', '1', 'x-dup', '2'],
      hasBody: false,
    });
    expect(head).toBe(
      'GET /a?b=c HTTP/1.1\r\nHost: up.example:8080\r\nAccept: */*\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n',
    );
    expect(out).toEqual({
      framing: FRAMING_NONE,
      contentLength: -1,
      expectContinue: false,
      upgrade: false,
      connectionClose: false,
    });
  });

  it('keeps the caller’s Host and adds none', () => {
    const { head } = serialize({
      method: 'GET',
      path: '/',
      headers: ['host', 'front.example'],
      hasBody: false,
    });
    expect(head).toBe('GET / HTTP/1.1\r\nhost: front.example\r\n\r\n');
  });

  it('writes the given host first, as a leading host pair in the headers would be', () => {
    const headers = ['accept', '*/*', 'x-a', '1'];
    const { head } = serialize({
      method: 'GET',
      path: '/',
      host: 'front.example',
      headers,
      hasBody: false,
    });
    expect(head).toBe('GET / HTTP/1.1\r\nhost: front.example\r\naccept: */*\r\nx-a: 1\r\n\r\n');
    expect(head).toBe(
      serialize({
        method: 'GET',
        path: '/',
        headers: ['host', 'front.example', ...headers],
        hasBody: false,
      }).head,
    );
  });

  it('frames a body by the caller’s Content-Length', () => {
    const { head, out } = serialize({
      method: 'POST',
      path: '/u',
      headers: ['Content-Length', '42'],
      hasBody: true,
    });
    expect(head).toBe('POST /u HTTP/1.1\r\nHost: up.example:8080\r\nContent-Length: 42\r\n\r\n');
    expect([out.framing, out.contentLength]).toEqual([FRAMING_LENGTH, 42]);
  });

  it('adds Transfer-Encoding: chunked to a body without length', () => {
    const { head, out } = serialize({ method: 'PUT', path: '/u', headers: [], hasBody: true });
    expect(head).toBe(
      'PUT /u HTTP/1.1\r\nHost: up.example:8080\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    expect(out.framing).toBe(FRAMING_CHUNKED);
  });

  it('keeps the caller’s Transfer-Encoding when it ends in chunked', () => {
    const { head, out } = serialize({
      method: 'POST',
      path: '/',
      headers: ['Transfer-Encoding', 'gzip, Chunked'],
      hasBody: true,
    });
    expect(head).toBe(
      'POST / HTTP/1.1\r\nHost: up.example:8080\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n',
    );
    expect(out.framing).toBe(FRAMING_CHUNKED);
  });

  it('adds Expect: 100-continue when asked and a body follows', () => {
    const { head, out } = serialize({
      method: 'POST',
      path: '/',
      headers: ['Content-Length', '3'],
      hasBody: true,
      expectContinue: true,
    });
    expect(head).toBe(
      'POST / HTTP/1.1\r\nHost: up.example:8080\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(out.expectContinue).toBe(true);
  });

  it('honours a forwarded Expect: 100-continue field without repeating it', () => {
    const { head, out } = serialize({
      method: 'POST',
      path: '/',
      headers: ['expect', '100-Continue', 'Content-Length', '3'],
      hasBody: true,
    });
    expect(head.match(/expect/gi)).toHaveLength(1);
    expect(out.expectContinue).toBe(true);
  });

  it('does not wait for 100 Continue when there is no body', () => {
    const { out } = serialize({
      method: 'GET',
      path: '/',
      headers: [],
      hasBody: false,
      expectContinue: true,
    });
    expect(out.expectContinue).toBe(false);
  });

  it('notes Upgrade and Connection: close', () => {
    const { out } = serialize({
      method: 'GET',
      path: '/ws',
      headers: ['Connection', 'keep-alive, Upgrade, close', 'Upgrade', 'websocket'],
      hasBody: false,
    });
    expect([out.upgrade, out.connectionClose]).toEqual([true, true]);
  });

  it('accepts Content-Length: 0 on a request without body', () => {
    const { out } = serialize({
      method: 'POST',
      path: '/',
      headers: ['Content-Length', '0'],
      hasBody: false,
    });
    expect(out.framing).toBe(FRAMING_NONE);
  });

  it('accepts the authority form for CONNECT', () => {
    const { head } = serialize({
      method: 'CONNECT',
      path: 'db:5432',
      headers: ['Host', 'db:5432'],
      hasBody: false,
    });
    expect(head).toBe('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n');
  });

  it.each([
    ['a method with a space', { method: 'GE T', path: '/', headers: [], hasBody: false }],
    ['an empty method', { method: '', path: '/', headers: [], hasBody: false }],
    ['a target with a space', { method: 'GET', path: '/a b', headers: [], hasBody: false }],
    ['a target with CRLF', { method: 'GET', path: '/a\r\nX: y', headers: [], hasBody: false }],
    ['an odd header list', { method: 'GET', path: '/', headers: ['X'], hasBody: false }],
    [
      'a header name with a colon',
      { method: 'GET', path: '/', headers: ['X:Y', '1'], hasBody: false },
    ],
    [
      'CRLF in a value',
      { method: 'GET', path: '/', headers: ['X', 'a\r\nEvil: 1'], hasBody: false },
    ],
    [
      'CRLF in the given host',
      { method: 'GET', path: '/', host: 'a\r\nEvil: 1', headers: [], hasBody: false },
    ],
    ['NUL in a value', { method: 'GET', path: '/', headers: ['X', 'a\u0000'], hasBody: false }],
    [
      'a char above latin1',
      { method: 'GET', path: '/', headers: ['X', 'caf\u2603'], hasBody: false },
    ],
    [
      'a bad Content-Length',
      { method: 'POST', path: '/', headers: ['Content-Length', '1e3'], hasBody: true },
    ],
    [
      'conflicting Content-Length',
      {
        method: 'POST',
        path: '/',
        headers: ['Content-Length', '1', 'content-length', '2'],
        hasBody: true,
      },
    ],
    [
      'Content-Length with Transfer-Encoding',
      {
        method: 'POST',
        path: '/',
        headers: ['Content-Length', '1', 'Transfer-Encoding', 'chunked'],
        hasBody: true,
      },
    ],
    [
      'Transfer-Encoding not ending in chunked',
      { method: 'POST', path: '/', headers: ['Transfer-Encoding', 'gzip'], hasBody: true },
    ],
    [
      'a length on a request without body',
      { method: 'POST', path: '/', headers: ['Content-Length', '5'], hasBody: false },
    ],
    [
      'chunked on a request without body',
      { method: 'POST', path: '/', headers: ['Transfer-Encoding', 'chunked'], hasBody: false },
    ],
  ] as [string, H1RequestInit][])('rejects %s', (_name, init) => {
    expect(rejection(init)).toBe('TRL_H1_INVALID_REQUEST');
  });
});
