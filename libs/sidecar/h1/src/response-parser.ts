// Incremental HTTP/1.1 response parser (RFC 9112) for the upstream pool.
//
// Fed socket reads of any size and at any boundary, it reports the response to a sink: 1xx
// informational heads, the final head, body chunks, trailers. Body chunks are views of the
// buffers it was given (never copies, never concatenations); only a head or trailer section
// split across reads is copied, into one reusable buffer bounded by `maxHeaderBytes`.
// Anything that could desynchronise the connection (bad bytes, conflicting framing, oversized
// sections) throws an H1Error `TRL_H1_PARSE_ERROR`; the caller must then discard the socket.
import { H1Error } from './errors.js';
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  FIELD_VALUE,
  HEX,
  TOKEN,
  connectionFlags,
  lowerCaseEquals,
  transferCodings,
} from './http-syntax.js';

export interface ResponseSink {
  /** A 1xx other than 101 (100 Continue, 103 Early Hints, …); the final response follows. */
  onInformational(status: number, reason: string, headers: string[]): void;
  /** The final head (also 101, and 2xx to CONNECT, after which the parser is `upgraded`). */
  onHead(status: number, reason: string, headers: string[], keepAlive: boolean): void;
  /** A view of the caller's buffer: valid as long as that buffer is. */
  onBody(chunk: Buffer): void;
  /** Only called when the chunked body ended with at least one trailer field. */
  onTrailers(trailers: string[]): void;
}

export interface ResponseParserLimits {
  /** Largest head (status line, fields, CRLFs) or trailer section, in bytes. */
  readonly maxHeaderBytes: number;
  /** Most fields in a head or a trailer section. */
  readonly maxHeaderCount: number;
}

export const DEFAULT_PARSER_LIMITS: ResponseParserLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
};

/** What the request implies about its response (flags for `begin`). */
export const EXPECT_NO_BODY = 1; // HEAD: whatever the framing fields say, no body follows
export const EXPECT_CONNECT = 2; // CONNECT: a 2xx turns the connection into a tunnel
export const EXPECT_UPGRADE = 4; // the request asked for an upgrade: 101 is acceptable

/** Chunk extensions are skipped, not surfaced; this bounds the bytes skipped per chunk line. */
const MAX_CHUNK_EXT_BYTES = 4096;
/** Leading zeros are legal in a chunk size; this bounds a line of them. */
const MAX_CHUNK_SIZE_DIGITS = 32;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const SEMI = 0x3b;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const HTTP_1_DOT = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e]; // "HTTP/1."

const S_IDLE = 0;
const S_HEAD = 1;
const S_BODY_LENGTH = 2;
const S_BODY_CLOSE = 3;
const S_CHUNK_SIZE = 4;
const S_CHUNK_SIZE_WS = 5;
const S_CHUNK_EXT = 6;
const S_CHUNK_SIZE_LF = 7;
const S_CHUNK_DATA = 8;
const S_CHUNK_DATA_CR = 9;
const S_CHUNK_DATA_LF = 10;
const S_TRAILER_START = 11;
const S_TRAILER_START_LF = 12;
const S_TRAILERS = 13;
const S_COMPLETE = 14;
const S_UPGRADED = 15;
const S_STOPPED = 16;
const S_FAILED = 17;

export class ResponseParser {
  readonly #maxHeaderBytes: number;
  readonly #maxHeaderCount: number;
  #sink: ResponseSink | null = null;
  #state = S_IDLE;
  #expect = 0;
  #keepAlive = false;
  /** Body bytes left (Content-Length) or bytes left in the current chunk. */
  #remaining = 0;
  #chunkSize = 0;
  #chunkDigits = 0;
  #chunkExtBytes = 0;
  /** Holds a head or trailer section that arrived in pieces. */
  #stash: Buffer | null = null;
  #stashLen = 0;
  /** Where the section found by #findBlockEnd lies (the socket buffer or the stash). */
  #blockSrc: Buffer = CRLFCRLF;
  #blockStart = 0;
  #blockEnd = 0;
  /**
   * The strings of the last section parsed on this connection: a keep-alive upstream repeats
   * most of every head (names, content type, often the length and the date), and a string
   * holding the same bytes is reused instead of decoded again (one allocation and one call
   * into C++ per name and value).
   */
  #lastFields: readonly string[] = [];
  #lastReason = '';

