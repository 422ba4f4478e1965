// Incremental, strict HTTP/1.1 request parser (RFC 9112) for the downstream server.
//
// Fed socket reads of any size and at any boundary, it returns the head as a RequestHead and
// hands body chunks and trailers to a sink. Body chunks are views of the buffers it was given
// (never copies); only a head or trailer section split across reads is copied, into one
// reusable buffer bounded by `maxHeaderBytes`. It stops after each head, after each body chunk
// if the sink asked it to (`suspend`), and at the end of each message, so the caller decides
// when the body and the next pipelined request are read.
//
// Anything that could desynchronise the connection or make two parsers disagree about where a
// request ends (request smuggling) throws an H1ServerError `TRL_H1S_BAD_REQUEST` whose `reason`
// names the defect and whose `status` is the answer: 400, 413 and 431 (limits), 501 (codings),
// 505.
import { badRequest } from './errors.js';
import type { RefusalStatus } from './errors.js';
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  FIELD_VALUE,
  HEX,
  TARGET,
  TOKEN,
  connectionFlags,
  trimOws,
} from './http-syntax.js';
import { checkHost, splitTarget } from './request-head.js';
import type { RequestHead } from './request-head.js';

export interface RequestBodySink {
  /** A view of the caller's buffer: valid as long as that buffer is. */
  onBody(chunk: Buffer): void;
  /** The message ended; `trailers` only when a chunked body ended with trailer fields. */
  onEnd(trailers: string[] | null): void;
}

export interface RequestParserLimits {
  /** Largest head (request line, fields, CRLFs) or trailer section, in bytes. */
  readonly maxHeaderBytes: number;
  /** Most fields in a head or a trailer section. */
  readonly maxHeaderCount: number;
  /** Largest body (Content-Length, or the sum of chunk sizes); Infinity when absent. */
  readonly maxBodyBytes?: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestParserLimits = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 100,
});

/** Chunk extensions are skipped, not surfaced; this bounds the bytes skipped per chunk line. */
const MAX_CHUNK_EXT_BYTES = 4096;
/** Leading zeros are legal in a chunk size; this bounds a line of them. */
const MAX_CHUNK_SIZE_DIGITS = 32;
/** A stash that grew past this for one large head is dropped once the head is parsed. */
const STASH_KEEP_BYTES = 8 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const SEMI = 0x3b;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"

const S_START = 0; // before the request line: empty lines (CRLF) are skipped (RFC 9112 §2.2)
const S_START_LF = 1;
const S_HEAD = 2;
const S_BODY_LENGTH = 3;
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
const S_FAILED = 15;

/** What one field line told the head parser (names compared after lower-casing). */
const F_OTHER = 0;
const F_HOST = 1;
const F_CONTENT_LENGTH = 2;
const F_TRANSFER_ENCODING = 3;
const F_CONNECTION = 4;
const F_UPGRADE = 5;
const F_EXPECT = 6;

function fieldKind(name: string): number {
  switch (name.length) {
    case 4:
      return name === 'host' ? F_HOST : F_OTHER;
    case 6:
      return name === 'expect' ? F_EXPECT : F_OTHER;
    case 7:
      return name === 'upgrade' ? F_UPGRADE : F_OTHER;
    case 10:
      return name === 'connection' ? F_CONNECTION : F_OTHER;
    case 14:
      return name === 'content-length' ? F_CONTENT_LENGTH : F_OTHER;
    case 17:
      return name === 'transfer-encoding' ? F_TRANSFER_ENCODING : F_OTHER;
    default:
      return F_OTHER;
  }
}

/** The common methods as interned strings, so the hot path allocates none for them. */
function methodOf(src: Buffer, start: number, end: number, text: string): string {
  const n = end - start;
  const c0 = src[start];
  if (n === 3 && c0 === 0x47 && src[start + 1] === 0x45 && src[start + 2] === 0x54) return 'GET';
  if (n === 4 && c0 === 0x50 && src[start + 1] === 0x4f && src[start + 2] === 0x53) {
    if (src[start + 3] === 0x54) return 'POST';
  }
  if (n === 4 && c0 === 0x48 && src[start + 1] === 0x45 && src[start + 2] === 0x41) {
    if (src[start + 3] === 0x44) return 'HEAD';
  }
  return text.slice(0, n);
}

