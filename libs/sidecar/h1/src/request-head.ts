// Serialises a request head into one latin1 string (written with one socket write) and works
// out how its body is framed. Rejects heads that could split or smuggle: invalid tokens, CR/LF
// in values, contradictory framing.
import { H1Error } from './errors.js';
import {
  CONN_CLOSE,
  TARGET,
  TOKEN,
  connectionFlags,
  isFieldValue,
  lowerCaseEquals,
  stringMatches,
  transferCodings,
} from './http-syntax.js';
import type { H1RequestInit } from './types.js';

export const FRAMING_NONE = 0;
export const FRAMING_LENGTH = 1;
export const FRAMING_CHUNKED = 2;

/** What the head implies for the rest of the exchange; filled in by serializeRequestHead. */
export interface RequestFraming {
  framing: number;
  /** Declared Content-Length when framing is FRAMING_LENGTH, else -1. */
  contentLength: number;
  /** The body must wait for 100 Continue. */
  expectContinue: boolean;
  /** The request carries Upgrade: a 101 is acceptable. */
  upgrade: boolean;
  /** The caller sent Connection: close: the connection ends with this exchange. */
  connectionClose: boolean;
}

function invalid(message: string): H1Error {
  return new H1Error('TRL_H1_INVALID_REQUEST', message);
}

function lengthValue(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(value);
}

/** Returns the head (request line, fields, blank line) and fills `out`. Throws H1Error. */
export function serializeRequestHead(
  init: H1RequestInit,
  defaultHost: string,
  out: RequestFraming,
): string {
  const { method, path, headers, hasBody } = init;
  if (!stringMatches(method, TOKEN)) throw invalid(`invalid method ${JSON.stringify(method)}`);
  if (!stringMatches(path, TARGET)) throw invalid(`invalid request target ${JSON.stringify(path)}`);
  if ((headers.length & 1) !== 0) throw invalid('headers must be a flat list of name/value pairs');

  let fields = '';
  let hasHost = false;
  if (init.host !== undefined) {
    if (!isFieldValue(init.host)) throw invalid('invalid value for header host');
    fields = `host: ${init.host}\r\n`;
    hasHost = true;
  }
  let contentLength = -1;
  let codings: string[] | null = null;
  let expectHeader = false;
  let connection = 0;
  let upgrade = false;
  for (let k = 0; k < headers.length; k += 2) {
    const name = headers[k] as string;
    const value = headers[k + 1] as string;
    if (!stringMatches(name, TOKEN)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
    if (!isFieldValue(value)) throw invalid(`invalid value for header ${name}`);
    switch (name.length) {
      case 4:
        if (lowerCaseEquals(name, 'host')) hasHost = true;
        break;
      case 6:
        if (lowerCaseEquals(name, 'expect') && value.toLowerCase() === '100-continue') {
          expectHeader = true;
        }
        break;
      case 7:
        if (lowerCaseEquals(name, 'upgrade')) upgrade = true;
        break;
      case 10:
        if (lowerCaseEquals(name, 'connection')) connection |= connectionFlags(value);
        break;
      case 14:
        if (lowerCaseEquals(name, 'content-length')) {
          const n = lengthValue(value);
          if (n < 0) throw invalid(`invalid Content-Length ${JSON.stringify(value)}`);
          if (contentLength >= 0 && n !== contentLength)
            throw invalid('conflicting Content-Length');
          contentLength = n;
        }
        break;
      case 17:
        if (lowerCaseEquals(name, 'transfer-encoding')) transferCodings(value, (codings ??= []));
        break;
    }
    fields += `${name}: ${value}\r\n`;
  }

  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (!hasHost) head += `Host: ${defaultHost}\r\n`;
  head += fields;

  if (!hasBody) {
    if (codings !== null || contentLength > 0) {
      throw invalid('body framing declared on a request with hasBody: false');
    }
    out.framing = FRAMING_NONE;
    out.contentLength = -1;
  } else if (codings !== null) {
    if (contentLength >= 0) throw invalid('both Content-Length and Transfer-Encoding');
    if (codings[codings.length - 1] !== 'chunked') {
      throw invalid('a request body with Transfer-Encoding must end in chunked');
    }
    out.framing = FRAMING_CHUNKED;
    out.contentLength = -1;
  } else if (contentLength >= 0) {
    out.framing = FRAMING_LENGTH;
    out.contentLength = contentLength;
  } else {
    head += 'Transfer-Encoding: chunked\r\n';
    out.framing = FRAMING_CHUNKED;
    out.contentLength = -1;
  }

  const expectContinue = hasBody && (expectHeader || init.expectContinue === true);
  if (expectContinue && !expectHeader) head += 'Expect: 100-continue\r\n';
  out.expectContinue = expectContinue;
  out.upgrade = upgrade;
  out.connectionClose = (connection & CONN_CLOSE) !== 0;
  return `${head}\r\n`;
}
