// Malformed and hostile input on raw sockets: request smuggling shapes, bad bytes and oversized
// heads on HTTP/1.1; a broken preface, protocol and flow-control violations and rapid reset on
// HTTP/2. Each case must be refused (400/431/501/505, or GOAWAY/RST_STREAM), the upstream must never see
// the smuggled request (every request it parses is recorded), and the proxy must keep serving.
import type { IncomingMessage } from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import { waitFor } from '@trellis/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { h2Connect, h2Request, rawExchange, statusLines } from './int-testing/clients.js';
import { config, service } from './int-testing/config.js';
import { startGateway } from './int-testing/gateway.js';
import type { TestGateway } from './int-testing/gateway.js';
import {
  ErrorCode,
  Flag,
  FrameType,
  frame,
  h2Raw,
  requestHeaders,
  rstStream,
  windowUpdate,
} from './int-testing/h2-frames.js';
import { echoH1, startH1Upstream } from './int-testing/upstreams.js';
import type { Upstream } from './int-testing/upstreams.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: web\r\n\r\n';
const BODY_LIMIT = 64 * 1024;

let upstream: Upstream;
let gateway: TestGateway;
/** Upstream requests left unanswered, to see whether the proxy cancels them. */
const held: IncomingMessage[] = [];

beforeAll(async () => {
  upstream = await startH1Upstream((req, res, seen) => {
    if (req.url?.startsWith('/hold/')) {
      held.push(req);
      return;
    }
    if (req.url === '/respond-early') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      void seen.bodyDone.then(() => res.end());
      return;
    }
    echoH1(req, res, seen);
  });
  gateway = await startGateway({
    config: config(service('web', [upstream.port])),
    limits: { headersTimeoutMs: 1_000, maxRequestBodyBytes: BODY_LIMIT },
  });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

function upstreamSaw(fragment: string): boolean {
  return upstream.requests.some((r) => r.url.includes(fragment));
}

async function stillServesH1(): Promise<void> {
  const ok = await rawExchange(gateway.port, [
    'GET /after HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n',
  ]);
  expect(statusLines(ok.text)).toEqual([200]);
}

async function stillServesH2(): Promise<void> {
  let session: ClientHttp2Session | undefined;
  try {
    session = await h2Connect(gateway.port);
    const res = await h2Request(session, { authority: 'web', path: '/after-h2' });
    expect(res.status).toBe(200);
  } finally {
    session?.destroy();
  }
}

describe('HTTP/1.1: refused at the head, before anything goes upstream', () => {
  const many = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');
  const cases: [string, string, number][] = [
    [
      'CL.TE',
      `POST /case/clte HTTP/1.1\r\nHost: web\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'TE.CL',
      `POST /case/tecl HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'duplicate Content-Length with different values',
      `POST /case/dupcl HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello${SMUGGLED}`,
      400,
    ],
    [
      'Content-Length list',
      `POST /case/cllist HTTP/1.1\r\nHost: web\r\nContent-Length: 5, 40\r\n\r\nhello${SMUGGLED}`,
      400,
    ],
    [
      'Transfer-Encoding: xchunked',
      `POST /case/xchunked HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'Transfer-Encoding: gzip (chunked not final)',
      `POST /case/tegzip HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'space before the colon (Transfer-Encoding : chunked)',
      `POST /case/tespace HTTP/1.1\r\nHost: web\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'Transfer-Encoding: chunked, identity',
      `POST /case/teid HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'two Transfer-Encoding lines',
      `POST /case/tedup HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'vertical tab before chunked',
      `POST /case/tevtab HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'bare CR in a value',
      `GET /case/barecr HTTP/1.1\r\nHost: web\r\nX-A: a\rb\r\n\r\n${SMUGGLED}`,
      400,
    ],
    ['bare LF line ends', `GET /case/barelf HTTP/1.1\nHost: web\nX-A: a\n\n${SMUGGLED}`, 400],
    [
      'bare LF after a header',
      `GET /case/barelf2 HTTP/1.1\r\nHost: web\r\nX-A: a\nX-B: b\r\n\r\n${SMUGGLED}`,
      400,
    ],
    ['NUL in a value', `GET /case/nul HTTP/1.1\r\nHost: web\r\nX-A: a\0b\r\n\r\n${SMUGGLED}`, 400],
    ['obs-fold', `GET /case/fold HTTP/1.1\r\nHost: web\r\nX-A: a\r\n b\r\n\r\n${SMUGGLED}`, 400],
    [
      'obs-fold hiding chunked',
      `POST /case/foldte HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      400,
    ],
    [
      'two Host lines',
      `GET /case/twohosts HTTP/1.1\r\nHost: evil\r\nHost: web\r\n\r\n${SMUGGLED}`,
      400,
    ],
    ['no Host', `GET /case/nohost HTTP/1.1\r\n\r\n${SMUGGLED}`, 400],
    [
      'oversized head (> 64 KiB)',
      `GET /case/big HTTP/1.1\r\nHost: web\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n${SMUGGLED}`,
      431,
    ],
    ['101 header fields', `GET /case/many HTTP/1.1\r\nHost: web\r\n${many}\r\n${SMUGGLED}`, 431],
    // Not the preface, so not HTTP/2 (RFC 9113 §3.4 chose it so HTTP/1.x servers never take
    // the frames after it for requests): the listener serves HTTP/1.1, where `PRI * HTTP/2.0`
    // is a well-formed request line of major version 2. A server refusing a major version
    // answers 505 (RFC 9112 §2.3, RFC 9110 §15.6.6) — and never reads on to the smuggled line.
    [
      'invalid HTTP/2 preface after a partial match',
      `PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n${SMUGGLED}`,
      505,
    ],
  ];

  it.each(cases)('%s', async (_name, bytes, status) => {
    const before = upstream.requests.length;
    const raw = await rawExchange(gateway.port, [bytes]);
    expect(statusLines(raw.text)).toEqual([status]);
    expect(raw.text).toContain(
      `x-trellis-error: ${status === 431 ? 'headers-too-large' : 'bad-request'}\r\n`,
    );
    expect(raw.closedByServer).toBe(true);
    expect(upstream.requests.length).toBe(before);
    expect(upstreamSaw('smuggled')).toBe(false);
    await stillServesH1();
  });

  it('accepts exactly 100 header fields', async () => {
    // Host + 98 + Connection = 100 fields.
    const fields = Array.from({ length: 98 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const ok = await rawExchange(gateway.port, [
      `GET /case/hundred HTTP/1.1\r\nHost: web\r\n${fields}Connection: close\r\n\r\n`,
    ]);
    expect(statusLines(ok.text)).toEqual([200]);
  });

  // A well-framed body in a coding the proxy does not implement: RFC 9112 §6.1 says 501.
  it('refuses Transfer-Encoding: gzip, chunked with 501: the proxy would drop the gzip coding', async () => {
    const before = upstream.requests.length;
    const raw = await rawExchange(gateway.port, [
      `POST /case/gzipchunked HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ]);
    expect(statusLines(raw.text)).toEqual([501]);
    expect(raw.closedByServer).toBe(true);
    expect(upstream.requests.length).toBe(before);
  });

  it('routes an absolute-form target by its authority and sends origin form upstream', async () => {
    const raw = await rawExchange(gateway.port, [
      'GET http://web/case/absolute?q=1 HTTP/1.1\r\nHost: nowhere.test\r\nConnection: close\r\n\r\n',
    ]);
    expect(statusLines(raw.text)).toEqual([200]);
    const seen = upstream.requests.at(-1);
    expect(seen?.url).toBe('/case/absolute?q=1');
    expect(seen?.headers.host).toBe('web');
  });
});

