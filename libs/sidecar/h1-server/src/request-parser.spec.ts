import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RequestHead } from './request-head.js';
import { RequestParser } from './request-parser.js';
import { cutsOf, parseInPieces } from './testing/parse.js';
import { SMUGGLED, malformed } from './testing/shapes.js';
import type { ParseEvent } from './testing/parse.js';

function head(fields: Partial<RequestHead>): ParseEvent {
  return {
    type: 'head',
    head: {
      method: 'GET',
      rawTarget: '/',
      target: '/',
      authority: 'web',
      versionMinor: 1,
      headers: ['host', 'web'],
      contentLength: -1,
      chunked: false,
      hasBody: false,
      keepAlive: true,
      upgrade: '',
      expectContinue: false,
      ...fields,
    },
  };
}

const body = (text: string): ParseEvent => ({ type: 'body', text });
const end = (trailers: string[] | null = null): ParseEvent => ({ type: 'end', trailers });

const valid: [string, string, ParseEvent[]][] = [
  ['a minimal GET', 'GET / HTTP/1.1\r\nHost: web\r\n\r\n', [head({})]],
  [
    'field names lower-cased, values OWS-trimmed, empty values kept',
    'GET /a?b=c HTTP/1.1\r\nHOST:web\r\nX-Mixed-Case: \t padded value \t\r\nX-Empty:\r\nx-e2:   \r\n\r\n',
    [
      head({
        rawTarget: '/a?b=c',
        target: '/a?b=c',
        headers: ['host', 'web', 'x-mixed-case', 'padded value', 'x-empty', '', 'x-e2', ''],
      }),
    ],
  ],
  [
    'obs-text in a value',
    'GET / HTTP/1.1\r\nHost: web\r\nX-L: caf\xe9\r\n\r\n',
    [head({ headers: ['host', 'web', 'x-l', 'caf\xe9'] })],
  ],
  [
    'a Content-Length body',
    'POST /p HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\nhello',
    [
      head({
        method: 'POST',
        rawTarget: '/p',
        target: '/p',
        headers: ['host', 'web', 'content-length', '5'],
        contentLength: 5,
        hasBody: true,
      }),
      body('hello'),
      end(),
    ],
  ],
  [
    'Content-Length: 0 (no body events)',
    'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 0\r\n\r\n',
    [head({ method: 'POST', headers: ['host', 'web', 'content-length', '0'], contentLength: 0 })],
  ],
  [
    'a chunked body with extensions, BWS, leading zeros, upper-case hex and trailers',
    'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: Chunked\r\n\r\n' +
      '5;ext=1;q="a b"\r\nhello\r\n000A \t;x\r\n0123456789\r\n0\r\nX-Sum: abc\r\nX-Two: 2\r\n\r\n',
    [
      head({
        method: 'POST',
        headers: ['host', 'web', 'transfer-encoding', 'Chunked'],
        chunked: true,
        hasBody: true,
      }),
      body('hello0123456789'),
      end(['x-sum', 'abc', 'x-two', '2']),
    ],
  ],
  [
    'an empty chunked body',
    'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: ,chunked,\r\n\r\n0\r\n\r\n',
    [
      head({
        method: 'POST',
        headers: ['host', 'web', 'transfer-encoding', ',chunked,'],
        chunked: true,
        hasBody: true,
      }),
      end(),
    ],
  ],
  [
    'three pipelined requests',
    'GET /1 HTTP/1.1\r\nHost: web\r\n\r\nPOST /2 HTTP/1.1\r\nHost: web\r\nContent-Length: 3\r\n\r\nabc' +
      'GET /3 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n',
    [
      head({ rawTarget: '/1', target: '/1' }),
      head({
        method: 'POST',
        rawTarget: '/2',
        target: '/2',
        headers: ['host', 'web', 'content-length', '3'],
        contentLength: 3,
        hasBody: true,
      }),
      body('abc'),
      end(),
      head({
        rawTarget: '/3',
        target: '/3',
        headers: ['host', 'web', 'connection', 'close'],
        keepAlive: false,
      }),
    ],
  ],
  [
    'empty lines before the request line are skipped',
    '\r\n\r\nGET / HTTP/1.1\r\nHost: web\r\n\r\n',
    [head({})],
  ],
  [
    'HTTP/1.0 without Host closes by default',
    'GET / HTTP/1.0\r\n\r\n',
    [head({ versionMinor: 0, headers: [], authority: '', keepAlive: false })],
  ],
  [
    'HTTP/1.0 with Connection: keep-alive',
    'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
    [head({ versionMinor: 0, headers: ['connection', 'Keep-Alive'], authority: '' })],
  ],
  [
    'absolute-form: the URI names the authority, Host is ignored',
    'GET HTTP://api.example:8080/x/y?z=1 HTTP/1.1\r\nHost: other\r\n\r\n',
    [
      head({
        rawTarget: 'HTTP://api.example:8080/x/y?z=1',
        target: '/x/y?z=1',
        authority: 'api.example:8080',
        headers: ['host', 'other'],
      }),
    ],
  ],
  [
    'absolute-form without a path',
    'GET http://api?q HTTP/1.1\r\nHost: api\r\n\r\n',
    [
      head({
        rawTarget: 'http://api?q',
        target: '/?q',
        authority: 'api',
        headers: ['host', 'api'],
      }),
    ],
  ],
  [
    'authority-form for CONNECT',
    'CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n',
    [
      head({
        method: 'CONNECT',
        rawTarget: 'db.internal:5432',
        target: 'db.internal:5432',
        authority: 'db.internal:5432',
        headers: ['host', 'db.internal:5432'],
      }),
    ],
  ],
  [
    'asterisk-form for OPTIONS',
    'OPTIONS * HTTP/1.1\r\nHost: web\r\n\r\n',
    [head({ method: 'OPTIONS', rawTarget: '*', target: '*' })],
  ],
  [
    'an IPv6 Host',
    'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n',
    [head({ authority: '[::1]:8080', headers: ['host', '[::1]:8080'] })],
  ],
  [
    'Connection: upgrade with Upgrade, and Expect: 100-continue',
    'GET /ws HTTP/1.1\r\nHost: web\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nExpect: 100-Continue\r\n\r\n',
    [
      head({
        rawTarget: '/ws',
        target: '/ws',
        headers: [
          'host',
          'web',
          'connection',
          'keep-alive, Upgrade',
          'upgrade',
          'websocket',
          'expect',
          '100-Continue',
        ],
        upgrade: 'websocket',
        expectContinue: true,
      }),
    ],
  ],
  [
    'Upgrade without Connection: upgrade is not an upgrade',
    'GET / HTTP/1.1\r\nHost: web\r\nUpgrade: websocket\r\n\r\n',
    [head({ headers: ['host', 'web', 'upgrade', 'websocket'] })],
  ],
  [
    'an extension method',
    'PURGE /cache HTTP/1.1\r\nHost: web\r\n\r\n',
    [head({ method: 'PURGE', rawTarget: '/cache', target: '/cache' })],
  ],
];

