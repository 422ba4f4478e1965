import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H1Error } from './errors.js';
import {
  EXPECT_CONNECT,
  EXPECT_NO_BODY,
  EXPECT_UPGRADE,
  ResponseParser,
} from './response-parser.js';
import type { ResponseSink } from './response-parser.js';

type Event =
  | ['info', number, string, string[]]
  | ['head', number, string, string[], boolean]
  | ['body', string]
  | ['trailers', string[]];

interface Result {
  events: Event[];
  /** Bytes of the input that belonged to the response. */
  consumed: number;
  complete: boolean;
  upgraded: boolean;
}

class Recorder implements ResponseSink {
  readonly events: Event[] = [];
  readonly views: Buffer[] = [];
  onInformational(status: number, reason: string, headers: string[]): void {
    this.events.push(['info', status, reason, headers]);
  }
  onHead(status: number, reason: string, headers: string[], keepAlive: boolean): void {
    this.events.push(['head', status, reason, headers, keepAlive]);
  }
  onBody(chunk: Buffer): void {
    this.views.push(chunk);
    // Adjacent body pieces are merged so that any split gives the same event list.
    const last = this.events.at(-1);
    if (last !== undefined && last[0] === 'body') last[1] += chunk.toString('latin1');
    else this.events.push(['body', chunk.toString('latin1')]);
  }
  onTrailers(trailers: string[]): void {
    this.events.push(['trailers', trailers]);
  }
}

