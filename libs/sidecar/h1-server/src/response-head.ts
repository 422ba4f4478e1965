// Serialises a response head (status line and fields) into one latin1 string, and decides the
// body framing from the request and the fields: the caller's Content-Length passes through;
// without one the body is chunked (HTTP/1.1) or delimited by the close (HTTP/1.0). HEAD, 204
// and 304 never carry a body. Framing and connection fields are ours: the caller's
// Transfer-Encoding, Connection and Keep-Alive are dropped (`Connection: close` is honoured).
import { STATUS_CODES } from 'node:http';
import { H1ServerError } from './errors.js';
import { CONN_CLOSE, connectionFlags, isFieldValue, isToken } from './http-syntax.js';

export const FRAMING_NONE = 0; // no body bytes at all
export const FRAMING_LENGTH = 1; // Content-Length
export const FRAMING_CHUNKED = 2; // Transfer-Encoding: chunked
export const FRAMING_CLOSE = 3; // the body ends when the connection closes (HTTP/1.0)

/** What the serialiser decided, written into the caller's object (no allocation per response). */
export interface ResponseFraming {
  framing: number;
  /** Declared body length with FRAMING_LENGTH; -1 otherwise. */
  contentLength: number;
  /** The connection stays open after this response. */
  keepAlive: boolean;
}

const statusLines: string[] = [];

function statusLine(status: number): string {
  let line = statusLines[status];
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    statusLines[status] = line;
  }
  return line;
}

function invalid(message: string): never {
  throw new H1ServerError('TRL_H1S_INVALID_RESPONSE', message);
}

/** Appends validated `name: value` lines; names that are not tokens or values with CR/LF throw. */
function fieldLine(name: string, value: string): string {
  if (!isToken(name)) invalid(`invalid header name ${JSON.stringify(name)}`);
  if (!isFieldValue(value)) invalid(`invalid value for header ${name}`);
  return `${name}: ${value}\r\n`;
}

/**
 * The head for `status` with `headers` (flat, lower-case names expected). Throws
 * TRL_H1S_INVALID_RESPONSE for a status outside 200–999, a bad name or value (response
 * splitting) or conflicting Content-Length values, as Node's writeHead does.
 */
export function serializeResponseHead(
  status: number,
  headers: readonly string[],
  endStream: boolean,
  /** The request was HEAD: the head describes a body that is not sent. */
  headRequest: boolean,
  /** The request's HTTP minor version (0 or 1). */
  versionMinor: number,
  /** The request and the server both allow reuse (not draining, body not in doubt). */
  reusable: boolean,
  out: ResponseFraming,
): string {
  if (!Number.isInteger(status) || status < 200 || status > 999) {
    invalid(`invalid response status ${status}`);
  }
  const noBody = headRequest || status === 204 || status === 304;
  let head = statusLine(status);
  let contentLength = -1;
  let close = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    switch (name.length) {
      case 14:
        if (name === 'content-length' || name.toLowerCase() === 'content-length') {
          const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
          if (n < 0) invalid(`invalid content-length ${JSON.stringify(value)}`);
          if (contentLength >= 0 && n !== contentLength) invalid('conflicting content-length');
          contentLength = n;
          continue; // written below, once the framing is known
        }
        break;
      case 17:
        if (name === 'transfer-encoding' || name.toLowerCase() === 'transfer-encoding') continue;
        break;
      case 10:
        if (name === 'connection' || name.toLowerCase() === 'connection') {
          if ((connectionFlags(value) & CONN_CLOSE) !== 0) close = true;
          continue;
        }
        if (name === 'keep-alive' || name.toLowerCase() === 'keep-alive') continue;
        break;
    }
    head += fieldLine(name, value);
  }

  let framing: number;
  if (noBody) {
    // HEAD and 304 may state the length of the body they stand for; 204 must not (§8.6).
    if (contentLength >= 0 && status !== 204) head += `content-length: ${contentLength}\r\n`;
    framing = FRAMING_NONE;
  } else if (endStream) {
    // Declared empty: a stale non-zero length would leave the client waiting for bytes.
    head += 'content-length: 0\r\n';
    framing = FRAMING_NONE;
  } else if (contentLength >= 0) {
    head += `content-length: ${contentLength}\r\n`;
    framing = contentLength === 0 ? FRAMING_NONE : FRAMING_LENGTH;
  } else if (versionMinor === 1) {
    head += 'transfer-encoding: chunked\r\n';
    framing = FRAMING_CHUNKED;
  } else {
    framing = FRAMING_CLOSE;
  }
  const keepAlive = reusable && !close && framing !== FRAMING_CLOSE;
  if (!keepAlive) head += 'connection: close\r\n';
  else if (versionMinor === 0) head += 'connection: keep-alive\r\n';
  out.framing = framing;
  out.contentLength = framing === FRAMING_LENGTH ? contentLength : -1;
  out.keepAlive = keepAlive;
  return `${head}\r\n`;
}

/** Framing and connection fields: ours on a final head, meaningless on a 1xx (no content). */
const INTERIM_DROPPED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

/**
 * An interim (1xx) head: status line and `headers`, without framing or connection fields.
 * Throws TRL_H1S_INVALID_RESPONSE for a status outside 100–199 or a bad name or value.
 */
export function serializeInformationalHead(status: number, headers: readonly string[]): string {
  if (!Number.isInteger(status) || status < 100 || status > 199) {
    invalid(`invalid interim status ${status}`);
  }
  let head = statusLine(status);
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (INTERIM_DROPPED.has(name.toLowerCase())) continue;
    head += fieldLine(name, headers[i + 1] as string);
  }
  return `${head}\r\n`;
}

/** The last chunk and the trailer section of a chunked body (`closeChunk`: CRLF still owed). */
export function lastChunk(closeChunk: boolean, trailers: readonly string[] | undefined): string {
  let out = closeChunk ? '\r\n0\r\n' : '0\r\n';
  if (trailers !== undefined) {
    for (let i = 0; i < trailers.length; i += 2) {
      out += fieldLine(trailers[i] as string, trailers[i + 1] as string);
    }
  }
  return `${out}\r\n`;
}