  constructor(limits: ResponseParserLimits = DEFAULT_PARSER_LIMITS) {
    this.#maxHeaderBytes = limits.maxHeaderBytes;
    this.#maxHeaderCount = limits.maxHeaderCount;
  }

  /** Starts reading the response to a new request; `expect` is a set of EXPECT_* flags. */
  begin(sink: ResponseSink, expect: number): void {
    this.#sink = sink;
    this.#expect = expect;
    this.#state = S_HEAD;
    this.#keepAlive = false;
    this.#remaining = 0;
    this.#stashLen = 0;
    this.#resetChunkLine();
  }

  /** The final response ended; bytes after it were not consumed. */
  get complete(): boolean {
    return this.#state === S_COMPLETE;
  }

  /** A 101 (or a 2xx to CONNECT) ended HTTP on this stream; later bytes belong to the new protocol. */
  get upgraded(): boolean {
    return this.#state === S_UPGRADED;
  }

  /** The parser threw: the stream is unusable. */
  get failed(): boolean {
    return this.#state === S_FAILED;
  }

  /** The upstream's final head allows another request on this connection. */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Stops delivering events (the request was aborted from inside a sink call). */
  stop(): void {
    this.#state = S_STOPPED;
    this.#sink = null;
  }

  /**
   * Parses `buf` and returns how many bytes belong to the current response. Fewer than
   * `buf.length` only once `complete`, `upgraded` or stopped: the rest is not this response's.
   */
  execute(buf: Buffer): number {
    const len = buf.length;
    let i = 0;
    while (i < len) {
      switch (this.#state) {
        case S_HEAD: {
          const end = this.#findBlockEnd(buf, i);
          if (end < 0) return len;
          i = end;
          this.#onHeadSection();
          break;
        }
        case S_BODY_LENGTH: {
          const rem = this.#remaining;
          if (len - i < rem) {
            this.#remaining = rem - (len - i);
            (this.#sink as ResponseSink).onBody(i === 0 ? buf : buf.subarray(i));
            return len;
          }
          const end = i + rem;
          this.#remaining = 0;
          this.#state = S_COMPLETE;
          (this.#sink as ResponseSink).onBody(i === 0 && end === len ? buf : buf.subarray(i, end));
          return end;
        }
        case S_BODY_CLOSE:
          (this.#sink as ResponseSink).onBody(i === 0 ? buf : buf.subarray(i));
          return len;
        case S_CHUNK_SIZE: {
          const c = buf[i] as number;
          const digit = HEX[c] as number;
          if (digit >= 0) {
            if (++this.#chunkDigits > MAX_CHUNK_SIZE_DIGITS) this.#fail('chunk size line too long');
            if (this.#chunkSize > (Number.MAX_SAFE_INTEGER - digit) / 16) {
              this.#fail('chunk size too large');
            }
            this.#chunkSize = this.#chunkSize * 16 + digit;
          } else if (this.#chunkDigits === 0) {
            this.#fail('chunk size expected');
          } else if (c === CR) {
            this.#state = S_CHUNK_SIZE_LF;
          } else if (c === SEMI) {
            this.#state = S_CHUNK_EXT;
          } else if (c === SP || c === HTAB) {
            this.#state = S_CHUNK_SIZE_WS;
          } else {
            this.#fail('invalid byte after chunk size');
          }
          i++;
          break;
        }
        case S_CHUNK_SIZE_WS: {
          // BWS before ';' (RFC 9112 §7.1.1); nothing but an extension may follow it.
          const c = buf[i] as number;
          if (c === SEMI) this.#state = S_CHUNK_EXT;
          else if (c === CR) this.#state = S_CHUNK_SIZE_LF;
          else if (c !== SP && c !== HTAB) this.#fail('invalid byte after chunk size');
          if (++this.#chunkExtBytes > MAX_CHUNK_EXT_BYTES) this.#fail('chunk extension too long');
          i++;
          break;
        }
        case S_CHUNK_EXT: {
          while (i < len) {
            const c = buf[i++] as number;
            if (c === CR) {
              this.#state = S_CHUNK_SIZE_LF;
              break;
            }
            if (FIELD_VALUE[c] !== 1) this.#fail('invalid byte in chunk extension');
            if (++this.#chunkExtBytes > MAX_CHUNK_EXT_BYTES) this.#fail('chunk extension too long');
          }
          break;
        }
        case S_CHUNK_SIZE_LF: {
          if (buf[i] !== LF) this.#fail('chunk size line not ended by CRLF');
          i++;
          if (this.#chunkSize === 0) {
            this.#state = S_TRAILER_START;
          } else {
            this.#remaining = this.#chunkSize;
            this.#state = S_CHUNK_DATA;
          }
          this.#resetChunkLine();
          break;
        }
        case S_CHUNK_DATA: {
          const rem = this.#remaining;
          if (len - i <= rem) {
            this.#remaining = rem - (len - i);
            if (this.#remaining === 0) this.#state = S_CHUNK_DATA_CR;
            (this.#sink as ResponseSink).onBody(i === 0 ? buf : buf.subarray(i));
            return len;
          }
          this.#remaining = 0;
          this.#state = S_CHUNK_DATA_CR;
          (this.#sink as ResponseSink).onBody(buf.subarray(i, i + rem));
          i += rem;
          break;
        }
        case S_CHUNK_DATA_CR:
          if (buf[i] !== CR) this.#fail('chunk data not followed by CRLF');
          this.#state = S_CHUNK_DATA_LF;
          i++;
          break;
        case S_CHUNK_DATA_LF:
          if (buf[i] !== LF) this.#fail('chunk data not followed by CRLF');
          this.#state = S_CHUNK_SIZE;
          i++;
          break;
        case S_TRAILER_START:
          // The common end "0\r\n\r\n" needs no section scan.
          if (buf[i] === CR) {
            this.#state = S_TRAILER_START_LF;
            i++;
          } else {
            this.#state = S_TRAILERS;
          }
          break;
        case S_TRAILER_START_LF:
          if (buf[i] !== LF) this.#fail('chunked body not ended by CRLF');
          this.#state = S_COMPLETE;
          return i + 1;
        case S_TRAILERS: {
          const end = this.#findBlockEnd(buf, i);
          if (end < 0) return len;
          const trailers = this.#parseFields(this.#blockSrc, this.#blockStart, this.#blockEnd - 2);
          this.#state = S_COMPLETE;
          (this.#sink as ResponseSink).onTrailers(trailers);
          return end;
        }
        default:
          // idle, complete, upgraded, stopped, failed: nothing more is ours to read
          return i;
      }
    }
    return i;
  }

  /**
   * The upstream closed its side. Returns true when that ends the response (a body read until
   * close); false when the response is cut short (or never began).
   */
  finish(): boolean {
    if (this.#state !== S_BODY_CLOSE) return false;
    this.#state = S_COMPLETE;
    return true;
  }

  #resetChunkLine(): void {
    this.#chunkSize = 0;
    this.#chunkDigits = 0;
    this.#chunkExtBytes = 0;
  }

  #fail(message: string): never {
    this.#state = S_FAILED;
    this.#sink = null;
    throw new H1Error('TRL_H1_PARSE_ERROR', message);
  }

  /**
   * Finds the CRLF CRLF ending a head or trailer section that starts at buf[i] (or continues
   * stashed bytes). Returns the index in `buf` just past it and records where the whole section
   * lies; returns -1 after stashing what it has.
   */
  #findBlockEnd(buf: Buffer, i: number): number {
    const limit = this.#maxHeaderBytes;
    const prev = this.#stashLen;
    if (prev === 0) {
      const at = buf.indexOf(CRLFCRLF, i);
      if (at >= 0) {
        if (at + 4 - i > limit) this.#fail('header section too large');
        this.#blockSrc = buf;
        this.#blockStart = i;
        this.#blockEnd = at + 4;
        return at + 4;
      }
      const rest = buf.length - i;
      if (rest >= limit) this.#fail('header section too large');
      const stash = (this.#stash ??= Buffer.allocUnsafe(limit));
      buf.copy(stash, 0, i);
      this.#stashLen = rest;
      return -1;
    }
    const stash = this.#stash as Buffer;
    const take = Math.min(limit - prev, buf.length - i);
    buf.copy(stash, prev, i, i + take);
    const filled = prev + take;
    // The terminator may straddle the old and the new bytes: look back three.
    const at = stash.subarray(0, filled).indexOf(CRLFCRLF, Math.max(0, prev - 3));
    if (at >= 0) {
      this.#blockSrc = stash;
      this.#blockStart = 0;
      this.#blockEnd = at + 4;
      this.#stashLen = 0;
      return i + (at + 4 - prev);
    }
    if (filled >= limit) this.#fail('header section too large');
    this.#stashLen = filled;
    return -1;
  }

  #onHeadSection(): void {
    const src = this.#blockSrc;
    const start = this.#blockStart;
    const end = this.#blockEnd;
    // Shortest valid head: "HTTP/1.1 200\r\n\r\n".
    if (end - start < 16) this.#fail('invalid status line');
    for (let k = 0; k < 7; k++) {
      if (src[start + k] !== HTTP_1_DOT[k]) this.#fail('invalid status line');
    }
    const minor = src[start + 7] as number;
    if ((minor !== 0x30 && minor !== 0x31) || src[start + 8] !== SP) {
      this.#fail('unsupported HTTP version');
    }
    const d1 = (src[start + 9] as number) - 0x30;
    const d2 = (src[start + 10] as number) - 0x30;
    const d3 = (src[start + 11] as number) - 0x30;
    if (d1 < 1 || d1 > 5 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) this.#fail('invalid status code');
    const status = d1 * 100 + d2 * 10 + d3;
    let p = start + 12;
    let reason = '';
    if (src[p] === SP) {
      const reasonStart = ++p;
      while (FIELD_VALUE[src[p] as number] === 1) p++;
      if (p > reasonStart) {
        reason = reuse(this.#lastReason, src, reasonStart, p);
        this.#lastReason = reason;
      }
    }
    if (src[p] !== CR || src[p + 1] !== LF) this.#fail('invalid status line');
    const headers = this.#parseFields(src, p + 2, end - 2);
    this.#stashLen = 0;

    let contentLength = -1;
    let codings: string[] | null = null;
    let connection = 0;
    for (let k = 0; k < headers.length; k += 2) {
      const name = headers[k] as string;
      const n = name.length;
      if (n === 14) {
        if (lowerCaseEquals(name, 'content-length')) {
          contentLength = this.#contentLength(headers[k + 1] as string, contentLength);
        }
      } else if (n === 17) {
        if (lowerCaseEquals(name, 'transfer-encoding')) {
          transferCodings(headers[k + 1] as string, (codings ??= []));
        }
      } else if (n === 10) {
        if (lowerCaseEquals(name, 'connection')) {
          connection |= connectionFlags(headers[k + 1] as string);
        }
      }
    }

    const sink = this.#sink as ResponseSink;
    if (status < 200) {
      if (status === 101) {
        if ((this.#expect & EXPECT_UPGRADE) === 0) this.#fail('101 to a request without Upgrade');
        this.#state = S_UPGRADED;
        sink.onHead(status, reason, headers, false);
      } else {
        // Informational: the final response follows; stay in S_HEAD.
        sink.onInformational(status, reason, headers);
      }
      return;
    }

    const http11 = minor === 0x31;
    if (codings !== null) {
      // RFC 9112 §6.1/§6.3: both framings at once, or chunked on 1.0, smell of smuggling.
      if (contentLength >= 0) this.#fail('both Content-Length and Transfer-Encoding');
      if (!http11) this.#fail('Transfer-Encoding in an HTTP/1.0 response');
      if (codings.length === 0) this.#fail('empty Transfer-Encoding');
    }
    let keepAlive = http11
      ? (connection & CONN_CLOSE) === 0
      : (connection & CONN_KEEP_ALIVE) !== 0 && (connection & CONN_CLOSE) === 0;
    let next: number;
    if ((this.#expect & EXPECT_CONNECT) !== 0 && status < 300) {
      next = S_UPGRADED;
      keepAlive = false;
    } else if ((this.#expect & EXPECT_NO_BODY) !== 0 || status === 204 || status === 304) {
      next = S_COMPLETE;
    } else if (codings !== null) {
      let chunked = 0;
      for (const coding of codings) if (coding === 'chunked') chunked++;
      if (chunked > 1) this.#fail('chunked applied more than once');
      if (codings[codings.length - 1] === 'chunked') {
        next = S_CHUNK_SIZE;
      } else {
        // §6.3: a response whose final coding is not chunked runs until the close.
        next = S_BODY_CLOSE;
        keepAlive = false;
      }
    } else if (contentLength > 0) {
      this.#remaining = contentLength;
      next = S_BODY_LENGTH;
    } else if (contentLength === 0) {
      next = S_COMPLETE;
    } else {
      next = S_BODY_CLOSE;
      keepAlive = false;
    }
    this.#keepAlive = keepAlive;
    this.#state = next;
    sink.onHead(status, reason, headers, keepAlive);
  }

  /** One Content-Length field (maybe a list of equal values) folded into the previous value. */
  #contentLength(value: string, previous: number): number {
    if (!value.includes(',')) return this.#lengthValue(value, previous);
    let result = previous;
    for (const part of value.split(',')) result = this.#lengthValue(part.trim(), result);
    return result;
  }

  #lengthValue(digits: string, previous: number): number {
    if (digits.length === 0 || digits.length > 15) this.#fail('invalid Content-Length');
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 0x30 || c > 0x39) this.#fail('invalid Content-Length');
    }
    const n = Number(digits);
    if (previous >= 0 && n !== previous) this.#fail('conflicting Content-Length values');
    return n;
  }

  /** Field lines in src[p, stop), each ended by CRLF, as a flat [name, value, …] array. */
  #parseFields(src: Buffer, p: number, stop: number): string[] {
    const out: string[] = [];
    let count = 0;
    while (p < stop) {
      let q = p;
      const first = src[p] as number;
      if (first === SP || first === HTAB) {
        // obs-fold (§5.2): the continuation joins the previous value with one SP.
        if (out.length === 0) this.#fail('folded line before any field');
        while (src[q] === SP || src[q] === HTAB) q++;
        const vs = q;
        while (FIELD_VALUE[src[q] as number] === 1) q++;
        if (src[q] !== CR || src[q + 1] !== LF) this.#fail('invalid byte in field value');
        let ve = q;
        while (ve > vs && (src[ve - 1] === SP || src[ve - 1] === HTAB)) ve--;
        if (ve > vs) {
          const last = out.length - 1;
          const prev = out[last] as string;
          const more = src.toString('latin1', vs, ve);
          out[last] = prev.length === 0 ? more : `${prev} ${more}`;
        }
        p = q + 2;
        continue;
      }
      while (TOKEN[src[q] as number] === 1) q++;
      if (q === p || src[q] !== COLON) this.#fail('invalid field name');
      const last = this.#lastFields;
      const name = reuse(last[out.length], src, p, q);
      q++;
      while (src[q] === SP || src[q] === HTAB) q++;
      const vs = q;
      while (FIELD_VALUE[src[q] as number] === 1) q++;
      if (src[q] !== CR || src[q + 1] !== LF) this.#fail('invalid byte in field value');
      let ve = q;
      while (ve > vs && (src[ve - 1] === SP || src[ve - 1] === HTAB)) ve--;
      if (++count > this.#maxHeaderCount) this.#fail('too many header fields');
      out.push(name, ve > vs ? reuse(last[out.length + 1], src, vs, ve) : '');
      p = q + 2;
    }
    this.#lastFields = out;
    return out;
  }
}

/** `previous` when it holds exactly the latin1 bytes src[start, end), else a new string of them. */
function reuse(previous: string | undefined, src: Buffer, start: number, end: number): string {
  if (previous !== undefined && previous.length === end - start) {
    let i = 0;
    while (i < previous.length && previous.charCodeAt(i) === src[start + i]) i++;
    if (i === previous.length) return previous;
  }
  return src.toString('latin1', start, end);
}