/** Feeds `pieces` in order, stopping where the parser stops; `eof` signals the close after. */
function run(pieces: Buffer[], flags = 0, eof = false, parser = new ResponseParser()): Result {
  const sink = new Recorder();
  parser.begin(sink, flags);
  let consumed = 0;
  for (const piece of pieces) {
    const used = parser.execute(piece);
    consumed += used;
    if (used < piece.length) break;
  }
  if (eof && !parser.complete && !parser.upgraded) parser.finish();
  return { events: sink.events, consumed, complete: parser.complete, upgraded: parser.upgraded };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function splitAt(raw: Buffer, at: number): Buffer[] {
  return [raw.subarray(0, at), raw.subarray(at)].filter((b) => b.length > 0);
}

function byteByByte(raw: Buffer): Buffer[] {
  return Array.from({ length: raw.length }, (_, i) => raw.subarray(i, i + 1));
}

interface Case {
  name: string;
  /** The response, then `rest`: bytes after it that the parser must leave alone. */
  raw: string;
  rest?: string;
  expect?: number;
  eof?: boolean;
  result: Omit<Result, 'consumed'>;
}

function expected(c: Case): Result {
  return { ...c.result, consumed: c.raw.length };
}

function input(c: Case): Buffer {
  return bytes(c.raw + (c.rest ?? ''));
}

const valid: Case[] = [
  {
    name: 'Content-Length body',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello',
    result: {
      events: [
        ['head', 200, 'OK', ['Content-Length', '5', 'X-A', '1', 'x-a', '2'], true],
        ['body', 'hello'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'chunked body with extensions and trailers',
    raw:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n' +
      '5;name=val\r\nhello\r\n6 ; a="b c"\r\n world\r\nA\r\n0123456789\r\n' +
      '0\r\nX-Sum: abc\r\nX-Two: y\r\n\r\n',
    result: {
      events: [
        ['head', 200, 'OK', ['Transfer-Encoding', 'chunked', 'Trailer', 'X-Sum'], true],
        ['body', 'hello world0123456789'],
        ['trailers', ['X-Sum', 'abc', 'X-Two', 'y']],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'chunked body without trailers, upper-case hex, leading zeros',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n00B\r\nhello world\r\n0\r\n\r\n',
    result: {
      events: [
        ['head', 200, 'OK', ['Transfer-Encoding', 'gzip, chunked'], true],
        ['body', 'hello world'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: '204 without body despite Content-Length',
    raw: 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n',
    result: {
      events: [['head', 204, 'No Content', ['Content-Length', '7'], true]],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: '304 without body despite chunked',
    raw: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n',
    result: {
      events: [['head', 304, 'Not Modified', ['Transfer-Encoding', 'chunked'], true]],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'response to HEAD has no body',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n',
    expect: EXPECT_NO_BODY,
    result: {
      events: [['head', 200, 'OK', ['Content-Length', '100'], true]],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: '100 Continue and 103 Early Hints before the final response',
    raw:
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' +
      'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    result: {
      events: [
        ['info', 100, 'Continue', []],
        ['info', 103, 'Early Hints', ['Link', '</a.css>; rel=preload']],
        ['head', 201, 'Created', ['Content-Length', '2'], true],
        ['body', 'ok'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'body delimited by the close',
    raw: 'HTTP/1.1 200 OK\r\nX: y\r\n\r\nall of this',
    eof: true,
    result: {
      events: [
        ['head', 200, 'OK', ['X', 'y'], false],
        ['body', 'all of this'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'Transfer-Encoding not ending in chunked reads until close',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello',
    eof: true,
    result: {
      events: [
        ['head', 200, 'OK', ['Transfer-Encoding', 'chunked, gzip'], false],
        ['body', '5\r\nhello'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'HTTP/1.0 with keep-alive keeps the connection',
    raw: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx',
    result: {
      events: [
        ['head', 200, 'OK', ['Connection', 'Keep-Alive', 'Content-Length', '1'], true],
        ['body', 'x'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'HTTP/1.0 without keep-alive closes',
    raw: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx',
    result: {
      events: [
        ['head', 200, 'OK', ['Content-Length', '1'], false],
        ['body', 'x'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'Connection: close on HTTP/1.1',
    raw: 'HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 0\r\n\r\n',
    result: {
      events: [['head', 200, 'OK', ['Connection', 'foo, Close', 'Content-Length', '0'], false]],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'obs-fold joined with one space, OWS trimmed, empty value, no reason phrase',
    raw: 'HTTP/1.1 200\r\nX-Fold: a \r\n \t b\r\nX-Empty:\r\nX-Sp:   v  \r\nContent-Length: 0\r\n\r\n',
    result: {
      events: [
        [
          'head',
          200,
          '',
          ['X-Fold', 'a b', 'X-Empty', '', 'X-Sp', 'v', 'Content-Length', '0'],
          true,
        ],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'equal duplicate Content-Length values are one',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc',
    result: {
      events: [
        ['head', 200, 'OK', ['Content-Length', '3', 'Content-Length', '3, 3'], true],
        ['body', 'abc'],
      ],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: 'obs-text in reason and value is kept as latin1',
    raw: 'HTTP/1.1 200 \xe9t\xe9\r\nX-L: caf\xe9\r\nContent-Length: 0\r\n\r\n',
    result: {
      events: [['head', 200, '\xe9t\xe9', ['X-L', 'caf\xe9', 'Content-Length', '0'], true]],
      complete: true,
      upgraded: false,
    },
  },
  {
    name: '101 to an upgrade request stops at the head',
    raw: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    rest: '\x81\x02hi',
    expect: EXPECT_UPGRADE,
    result: {
      events: [
        [
          'head',
          101,
          'Switching Protocols',
          ['Upgrade', 'websocket', 'Connection', 'Upgrade'],
          false,
        ],
      ],
      complete: false,
      upgraded: true,
    },
  },
  {
    name: '2xx to CONNECT becomes a tunnel',
    raw: 'HTTP/1.1 200 Connection Established\r\n\r\n',
    rest: 'tunnel bytes',
    expect: EXPECT_CONNECT,
    result: {
      events: [['head', 200, 'Connection Established', [], false]],
      complete: false,
      upgraded: true,
    },
  },
  {
    name: 'bytes after a complete response are left unconsumed',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    rest: 'EXTRA',
    result: {
      events: [
        ['head', 200, 'OK', ['Content-Length', '2'], true],
        ['body', 'ok'],
      ],
      complete: true,
      upgraded: false,
    },
  },
];

const malformed: { name: string; raw: string; expect?: number; limits?: [number, number] }[] = [
  { name: 'not HTTP', raw: 'HTTZ/1.1 200 OK\r\n\r\n' },
  { name: 'HTTP/2.0', raw: 'HTTP/2.0 200 OK\r\n\r\n' },
  { name: 'HTTP/1.2', raw: 'HTTP/1.2 200 OK\r\n\r\n' },
  { name: 'two-digit status', raw: 'HTTP/1.1 20 OK\r\n\r\n' },
  { name: 'status 600', raw: 'HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n' },
  { name: 'no space after status', raw: 'HTTP/1.1 200OK\r\n\r\n' },
  { name: 'control byte in reason', raw: 'HTTP/1.1 200 O\x01K\r\n\r\n' },
  { name: 'space in field name', raw: 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n' },
  { name: 'space before colon', raw: 'HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n' },
  { name: 'empty field name', raw: 'HTTP/1.1 200 OK\r\n: x\r\n\r\n' },
  { name: 'line without colon', raw: 'HTTP/1.1 200 OK\r\nnocolon\r\n\r\n' },
  { name: 'NUL in value', raw: 'HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n' },
  { name: 'bare CR in value', raw: 'HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n' },
  { name: 'bare LF line end', raw: 'HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n' },
  { name: 'DEL in value', raw: 'HTTP/1.1 200 OK\r\nX: a\x7fb\r\n\r\n' },
  { name: 'fold before any field', raw: 'HTTP/1.1 200 OK\r\n folded\r\n\r\n' },
  {
    name: 'Content-Length and Transfer-Encoding',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'conflicting Content-Length',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
  },
  {
    name: 'conflicting Content-Length list',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n',
  },
  { name: 'negative Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n' },
  { name: 'signed Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello' },
  { name: 'hex Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello' },
  { name: 'empty Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n' },
  {
    name: 'huge Content-Length',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n',
  },
  {
    name: 'Transfer-Encoding on HTTP/1.0',
    raw: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'chunked twice',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
  },
  { name: 'empty Transfer-Encoding', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n' },
  {
    name: 'non-hex chunk size',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  },
  {
    name: 'missing chunk size',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n0\r\n\r\n',
  },
  {
    name: 'garbage after chunk size whitespace',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n',
  },
  {
    name: 'chunk size overflow',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
  },
  {
    name: 'chunk data longer than its size',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n',
  },
  {
    name: 'chunk size line ended by bare LF',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
  },
  {
    name: 'control byte in chunk extension',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n',
  },
  {
    name: 'chunk extension too long',
    raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`,
  },
  {
    name: 'last chunk not ended by CRLF',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX',
  },
  {
    name: 'invalid trailer name',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: 1\r\n\r\n',
  },
  { name: '101 without an upgrade request', raw: 'HTTP/1.1 101 Switching Protocols\r\n\r\n' },
  {
    name: 'too many fields',
    raw: `HTTP/1.1 200 OK\r\n${'X: 1\r\n'.repeat(4)}\r\n`,
    limits: [1024, 3],
  },
  {
    name: 'head larger than the limit',
    raw: `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`,
    limits: [128, 100],
  },
  {
    name: 'head never ending within the limit',
    raw: `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(300)}`,
    limits: [128, 100],
  },
  {
    name: 'trailers larger than the limit',
    raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ${'a'.repeat(200)}\r\n\r\n`,
    limits: [128, 100],
  },
];

function expectParseError(pieces: Buffer[], flags: number, limits?: [number, number]): void {
  const parser = new ResponseParser(
    limits ? { maxHeaderBytes: limits[0], maxHeaderCount: limits[1] } : undefined,
  );
  let thrown: unknown = null;
  try {
    run(pieces, flags, false, parser);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(H1Error);
  expect((thrown as H1Error).code).toBe('TRL_H1_PARSE_ERROR');
  expect(parser.failed).toBe(true);
}

describe('ResponseParser on valid responses', () => {
  for (const c of valid) {
    it(`parses ${c.name} in one piece`, () => {
      expect(run([input(c)], c.expect ?? 0, c.eof)).toEqual(expected(c));
    });
  }

  for (const c of valid) {
    it(`parses ${c.name} split in two at every byte`, () => {
      const raw = input(c);
      for (let at = 1; at < raw.length; at++) {
        expect(run(splitAt(raw, at), c.expect ?? 0, c.eof), `split at ${at}`).toEqual(expected(c));
      }
    });
  }

  for (const c of valid) {
    it(`parses ${c.name} fed one byte at a time`, () => {
      expect(run(byteByByte(input(c)), c.expect ?? 0, c.eof)).toEqual(expected(c));
    });
  }

  it('parses every case under random splits into many pieces', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(fc.nat(), { maxLength: 12 }), (c, cuts) => {
        const raw = input(c);
        const points = [...new Set(cuts.map((n) => n % raw.length))].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let from = 0;
        for (const p of [...points, raw.length]) {
          if (p > from) pieces.push(raw.subarray(from, p));
          from = Math.max(from, p);
        }
        expect(run(pieces, c.expect ?? 0, c.eof)).toEqual(expected(c));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ResponseParser on malformed responses', () => {
  for (const c of malformed) {
    it(`rejects ${c.name}, whole, split at every byte, and byte by byte`, () => {
      const raw = bytes(c.raw);
      expectParseError([raw], c.expect ?? 0, c.limits);
      for (let at = 1; at < raw.length; at++) {
        expectParseError(splitAt(raw, at), c.expect ?? 0, c.limits);
      }
      expectParseError(byteByByte(raw), c.expect ?? 0, c.limits);
    });
  }
});

describe('ResponseParser details', () => {
  it('hands out body chunks as views of the input buffer, not copies', () => {
    const raw = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    const parser = new ResponseParser();
    const sink = new Recorder();
    parser.begin(sink, 0);
    parser.execute(raw);
    expect(sink.views).toHaveLength(1);
    expect(sink.views[0]?.buffer).toBe(raw.buffer);
    expect(sink.views[0]?.byteOffset).toBe(raw.byteOffset + 50);
  });

  it('passes the whole input buffer through when it is all body', () => {
    const parser = new ResponseParser();
    const sink = new Recorder();
    parser.begin(sink, 0);
    parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'));
    const body = bytes('0123456789');
    parser.execute(body);
    expect(sink.views[0]).toBe(body);
    expect(parser.complete).toBe(true);
  });

  it('reports a cut-short response at the close as not finished', () => {
    const parser = new ResponseParser();
    parser.begin(new Recorder(), 0);
    parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(parser.finish()).toBe(false);
    expect(parser.complete).toBe(false);
  });

  it('is reusable for the next response after begin()', () => {
    const parser = new ResponseParser();
    const first = run([bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na')], 0, false, parser);
    const second = run([bytes('HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n')], 0, false, parser);
    expect(first.events[1]).toEqual(['body', 'a']);
    expect(second.events).toEqual([['head', 404, 'Nope', ['Content-Length', '0'], true]]);
  });

  it('emits nothing more after stop()', () => {
    const parser = new ResponseParser();
    const events: string[] = [];
    parser.begin(
      {
        onInformational: () => events.push('info'),
        onHead: () => {
          events.push('head');
          parser.stop();
        },
        onBody: () => events.push('body'),
        onTrailers: () => events.push('trailers'),
      },
      0,
    );
    const used = parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    expect(events).toEqual(['head']);
    expect(used).toBe(38);
  });

  it('accepts a head exactly at the size limit and rejects one byte more', () => {
    const head = (n: number): Buffer =>
      bytes(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(n)}\r\nContent-Length: 0\r\n\r\n`);
    const fixed = head(0).length;
    const atLimit = new ResponseParser({ maxHeaderBytes: 100, maxHeaderCount: 10 });
    expect(run([head(100 - fixed)], 0, false, atLimit).complete).toBe(true);
    expectParseError([head(101 - fixed)], 0, [100, 10]);
    expectParseError(byteByByte(head(101 - fixed)), 0, [100, 10]);
  });
});

describe('one parser across responses', () => {
  // Each head's strings may be taken from the previous head's where the bytes are the same;
  // never where they differ, even at equal length.
  it('reads every head right after heads of like-sized, differing fields', () => {
    const token = fc.stringMatching(/^[A-Ca-c-]{1,3}$/);
    const value = fc.stringMatching(/^[a-c0-2]([a-c0-2 ]{0,2}[a-c0-2])?$/);
    const head = fc.record({
      reason: fc.constantFrom('OK', 'Ok', 'ok', 'KO'),
      fields: fc.array(fc.tuple(token, value), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(head, { minLength: 2, maxLength: 5 }), (heads) => {
        const parser = new ResponseParser();
        for (const h of heads) {
          const text = h.fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
          const result = run([bytes(`HTTP/1.1 204 ${h.reason}\r\n${text}\r\n`)], 0, false, parser);
          expect(result.events).toEqual([['head', 204, h.reason, h.fields.flat(), true]]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
