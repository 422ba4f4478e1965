import { describe, expect, it } from 'vitest';
import {
  FRAMING_CHUNKED,
  FRAMING_CLOSE,
  FRAMING_LENGTH,
  FRAMING_NONE,
  lastChunk,
  serializeInformationalHead,
  serializeResponseHead,
} from './response-head.js';
import type { ResponseFraming } from './response-head.js';

interface Case {
  status?: number;
  headers?: string[];
  endStream?: boolean;
  headRequest?: boolean;
  versionMinor?: number;
  reusable?: boolean;
}

function serialize(c: Case): { head: string } & ResponseFraming {
  const out: ResponseFraming = { framing: -1, contentLength: -2, keepAlive: false };
  const head = serializeResponseHead(
    c.status ?? 200,
    c.headers ?? [],
    c.endStream ?? false,
    c.headRequest ?? false,
    c.versionMinor ?? 1,
    c.reusable ?? true,
    out,
  );
  return { head, ...out };
}

describe('serializeResponseHead', () => {
  it('passes a Content-Length through and keeps the connection', () => {
    expect(serialize({ headers: ['content-type', 'text/plain', 'content-length', '5'] })).toEqual({
      head: 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n',
      framing: FRAMING_LENGTH,
      contentLength: 5,
      keepAlive: true,
    });
  });

  it('chunks a body of unknown length on HTTP/1.1', () => {
    expect(serialize({ status: 404, headers: ['x-a', '1'] })).toEqual({
      head: 'HTTP/1.1 404 Not Found\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n',
      framing: FRAMING_CHUNKED,
      contentLength: -1,
      keepAlive: true,
    });
  });

  it('delimits a body of unknown length by the close on HTTP/1.0', () => {
    expect(serialize({ versionMinor: 0 })).toEqual({
      head: 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n',
      framing: FRAMING_CLOSE,
      contentLength: -1,
      keepAlive: false,
    });
  });

  it('says keep-alive to an HTTP/1.0 client that asked for it', () => {
    expect(serialize({ versionMinor: 0, headers: ['content-length', '2'] }).head).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n',
    );
  });

  it('declares an empty response with content-length: 0', () => {
    expect(serialize({ endStream: true, headers: ['x-a', '1'] })).toEqual({
      head: 'HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n',
      framing: FRAMING_NONE,
      contentLength: -1,
      keepAlive: true,
    });
  });

  it('replaces a stale non-zero length on a response declared empty', () => {
    expect(serialize({ endStream: true, headers: ['content-length', '9'] }).head).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    );
  });

  it('keeps the length of a HEAD response but frames no body', () => {
    expect(serialize({ headRequest: true, headers: ['content-length', '1234'] })).toEqual({
      head: 'HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n',
      framing: FRAMING_NONE,
      contentLength: -1,
      keepAlive: true,
    });
  });

  it('adds no framing to a HEAD response without a length', () => {
    expect(serialize({ headRequest: true }).head).toBe('HTTP/1.1 200 OK\r\n\r\n');
  });

  it('drops Content-Length from a 204 and frames no body', () => {
    expect(serialize({ status: 204, headers: ['content-length', '0', 'x-a', '1'] })).toEqual({
      head: 'HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n',
      framing: FRAMING_NONE,
      contentLength: -1,
      keepAlive: true,
    });
  });

  it('frames no body for a 304 and keeps its length', () => {
    const r = serialize({ status: 304, headers: ['etag', '"x"', 'content-length', '10'] });
    expect(r.head).toBe('HTTP/1.1 304 Not Modified\r\netag: "x"\r\ncontent-length: 10\r\n\r\n');
    expect(r.framing).toBe(FRAMING_NONE);
  });

  it('owns the framing and connection fields: the caller’s are dropped', () => {
    const r = serialize({
      headers: ['transfer-encoding', 'gzip', 'Keep-Alive', 'timeout=5', 'connection', 'keep-alive'],
    });
    expect(r.head).toBe('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
  });

  it('honours the caller’s Connection: close', () => {
    const r = serialize({ headers: ['connection', 'Close', 'content-length', '0'] });
    expect(r.head).toBe('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    expect(r.keepAlive).toBe(false);
  });

  it('says close when the request or the server does not allow reuse', () => {
    const r = serialize({ reusable: false, headers: ['content-length', '0'] });
    expect(r.head).toBe('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    expect(r.keepAlive).toBe(false);
  });

  it('accepts equal repeated Content-Length values and rejects conflicting ones', () => {
    expect(serialize({ headers: ['content-length', '3', 'content-length', '3'] }).head).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n',
    );
    expect(() => serialize({ headers: ['content-length', '3', 'content-length', '4'] })).toThrow(
      'conflicting content-length',
    );
    expect(() => serialize({ headers: ['content-length', '-1'] })).toThrow(
      'invalid content-length',
    );
  });

  it.each([
    ['a CRLF in a value (response splitting)', ['x-a', 'a\r\nset-cookie: evil=1']],
    ['a NUL in a value', ['x-a', 'a\0']],
    ['a space in a name', ['x a', '1']],
    ['an empty name', ['', '1']],
    ['a non-latin1 character', ['x-a', '\u2028']],
  ])('rejects %s', (_name, headers) => {
    expect(() => serialize({ headers })).toThrow(
      expect.objectContaining({ code: 'TRL_H1S_INVALID_RESPONSE' }),
    );
  });

  it.each([99, 101, 1000, 200.5])('rejects status %s', (status) => {
    expect(() => serialize({ status })).toThrow(
      expect.objectContaining({ code: 'TRL_H1S_INVALID_RESPONSE' }),
    );
  });

  it('uses a generic reason phrase for an unregistered status', () => {
    expect(serialize({ status: 599, endStream: true }).head).toBe(
      'HTTP/1.1 599 Unknown\r\ncontent-length: 0\r\n\r\n',
    );
  });
});