/**
 * Lower-cased field names by their spelling on the wire ("User-Agent" → "user-agent"), so the
 * usual mixed-case names cost a map lookup, not a new string per request. Bounded: once full,
 * names not in it are lower-cased each time (a client cannot grow it without limit).
 */
const lowerNames = new Map<string, string>();
const LOWER_NAMES_MAX = 512;

function lowerName(raw: string): string {
  let lower = lowerNames.get(raw);
  if (lower === undefined) {
    lower = raw.toLowerCase();
    // `raw` may be a slice that pins the whole head in memory: the key is a fresh copy.
    if (lowerNames.size < LOWER_NAMES_MAX) {
      lowerNames.set(Buffer.from(raw, 'latin1').toString('latin1'), lower);
    }
  }
  return lower;
}

/**
 * Names the defect at src[q], a byte that ended a field or line element where it should not
 * have: a bare LF, a bare CR, or any other byte not allowed there.
 */
function lineEndDefect(src: Buffer, q: number, what: string): never {
  const c = src[q];
  if (c === LF) badRequest('bare-lf', 'line ended by a bare LF');
  if (c === CR && src[q + 1] !== LF) badRequest('bare-cr', 'bare CR');
  return badRequest(`invalid-${what}`, `invalid byte 0x${(c ?? 0).toString(16)} in ${what}`);
}

export class RequestParser {
  readonly #sink: RequestBodySink;
  readonly #maxHeaderBytes: number;
  readonly #maxHeaderCount: number;
  readonly #maxBodyBytes: number;
  #state = S_START;
  #suspended = false;
  #head: RequestHead | null = null;
  /** Body bytes left (Content-Length) or bytes left in the current chunk. */
  #remaining = 0;
  #chunkSize = 0;
  /** Sum of the chunk sizes seen in this message, against maxBodyBytes. */
  #chunkedBytes = 0;
  #chunkDigits = 0;
  #chunkExtBytes = 0;
  /** Empty lines skipped before the request line. */
  #skipped = 0;
  /** Holds a head or trailer section that arrived in pieces. */
  #stash: Buffer | null = null;
  #stashLen = 0;
  /** The last byte stashed, for the bare CR/LF check across reads. */
  #lastByte = -1;
  /** Where the section found by #findBlockEnd lies (the caller's buffer or the stash). */
  #blockSrc: Buffer = CRLFCRLF;
  #blockStart = 0;
  #blockEnd = 0;

  constructor(sink: RequestBodySink, limits: RequestParserLimits = DEFAULT_REQUEST_LIMITS) {
    this.#sink = sink;
    this.#maxHeaderBytes = limits.maxHeaderBytes;
    this.#maxHeaderCount = limits.maxHeaderCount;
    this.#maxBodyBytes = limits.maxBodyBytes ?? Infinity;
  }

  /** At least one byte of the current request has been consumed. */
  get started(): boolean {
    return this.#state !== S_START || this.#skipped > 0;
  }

  /** The message (head and body) is complete; bytes after it were not consumed. */
  get complete(): boolean {
    return this.#state === S_COMPLETE;
  }

  get failed(): boolean {
    return this.#state === S_FAILED;
  }

  /** The head parsed by the last execute() that returned one; null until then. */
  takeHead(): RequestHead | null {
    const head = this.#head;
    this.#head = null;
    return head;
  }

  /** Makes the running execute() return after the current sink call (reader paused). */
  suspend(): void {
    this.#suspended = true;
  }

  /** Readies the parser for the next request on the connection. */
  reset(): void {
    this.#state = S_START;
    this.#head = null;
    this.#remaining = 0;
    this.#chunkedBytes = 0;
    this.#skipped = 0;
    this.#stashLen = 0;
    this.#lastByte = -1;
    this.#resetChunkLine();
  }