describe('HTTP/1.1: body framing errors after the head', () => {
  const cases: [string, string][] = [
    [
      'bare CR in a chunk extension',
      `POST /case/chunkext HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    [
      'bare LF after a chunk size',
      `POST /case/chunklf HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n${SMUGGLED}`,
    ],
    [
      'chunk size overflow',
      `POST /case/chunkbig HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ],
  ];

  it.each(cases)('%s: 400, the body never completes upstream', async (name, bytes) => {
    const raw = await rawExchange(gateway.port, [bytes]);
    expect(statusLines(raw.text)).toEqual([400]);
    expect(raw.closedByServer).toBe(true);
    // The head may have been forwarded (the proxy streams), but never a whole body.
    const path = `/case/${bytes.split(' ')[1]?.split('/')[2] ?? name}`;
    for (const seen of upstream.requests.filter((r) => r.url === path)) {
      expect((await seen.bodyDone).length).toBeLessThan(5);
    }
    expect(upstreamSaw('smuggled')).toBe(false);
    await stillServesH1();
  });

  it('a framing error after the response started does not inject a second response', async () => {
    const { connect } = await import('node:net');
    const socket = connect({ host: '127.0.0.1', port: gateway.port });
    let text = '';
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(
      'POST /respond-early HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
    );
    const deadline = Date.now() + 5_000;
    while (!text.includes('partial') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(text).toContain('partial');
    socket.write(`zz\r\n${SMUGGLED}`);
    const timer = setTimeout(() => socket.destroy(), 3_000);
    await closed;
    clearTimeout(timer);
    expect(statusLines(text)).toEqual([200]);
    expect(upstreamSaw('smuggled')).toBe(false);
    await stillServesH1();
  });
});

describe('request body limit', () => {
  const big = 'x'.repeat(BODY_LIMIT);

  it('HTTP/1.1: a Content-Length over the limit is answered 413 before anything goes upstream', async () => {
    const before = upstream.requests.length;
    const raw = await rawExchange(gateway.port, [
      `POST /case/toolarge HTTP/1.1\r\nHost: web\r\nContent-Length: ${BODY_LIMIT + 1}\r\n\r\n${big}`,
    ]);
    expect(statusLines(raw.text)).toEqual([413]);
    expect(raw.text).toContain('x-trellis-error: request-too-large\r\n');
    expect(raw.closedByServer).toBe(true);
    expect(upstream.requests.length).toBe(before);
    await stillServesH1();
  });

  it('HTTP/1.1: a Content-Length of exactly the limit is forwarded', async () => {
    const raw = await rawExchange(gateway.port, [
      `POST /case/atlimit HTTP/1.1\r\nHost: web\r\nContent-Length: ${BODY_LIMIT}\r\nConnection: close\r\n\r\n${big}`,
    ]);
    expect(statusLines(raw.text)).toEqual([200]);
    const seen = upstream.requests.find((r) => r.url === '/case/atlimit');
    expect((await seen?.bodyDone)?.length).toBe(BODY_LIMIT);
  });

  it('HTTP/1.1: a chunked body growing past the limit is cut and answered 413', async () => {
    const half = 'y'.repeat(BODY_LIMIT / 2 + 1);
    const chunk = `${half.length.toString(16)}\r\n${half}\r\n`;
    const raw = await rawExchange(
      gateway.port,
      [
        `POST /case/chunkedlarge HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`,
        `${chunk}0\r\n\r\n${SMUGGLED}`,
      ],
      { gapMs: 50 },
    );
    expect(statusLines(raw.text)).toEqual([413]);
    expect(raw.text).toContain('x-trellis-error: request-too-large\r\n');
    expect(raw.closedByServer).toBe(true);
    for (const seen of upstream.requests.filter((r) => r.url === '/case/chunkedlarge'))
      expect((await seen.bodyDone).length).toBeLessThanOrEqual(half.length);
    expect(upstreamSaw('smuggled')).toBe(false);
    await stillServesH1();
  });

  it('HTTP/2: a content-length over the limit is answered 413 before anything goes upstream', async () => {
    const session = await h2Connect(gateway.port);
    try {
      const before = upstream.requests.length;
      const res = await h2Request(session, {
        authority: 'web',
        path: '/case/h2toolarge',
        headers: { 'content-length': String(BODY_LIMIT + 1) },
        body: Buffer.alloc(BODY_LIMIT + 1, 1),
      });
      expect(res.status).toBe(413);
      expect(res.headers['x-trellis-error']).toBe('request-too-large');
      expect(upstream.requests.length).toBe(before);
      await stillServesH2();
    } finally {
      session.destroy();
    }
  });

  it('HTTP/2: a body without content-length growing past the limit is answered 413', async () => {
    const session = await h2Connect(gateway.port);
    try {
      const res = await h2Request(session, {
        authority: 'web',
        path: '/case/h2streamed',
        body: Buffer.alloc(4 * BODY_LIMIT, 1),
      });
      expect(res.status).toBe(413);
      expect(res.headers['x-trellis-error']).toBe('request-too-large');
      for (const seen of upstream.requests.filter((r) => r.url === '/case/h2streamed'))
        expect((await seen.bodyDone).length).toBeLessThanOrEqual(BODY_LIMIT);
      await stillServesH2();
    } finally {
      session.destroy();
    }
  });
});

describe('HTTP/2', () => {
  afterEach(async () => {
    expect(upstreamSaw('smuggled')).toBe(false);
    await stillServesH2();
  });

  const get = (path: string, extra: [string, string][] = []) =>
    [[':method', 'GET'], [':scheme', 'http'], [':authority', 'web'], [':path', path], ...extra] as [
      string,
      string,
    ][];

  it('a partial preface followed by silence is closed at the head timeout', async () => {
    const started = Date.now();
    const raw = await rawExchange(gateway.port, ['PRI * HTTP/2.0\r\n'], { idleMs: 5_000 });
    expect(raw.closedByServer).toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('DATA on stream 0: GOAWAY PROTOCOL_ERROR', async () => {
    const before = upstream.requests.length;
    const result = await h2Raw(gateway.port, [
      frame(FrameType.DATA, 0, 0, Buffer.from('x')),
      requestHeaders(1, get('/case/after-goaway'), true),
    ]);
    expect(result.goaway).toBe(ErrorCode.PROTOCOL_ERROR);
    // Nothing sent after the violation is served, and the connection closes (RFC 9113 §5.4.1).
    expect(result.responded.size).toBe(0);
    expect(result.closedByServer).toBe(true);
    expect(upstream.requests.length).toBe(before);
  });

  it('a WINDOW_UPDATE overflowing the connection window: GOAWAY and close', async () => {
    const result = await h2Raw(gateway.port, [windowUpdate(0, 0x7fffffff)]);
    // RFC 9113 §6.9.1.
    expect(result.goaway).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(result.closedByServer).toBe(true);
  });

  it('a connection-specific field: the stream is reset, nothing goes upstream', async () => {
    const before = upstream.requests.length;
    const result = await h2Raw(gateway.port, [
      requestHeaders(1, get('/case/h2-te', [['transfer-encoding', 'chunked']]), true),
    ]);
    expect(result.resets.get(1) ?? result.goaway).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(result.responded.has(1)).toBe(false);
    expect(upstream.requests.length).toBe(before);
  });

  it('an upper-case field name: the stream is reset, nothing goes upstream', async () => {
    const before = upstream.requests.length;
    const result = await h2Raw(gateway.port, [
      requestHeaders(1, get('/case/h2-upper', [['X-Upper', '1']]), true),
    ]);
    expect(result.resets.get(1) ?? result.goaway).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(upstream.requests.length).toBe(before);
  });

  it('a header list over the field limit is answered 431, nothing goes upstream', async () => {
    const before = upstream.requests.length;
    const many = Array.from({ length: 101 }, (_, i) => [`x-h${i}`, 'v'] as [string, string]);
    const result = await h2Raw(gateway.port, [requestHeaders(1, get('/case/h2-many', many), true)]);
    const head = result.frames.find((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    // Literal (not Huffman-coded) fields: the status and the error tag can be read as text.
    expect(head?.payload.toString('latin1')).toContain('431');
    expect(head?.payload.toString('latin1')).toContain('headers-too-large');
    expect(upstream.requests.length).toBe(before);
  });

  it('a PING flood gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const ping = frame(FrameType.PING, 0, 0, Buffer.alloc(8));
    const result = await h2Raw(
      gateway.port,
      Array.from({ length: 1_100 }, () => ping),
    );
    expect(result.goaway).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(result.closedByServer).toBe(true);
  });

  it('a WINDOW_UPDATE flood (tiny increments, nothing sent) gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const update = windowUpdate(0, 1);
    const result = await h2Raw(
      gateway.port,
      Array.from({ length: 1_100 }, () => update),
    );
    expect(result.goaway).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(result.closedByServer).toBe(true);
    await stillServesH2();
  });

  it('H2.CL: DATA longer than content-length is refused and never parsed as a request', async () => {
    const result = await h2Raw(gateway.port, [
      requestHeaders(
        1,
        [
          [':method', 'POST'],
          [':scheme', 'http'],
          [':authority', 'web'],
          [':path', '/case/h2cl'],
          ['content-length', '5'],
        ],
        false,
      ),
      frame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from(`hello${SMUGGLED}`, 'latin1')),
    ]);
    expect(result.resets.get(1) ?? result.goaway).toBe(ErrorCode.PROTOCOL_ERROR);
    for (const seen of upstream.requests.filter((r) => r.url === '/case/h2cl'))
      expect((await seen.bodyDone).toString()).not.toContain('smuggled');
  });

  it.each([
    ['CANCEL', ErrorCode.CANCEL],
    ['PROTOCOL_ERROR', ErrorCode.PROTOCOL_ERROR],
    ['INTERNAL_ERROR', ErrorCode.INTERNAL_ERROR],
  ])('a client RST_STREAM %s on a pending request cancels it upstream', async (_name, code) => {
    const before = held.length;
    await h2Raw(gateway.port, [requestHeaders(1, get(`/hold/${code}`), true)], {
      later: [rstStream(1, code)],
      gapMs: 300,
      idleMs: 300,
    });
    expect(held.length).toBe(before + 1);
    await waitFor(() => held.at(-1)?.destroyed, {
      timeoutMs: 2_000,
      what: 'the upstream request to be cancelled',
    });
  });

  it('a stream reset in the same packet as its HEADERS never reaches the upstream', async () => {
    const before = upstream.requests.length;
    const connections = upstream.connections();
    const frames: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const id = 1 + 2 * i;
      frames.push(
        requestHeaders(id, get(`/case/reset/${i}`), true),
        rstStream(id, ErrorCode.CANCEL),
      );
    }
    await h2Raw(gateway.port, frames, { idleMs: 500 });
    expect(upstream.requests.length).toBe(before);
    expect(upstream.connections()).toBe(connections);
  });

  it('rapid reset: 2,000 HEADERS + RST_STREAM pairs get GOAWAY ENHANCE_YOUR_CALM', async () => {
    const before = upstream.requests.length;
    const frames: Buffer[] = [];
    for (let i = 0; i < 2_000; i++) {
      const id = 1 + 2 * i;
      frames.push(
        requestHeaders(id, get(`/case/rapid/${i}`), true),
        rstStream(id, ErrorCode.CANCEL),
      );
    }
    const result = await h2Raw(gateway.port, frames, { idleMs: 2_000 });
    expect(result.goaway).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(result.closedByServer).toBe(true);
    // Streams reset in the same read as their HEADERS are never forwarded; the others count
    // towards the guard, which closes the connection at 100 resets.
    expect(upstream.requests.length - before).toBeLessThan(100);
  });

  it('a client that cancels some of its streams keeps its connection', async () => {
    const session = await h2Connect(gateway.port);
    try {
      for (let round = 0; round < 3; round++) {
        const cancelled = Array.from({ length: 40 }, (_, i) => {
          const stream = session.request({
            ':path': `/case/cancel/${round}/${i}`,
            ':authority': 'web',
          });
          stream.on('error', () => undefined);
          stream.close(ErrorCode.CANCEL);
          return stream;
        });
        const served = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            h2Request(session, { authority: 'web', path: `/case/kept/${round}/${i}` }),
          ),
        );
        expect(served.every((r) => r.status === 200)).toBe(true);
        expect(cancelled.length).toBe(40);
      }
      expect(session.destroyed).toBe(false);
    } finally {
      session.destroy();
    }
  });
});