describe('RequestParser: valid requests', () => {
  it.each(valid)('%s: parsed whole', (_name, text, expected) => {
    const run = parseInPieces(Buffer.from(text, 'latin1'), []);
    expect(run.error).toBeUndefined();
    expect(run.events).toEqual(expected);
    expect(run.zeroCopy).toBe(true);
  });

  it.each(valid)('%s: identical at every split and byte by byte', (_name, text, expected) => {
    const input = Buffer.from(text, 'latin1');
    for (const cuts of cutsOf(input.length)) {
      const run = parseInPieces(input, cuts);
      expect(run.error, `cut at ${cuts.join(',')}`).toBeUndefined();
      expect(run.events, `cut at ${cuts.join(',')}`).toEqual(expected);
      expect(run.zeroCopy).toBe(true);
    }
  });

  it('identical at every pair of split points (three pieces)', () => {
    const input = Buffer.from(
      'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nX-T: 1\r\n\r\n' +
        SMUGGLED,
      'latin1',
    );
    const whole = parseInPieces(input, []);
    expect(whole.events.map((e) => e.type)).toEqual(['head', 'body', 'end', 'head']);
    for (let a = 1; a < input.length; a++) {
      for (let b = a + 1; b < input.length; b++) {
        expect(parseInPieces(input, [a, b]).events).toEqual(whole.events);
      }
    }
  });

  it('accepts exactly maxHeaderCount fields and a head of exactly maxHeaderBytes', () => {
    const fields = Array.from({ length: 99 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const text = `GET / HTTP/1.1\r\nHost: web\r\n${fields}\r\n`;
    const input = Buffer.from(text, 'latin1');
    const limits = { maxHeaderBytes: input.length, maxHeaderCount: 100 };
    for (const cuts of cutsOf(input.length)) {
      const run = parseInPieces(input, cuts, limits);
      expect(run.error).toBeUndefined();
      expect(run.events).toHaveLength(1);
    }
  });

  it('random requests cut at random points parse as they do whole', () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/);
    const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
    const request = fc.record({
      path: fc.stringMatching(/^\/[A-Za-z0-9/?=&%._-]{0,30}$/),
      fields: fc.array(fc.tuple(token, value), { maxLength: 8 }),
      body: fc.option(fc.uint8Array({ maxLength: 300 })),
      chunks: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
      chunked: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 2_000 }), { maxLength: 12 }),
        (requests, rawCuts) => {
          const parts: Buffer[] = [];
          for (const r of requests) {
            const names = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
            const fields = r.fields.filter(([n]) => !names.has(n.toLowerCase()));
            let headText = `POST ${r.path} HTTP/1.1\r\nHost: web\r\n`;
            for (const [n, v] of fields) headText += `${n}: ${v}\r\n`;
            const content = Buffer.from(r.body ?? new Uint8Array(0));
            if (r.chunked) {
              headText += 'Transfer-Encoding: chunked\r\n\r\n';
              parts.push(Buffer.from(headText, 'latin1'));
              let at = 0;
              for (const size of r.chunks) {
                if (at >= content.length) break;
                const piece = content.subarray(at, at + size);
                at += piece.length;
                parts.push(
                  Buffer.from(`${piece.length.toString(16)}\r\n`),
                  piece,
                  Buffer.from('\r\n'),
                );
              }
              if (at < content.length) {
                const rest = content.subarray(at);
                parts.push(
                  Buffer.from(`${rest.length.toString(16)}\r\n`),
                  rest,
                  Buffer.from('\r\n'),
                );
              }
              parts.push(Buffer.from('0\r\n\r\n'));
            } else {
              headText += `Content-Length: ${content.length}\r\n\r\n`;
              parts.push(Buffer.from(headText, 'latin1'), content);
            }
          }
          const input = Buffer.concat(parts);
          const cuts = [...new Set(rawCuts.map((c) => c % input.length).filter((c) => c > 0))].sort(
            (a, b) => a - b,
          );
          const whole = parseInPieces(input, []);
          expect(whole.error).toBeUndefined();
          expect(whole.events.filter((e) => e.type === 'head')).toHaveLength(requests.length);
          const cut = parseInPieces(input, cuts);
          expect(cut.events).toEqual(whole.events);
          expect(cut.zeroCopy).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RequestParser: malformed requests', () => {
  it.each(malformed)('$name: refused at every split', ({ text, reason, status, heads }) => {
    const input = Buffer.from(text, 'latin1');
    for (const cuts of cutsOf(input.length)) {
      const run = parseInPieces(input, cuts);
      const where = `cut at ${cuts.slice(0, 3).join(',')}${cuts.length > 3 ? '…' : ''}`;
      expect(run.error?.code, where).toBe('TRL_H1S_BAD_REQUEST');
      expect(run.error?.reason, where).toBe(reason);
      expect(run.error?.status, where).toBe(status);
      const seen = run.events.filter((e) => e.type === 'head');
      expect(seen, where).toHaveLength(heads);
      for (const e of seen) if (e.type === 'head') expect(e.head.target).not.toBe('/smuggled');
    }
  });

  it('mutated requests: only typed refusals, and the same verdict whole or cut', () => {
    const base =
      'POST /a HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n' +
      '3;e=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n' +
      'PUT /b HTTP/1.1\r\nHost: web\r\nContent-Length: 2\r\n\r\nok' +
      'GET /c HTTP/1.0\r\n\r\n';
    const interesting = [0x0d, 0x0a, 0x20, 0x09, 0x00, 0x3a, 0x2c, 0x3b, 0x7f, 0xa0, 0x30, 0x41];
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('replace', 'insert', 'delete'),
      byte: fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: 255 })),
    });
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (mutations, rawCuts) => {
          const bytes = [...Buffer.from(base, 'latin1')];
          for (const m of mutations) {
            const at = m.at % bytes.length;
            if (m.kind === 'replace') bytes[at] = m.byte;
            else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
            else bytes.splice(at, 1);
          }
          const input = Buffer.from(bytes);
          const cuts = [...new Set(rawCuts.map((c) => c % input.length).filter((c) => c > 0))].sort(
            (a, b) => a - b,
          );
          const whole = parseInPieces(input, []);
          const cut = parseInPieces(input, cuts);
          expect(cut.error === undefined).toBe(whole.error === undefined);
          const heads = (run: typeof whole) => run.events.filter((e) => e.type === 'head');
          expect(heads(cut)).toEqual(heads(whole));
          if (whole.error === undefined) expect(cut.events).toEqual(whole.events);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('stays failed: later input is not parsed', () => {
    const parser = new RequestParser({ onBody: () => undefined, onEnd: () => undefined });
    expect(() => parser.execute(Buffer.from('GET / HTTP/1.1\nHost: web\n\n'), 0)).toThrow(
      'bare LF',
    );
    expect(parser.failed).toBe(true);
    expect(parser.execute(Buffer.from(SMUGGLED), 0)).toBe(0);
    expect(parser.takeHead()).toBeNull();
  });

  it('honours smaller limits', () => {
    const input = Buffer.from('GET / HTTP/1.1\r\nHost: web\r\nX-A: 1\r\nX-B: 2\r\n\r\n');
    const count = parseInPieces(input, [], { maxHeaderBytes: 1024, maxHeaderCount: 2 });
    expect([count.error?.reason, count.error?.status]).toEqual(['too-many-headers', 431]);
    const size = parseInPieces(input, [], { maxHeaderBytes: input.length - 1, maxHeaderCount: 10 });
    expect([size.error?.reason, size.error?.status]).toEqual(['headers-too-large', 431]);
  });

  it('bounds a run of empty lines before the request line', () => {
    const input = Buffer.from(`${'\r\n'.repeat(40)}GET / HTTP/1.1\r\nHost: web\r\n\r\n`);
    const run = parseInPieces(input, [], { maxHeaderBytes: 64, maxHeaderCount: 10 });
    expect(run.error?.reason).toBe('headers-too-large');
  });
});