  /**
   * Parses buf[start…] and returns the index after the last byte consumed. It returns early,
   * with bytes left, after a head (see takeHead), at the end of the message, and after a body
   * chunk once suspend() was called.
   */
  execute(buf: Buffer, start: number): number {
    const len = buf.length;
    let i = start;
    this.#suspended = false;
    while (i < len) {
      switch (this.#state) {
        case S_START: {
          const c = buf[i] as number;
          if (c === CR) {
            if ((this.#skipped += 2) > this.#maxHeaderBytes) this.#tooLarge();
            this.#state = S_START_LF;
            i++;
          } else if (c === LF) {
            this.#fail('bare-lf', 'line ended by a bare LF');
          } else {
            this.#state = S_HEAD;
          }
          break;
        }
        case S_START_LF:
          if (buf[i] !== LF) this.#fail('bare-cr', 'bare CR');
          this.#state = S_START;
          i++;
          break;
        case S_HEAD: {
          const end = this.#findBlockEnd(buf, i);
          if (end < 0) return len;
          try {
            this.#onHeadSection();
          } catch (error) {
            this.#state = S_FAILED;
            throw error;
          }
          return end;
        }
        case S_BODY_LENGTH: {
          const rem = this.#remaining;
          if (len - i < rem) {
            this.#remaining = rem - (len - i);
            this.#sink.onBody(i === 0 ? buf : buf.subarray(i));
            return len;
          }
          const end = i + rem;
          this.#remaining = 0;
          this.#state = S_COMPLETE;
          this.#sink.onBody(i === 0 && end === len ? buf : buf.subarray(i, end));
          this.#sink.onEnd(null);
          return end;
        }
        case S_CHUNK_SIZE: {
          const c = buf[i] as number;
          const digit = HEX[c] as number;
          if (digit >= 0) {
            if (++this.#chunkDigits > MAX_CHUNK_SIZE_DIGITS) {
              this.#fail('chunk-size-too-large', 'chunk size line too long');
            }
            if (this.#chunkSize > (Number.MAX_SAFE_INTEGER - digit) / 16) {
              this.#fail('chunk-size-too-large', 'chunk size overflows');
            }
            this.#chunkSize = this.#chunkSize * 16 + digit;
          } else if (this.#chunkDigits === 0) {
            this.#fail('invalid-chunk-size', 'chunk size expected');
          } else if (c === CR) {
            this.#state = S_CHUNK_SIZE_LF;
          } else if (c === SEMI) {
            this.#state = S_CHUNK_EXT;
          } else if (c === SP || c === HTAB) {
            this.#state = S_CHUNK_SIZE_WS;
          } else if (c === LF) {
            this.#fail('bare-lf', 'chunk size line ended by a bare LF');
          } else {
            this.#fail('invalid-chunk-size', 'invalid byte after chunk size');
          }
          i++;
          break;
        }
        case S_CHUNK_SIZE_WS: {
          // BWS before ';' (RFC 9112 §7.1.1); nothing but an extension may follow it.
          const c = buf[i] as number;
          if (c === SEMI) this.#state = S_CHUNK_EXT;
          else if (c === CR) this.#state = S_CHUNK_SIZE_LF;
          else if (c === LF) this.#fail('bare-lf', 'chunk size line ended by a bare LF');
          else if (c !== SP && c !== HTAB) this.#fail('invalid-chunk-size', 'invalid chunk size');
          if (++this.#chunkExtBytes > MAX_CHUNK_EXT_BYTES) {
            this.#fail('chunk-extension-too-long', 'chunk extension too long');
          }
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
            if (c === LF) this.#fail('bare-lf', 'chunk extension ended by a bare LF');
            if (FIELD_VALUE[c] !== 1) {
              this.#fail('invalid-chunk-extension', 'invalid byte in chunk extension');
            }
            if (++this.#chunkExtBytes > MAX_CHUNK_EXT_BYTES) {
              this.#fail('chunk-extension-too-long', 'chunk extension too long');
            }
          }
          break;
        }
        case S_CHUNK_SIZE_LF: {
          if (buf[i] !== LF) this.#fail('bare-cr', 'bare CR in chunk size line');
          i++;
          if (this.#chunkSize === 0) {
            this.#state = S_TRAILER_START;
          } else {
            // Refused before any byte of the chunk that would pass the limit is delivered.
            if ((this.#chunkedBytes += this.#chunkSize) > this.#maxBodyBytes) this.#bodyTooLarge();
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
            this.#sink.onBody(i === 0 ? buf : buf.subarray(i));
            return len;
          }
          this.#remaining = 0;
          this.#state = S_CHUNK_DATA_CR;
          this.#sink.onBody(buf.subarray(i, i + rem));
          i += rem;
          if (this.#suspended) return i;
          break;
        }
        case S_CHUNK_DATA_CR: {
          const c = buf[i];
          if (c !== CR) {
            if (c === LF) this.#fail('bare-lf', 'chunk data ended by a bare LF');
            this.#fail('invalid-chunk-data', 'chunk data longer than its size');
          }
          this.#state = S_CHUNK_DATA_LF;
          i++;
          break;
        }
        case S_CHUNK_DATA_LF:
          if (buf[i] !== LF) this.#fail('bare-cr', 'bare CR after chunk data');
          this.#state = S_CHUNK_SIZE;
          i++;
          break;
        case S_TRAILER_START: {
          // The common end "0\r\n\r\n" needs no section scan.
          const c = buf[i];
          if (c === CR) {
            this.#state = S_TRAILER_START_LF;
            i++;
          } else if (c === LF) {
            this.#fail('bare-lf', 'chunked body ended by a bare LF');
          } else if (c === SP || c === HTAB) {
            this.#fail('obs-fold', 'folded trailer line');
          } else {
            this.#state = S_TRAILERS;
          }
          break;
        }
        case S_TRAILER_START_LF:
          if (buf[i] !== LF) this.#fail('bare-cr', 'bare CR at the end of the chunked body');
          this.#state = S_COMPLETE;
          this.#sink.onEnd(null);
          return i + 1;
        case S_TRAILERS: {
          const end = this.#findBlockEnd(buf, i);
          if (end < 0) return len;
          try {
            this.#onTrailerSection();
          } catch (error) {
            this.#state = S_FAILED;
            throw error;
          }
          return end;
        }
        default:
          // complete or failed: nothing more is this message's
          return i;
      }
    }
    return i;
  }

  #resetChunkLine(): void {
    this.#chunkSize = 0;
    this.#chunkDigits = 0;
    this.#chunkExtBytes = 0;
  }

  #fail(reason: string, message: string, status: RefusalStatus = 400): never {
    this.#state = S_FAILED;
    badRequest(reason, message, status);
  }

  #bodyTooLarge(): never {
    this.#fail('body-too-large', `request body larger than ${this.#maxBodyBytes} bytes`, 413);
  }

  #tooLarge(): never {
    this.#fail('headers-too-large', 'header section too large', 431);
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
        if (at + 4 - i > limit) this.#tooLarge();
        this.#blockSrc = buf;
        this.#blockStart = i;
        this.#blockEnd = at + 4;
        return at + 4;
      }
      const rest = buf.length - i;
      if (rest >= limit) this.#tooLarge();
      this.#checkLineEnds(buf, i, buf.length);
      buf.copy(this.#stashFor(rest), 0, i);
      this.#stashLen = rest;
      return -1;
    }
    const take = Math.min(limit - prev, buf.length - i);
    const stash = this.#stashFor(prev + take);
    buf.copy(stash, prev, i, i + take);
    const filled = prev + take;
    // The terminator may straddle the old and the new bytes: look back three.
    const at = stash.subarray(0, filled).indexOf(CRLFCRLF, Math.max(0, prev - 3));
    if (at >= 0) {
      this.#blockSrc = stash;
      this.#blockStart = 0;
      this.#blockEnd = at + 4;
      this.#stashLen = 0;
      this.#lastByte = -1;
      return i + (at + 4 - prev);
    }
    if (filled >= limit) this.#tooLarge();
    this.#checkLineEnds(buf, i, i + take);
    this.#stashLen = filled;
    return -1;
  }

  /**
   * A section still without its end is checked for bare CR and bare LF as it arrives: a client
   * that ends lines with LF alone never sends CRLF CRLF and would otherwise wait for a timeout.
   */
  #checkLineEnds(buf: Buffer, from: number, to: number): void {
    let prev = this.#lastByte;
    for (let k = from; k < to; k++) {
      const c = buf[k] as number;
      if (c === LF && prev !== CR) this.#fail('bare-lf', 'line ended by a bare LF');
      if (prev === CR && c !== LF) this.#fail('bare-cr', 'bare CR');
      prev = c;
    }
    this.#lastByte = prev;
  }

  /** The stash, grown to hold at least `size` bytes (up to the head limit). */
  #stashFor(size: number): Buffer {
    const stash = this.#stash;
    if (stash !== null && stash.length >= size) return stash;
    const grown = Buffer.allocUnsafe(
      Math.min(this.#maxHeaderBytes, Math.max(size, 2 * (stash?.length ?? 2048))),
    );
    if (stash !== null && this.#stashLen > 0) stash.copy(grown, 0, 0, this.#stashLen);
    this.#stash = grown;
    return grown;
  }

  #releaseStash(): void {
    if (this.#blockSrc === this.#stash && (this.#stash?.length ?? 0) > STASH_KEEP_BYTES) {
      this.#stash = null;
    }
    this.#blockSrc = CRLFCRLF;
  }

  #onHeadSection(): void {
    const src = this.#blockSrc;
    const start = this.#blockStart;
    const end = this.#blockEnd;
    if (end - start + this.#skipped > this.#maxHeaderBytes) this.#tooLarge();
    // One native call decodes the whole head; fields are slices of it (no call per field).
    const text = src.toString('latin1', start, end);

    // method SP request-target SP HTTP-version CRLF, single spaces (RFC 9112 §3).
    let p = start;
    while (TOKEN[src[p] as number] !== 0) p++;
    if (p === start || src[p] !== SP) {
      if (p === start) lineEndDefect(src, p, 'request-line');
      badRequest('invalid-method', 'invalid method');
    }
    const method = methodOf(src, start, p, text);
    const ts = ++p;
    while (TARGET[src[p] as number] === 1) p++;
    if (src[p] !== SP || p === ts) {
      if (p === ts) badRequest('invalid-request-line', 'malformed request line');
      lineEndDefect(src, p, 'target');
    }
    const rawTarget = text.slice(ts - start, p - start);
    p++;
    for (let k = 0; k < 5; k++) {
      if (src[p + k] !== HTTP_SLASH[k]) badRequest('invalid-version', 'malformed HTTP version');
    }
    const major = (src[p + 5] as number) - 0x30;
    const minor = (src[p + 7] as number) - 0x30;
    if (!(major >= 0 && major <= 9) || src[p + 6] !== 0x2e || !(minor >= 0 && minor <= 9)) {
      badRequest('invalid-version', 'malformed HTTP version');
    }
    p += 8;
    if (src[p] !== CR || src[p + 1] !== LF) {
      const c = src[p];
      if (c === CR || c === LF) lineEndDefect(src, p, 'version');
      badRequest('invalid-version', 'malformed HTTP version');
    }
    if (major !== 1 || minor > 1) {
      badRequest('unsupported-version', `HTTP/${major}.${minor} is not supported`, 505);
    }
    p += 2;

    // Fields, with the framing and connection facts picked out as they pass.
    const headers: string[] = [];
    const stop = end - 2;
    const max = this.#maxHeaderCount;
    let host: string | undefined;
    let contentLength = -1;
    let te: string | undefined;
    let connection = 0;
    let upgrade = '';
    let expectContinue = false;
    while (p < stop) {
      const first = src[p] as number;
      if (first === SP || first === HTAB) badRequest('obs-fold', 'folded field line (obs-fold)');
      let q = p;
      let upper = 0;
      for (
        let t = TOKEN[src[q] as number] as number;
        t !== 0;
        t = TOKEN[src[q] as number] as number
      ) {
        upper |= t;
        q++;
      }
      if (src[q] !== COLON || q === p) {
        const c = src[q];
        if (q > p && (c === SP || c === HTAB)) {
          badRequest('whitespace-before-colon', 'whitespace between field name and colon');
        }
        if (q === p && c !== COLON) lineEndDefect(src, q, 'field-name');
        badRequest('invalid-field-name', 'invalid byte in field name');
      }
      const raw = text.slice(p - start, q - start);
      const name = (upper & 2) !== 0 ? lowerName(raw) : raw;
      q++;
      while (src[q] === SP || src[q] === HTAB) q++;
      const vs = q;
      while (FIELD_VALUE[src[q] as number] === 1) q++;
      if (src[q] !== CR || src[q + 1] !== LF) lineEndDefect(src, q, 'field-value');
      let ve = q;
      while (ve > vs && (src[ve - 1] === SP || src[ve - 1] === HTAB)) ve--;
      if (headers.length >= 2 * max) {
        badRequest('too-many-headers', `more than ${max} header fields`, 431);
      }
      const value = ve > vs ? text.slice(vs - start, ve - start) : '';
      headers.push(name, value);
      p = q + 2;
      switch (fieldKind(name)) {
        case F_HOST:
          if (host !== undefined) badRequest('duplicate-host', 'more than one Host field');
          host = value;
          break;
        case F_CONTENT_LENGTH:
          if (contentLength >= 0) {
            badRequest('duplicate-content-length', 'more than one Content-Length field');
          }
          contentLength = parseContentLength(value);
          break;
        case F_TRANSFER_ENCODING:
          te = te === undefined ? value : `${te},${value}`;
          break;
        case F_CONNECTION:
          connection |= connectionFlags(value);
          break;
        case F_UPGRADE:
          upgrade = upgrade === '' ? value : `${upgrade}, ${value}`;
          break;
        case F_EXPECT:
          if (value.length === 12 && value.toLowerCase() === '100-continue') expectContinue = true;
          break;
      }
    }

    // Framing (RFC 9112 §6.3): exactly one way to find the end of the body, or none.
    let chunked = false;
    if (te !== undefined) {
      if (contentLength >= 0) {
        badRequest(
          'content-length-with-transfer-encoding',
          'both Content-Length and Transfer-Encoding',
        );
      }
      if (minor === 0) {
        badRequest('transfer-encoding-in-http10', 'Transfer-Encoding in an HTTP/1.0 request');
      }
      checkTransferEncoding(te);
      chunked = true;
    }

    if (host === undefined) {
      if (minor === 1) badRequest('missing-host', 'HTTP/1.1 request without Host');
    } else {
      checkHost(host);
    }
    let target = rawTarget;
    let authority = host ?? '';
    // Origin-form (the common case) needs no splitting.
    if (rawTarget.charCodeAt(0) !== 0x2f || method === 'CONNECT') {
      const split = splitTarget(method, rawTarget);
      target = split.target;
      if (split.authority !== undefined) authority = split.authority;
    }

    // Refused from the head alone: nothing of this request is dispatched.
    if (contentLength > this.#maxBodyBytes) this.#bodyTooLarge();
    const http11 = minor === 1;
    this.#head = {
      method,
      rawTarget,
      target,
      authority,
      versionMinor: minor,
      headers,
      contentLength,
      chunked,
      hasBody: chunked || contentLength > 0,
      keepAlive: http11
        ? (connection & CONN_CLOSE) === 0
        : (connection & CONN_KEEP_ALIVE) !== 0 && (connection & CONN_CLOSE) === 0,
      // RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored.
      upgrade: http11 && (connection & CONN_UPGRADE) !== 0 ? upgrade : '',
      expectContinue: http11 && expectContinue,
    };
    this.#releaseStash();
    if (chunked) {
      this.#state = S_CHUNK_SIZE;
    } else if (contentLength > 0) {
      this.#remaining = contentLength;
      this.#state = S_BODY_LENGTH;
    } else {
      this.#state = S_COMPLETE;
    }
  }

  #onTrailerSection(): void {
    const src = this.#blockSrc;
    const start = this.#blockStart;
    let p = start;
    const stop = this.#blockEnd - 2;
    const text = src.toString('latin1', start, stop);
    const trailers: string[] = [];
    const max = this.#maxHeaderCount;
    while (p < stop) {
      const first = src[p] as number;
      if (first === SP || first === HTAB) badRequest('obs-fold', 'folded trailer line (obs-fold)');
      let q = p;
      let upper = 0;
      for (
        let t = TOKEN[src[q] as number] as number;
        t !== 0;
        t = TOKEN[src[q] as number] as number
      ) {
        upper |= t;
        q++;
      }
      if (src[q] !== COLON || q === p) {
        const c = src[q];
        if (q > p && (c === SP || c === HTAB)) {
          badRequest('whitespace-before-colon', 'whitespace between field name and colon');
        }
        if (q === p && c !== COLON) lineEndDefect(src, q, 'field-name');
        badRequest('invalid-field-name', 'invalid byte in trailer name');
      }
      const raw = text.slice(p - start, q - start);
      const name = (upper & 2) !== 0 ? lowerName(raw) : raw;
      q++;
      while (src[q] === SP || src[q] === HTAB) q++;
      const vs = q;
      while (FIELD_VALUE[src[q] as number] === 1) q++;
      if (src[q] !== CR || src[q + 1] !== LF) lineEndDefect(src, q, 'field-value');
      let ve = q;
      while (ve > vs && (src[ve - 1] === SP || src[ve - 1] === HTAB)) ve--;
      if (trailers.length >= 2 * max) {
        badRequest('too-many-headers', `more than ${max} trailer fields`, 431);
      }
      trailers.push(name, ve > vs ? text.slice(vs - start, ve - start) : '');
      p = q + 2;
    }
    this.#releaseStash();
    this.#state = S_COMPLETE;
    this.#sink.onEnd(trailers);
  }
}