describe('lastChunk', () => {
  it('ends a body that had chunks, closing the open one', () => {
    expect(lastChunk(true, undefined)).toBe('\r\n0\r\n\r\n');
  });

  it('ends an empty chunked body', () => {
    expect(lastChunk(false, [])).toBe('0\r\n\r\n');
  });

  it('writes trailers after the last chunk', () => {
    expect(lastChunk(true, ['grpc-status', '0', 'x-sum', 'ab'])).toBe(
      '\r\n0\r\ngrpc-status: 0\r\nx-sum: ab\r\n\r\n',
    );
  });

  it('rejects a trailer value with CRLF', () => {
    expect(() => lastChunk(false, ['x', 'a\r\nb'])).toThrow(
      expect.objectContaining({ code: 'TRL_H1S_INVALID_RESPONSE' }),
    );
  });
});

describe('serializeInformationalHead', () => {
  it('writes the status line with its reason phrase and the fields', () => {
    expect(serializeInformationalHead(103, ['link', '</a.css>; rel=preload', 'x-a', '1'])).toBe(
      'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\nx-a: 1\r\n\r\n',
    );
  });

  it('drops framing and connection fields: a 1xx has no content', () => {
    expect(
      serializeInformationalHead(102, [
        'Content-Length',
        '5',
        'transfer-encoding',
        'chunked',
        'connection',
        'close',
        'keep-alive',
        'timeout=5',
        'x-b',
        '2',
      ]),
    ).toBe('HTTP/1.1 102 Processing\r\nx-b: 2\r\n\r\n');
  });

  it.each([99, 200, 102.5])('rejects status %s', (status) => {
    expect(() => serializeInformationalHead(status, [])).toThrow(
      expect.objectContaining({ code: 'TRL_H1S_INVALID_RESPONSE' }),
    );
  });

  it('rejects a value with CRLF (response splitting)', () => {
    expect(() => serializeInformationalHead(103, ['link', 'a\r\nb'])).toThrow(
      expect.objectContaining({ code: 'TRL_H1S_INVALID_RESPONSE' }),
    );
  });
});