describe('RequestParser: flow control', () => {
  it('stops after a head, leaving the body unread until execute() is called again', () => {
    const bodies: string[] = [];
    const parser = new RequestParser({
      onBody: (c) => bodies.push(c.toString()),
      onEnd: () => bodies.push('<end>'),
    });
    const input = Buffer.from('POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\nhello');
    const afterHead = parser.execute(input, 0);
    expect(afterHead).toBe(input.length - 5);
    expect(parser.takeHead()?.contentLength).toBe(5);
    expect(bodies).toEqual([]);
    expect(parser.execute(input, afterHead)).toBe(input.length);
    expect(bodies).toEqual(['hello', '<end>']);
    expect(parser.complete).toBe(true);
  });

  it('returns after the chunk during which suspend() was called', () => {
    const bodies: string[] = [];
    const parser = new RequestParser({
      onBody: (c) => {
        bodies.push(c.toString());
        parser.suspend();
      },
      onEnd: () => bodies.push('<end>'),
    });
    const head = 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n';
    const input = Buffer.from(`${head}2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n`);
    let i = parser.execute(input, 0);
    i = parser.execute(input, i);
    expect(bodies).toEqual(['ab']);
    i = parser.execute(input, i);
    expect(bodies).toEqual(['ab', 'cde']);
    parser.execute(input, i);
    expect(bodies).toEqual(['ab', 'cde', '<end>']);
  });

  it('stops at the end of a message, leaving the next request unread', () => {
    const parser = new RequestParser({ onBody: () => undefined, onEnd: () => undefined });
    const first = 'GET /1 HTTP/1.1\r\nHost: web\r\n\r\n';
    const input = Buffer.from(first + SMUGGLED);
    expect(parser.execute(input, 0)).toBe(first.length);
    expect(parser.complete).toBe(true);
    expect(parser.execute(input, first.length)).toBe(first.length);
    parser.reset();
    expect(parser.execute(input, first.length)).toBe(input.length);
    expect(parser.takeHead()?.target).toBe('/smuggled');
  });
});