/** Content-Length: 1*DIGIT, nothing else (no sign, no list, no spaces inside). */
function parseContentLength(value: string): number {
  const n = value.length;
  if (n === 0 || n > 15) badRequest('invalid-content-length', 'invalid Content-Length');
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) badRequest('invalid-content-length', 'invalid Content-Length');
  }
  return Number(value);
}

/**
 * The joined Transfer-Encoding list (RFC 9112 §6.1): elements are OWS-trimmed, lower-cased
 * tokens, empty ones dropped; `chunked` must come last and once. Codings before it are valid
 * HTTP the proxy cannot forward faithfully: 501.
 */
function checkTransferEncoding(te: string): void {
  const codings: string[] = [];
  for (const raw of te.split(',')) {
    const coding = trimOws(raw).toLowerCase();
    if (coding.length === 0) continue;
    for (let i = 0; i < coding.length; i++) {
      const c = coding.charCodeAt(i);
      if (c > 0xff || TOKEN[c] === 0) {
        badRequest('invalid-transfer-encoding', 'invalid Transfer-Encoding element');
      }
    }
    codings.push(coding);
  }
  if (codings.length === 0) badRequest('invalid-transfer-encoding', 'empty Transfer-Encoding');
  if (codings[codings.length - 1] !== 'chunked') {
    badRequest('chunked-not-final', 'chunked is not the final transfer coding');
  }
  if (codings.indexOf('chunked') !== codings.length - 1) {
    badRequest('chunked-repeated', 'chunked applied more than once');
  }
  if (codings.length > 1) {
    badRequest('unsupported-transfer-coding', `transfer coding ${te} not supported`, 501);
  }
}
