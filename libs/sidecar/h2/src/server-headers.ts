// Received request header lists on the server side: the RFC 9113 §8.2–8.3 checks shared with
// the client (checkRequestFields), plus what only a receiver decides: the declared
// content-length, and the regular fields split from the pseudo-headers in place (no copy).
import { H2Error } from './errors.js';
import { checkRequestFields } from './headers.js';

/** A received request head, pseudo-headers resolved. */
export interface ReceivedRequest {
  readonly method: string;
  readonly scheme: string;
  /** :authority, or the Host field when the client sent no :authority. */
  readonly authority: string;
  readonly path: string;
  /** The regular fields: the decoded list itself, pseudo-headers removed. */
  readonly headers: string[];
  /** Declared content-length, or -1. */
  readonly contentLength: number;
}

const DIGITS = /^[0-9]{1,15}$/;

/**
 * Validates a decoded request block and strips its pseudo-headers from `fields` in place.
 * Throws H2Error TRL_H2_INVALID_HEADER (the stream is then reset with PROTOCOL_ERROR).
 */
export function receivedRequest(fields: string[], endStream: boolean): ReceivedRequest {
  const pseudo = checkRequestFields(fields);
  const start = pseudo.regularStart;
  if (start > 0) {
    fields.copyWithin(0, start);
    fields.length -= start;
  }
  let contentLength = -1;
  let host = '';
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name === 'content-length') {
      const value = fields[i + 1]!;
      if (!DIGITS.test(value)) {
        throw new H2Error('TRL_H2_INVALID_HEADER', 'invalid content-length');
      }
      const n = Number(value);
      if (contentLength >= 0 && contentLength !== n) {
        throw new H2Error('TRL_H2_INVALID_HEADER', 'conflicting content-length values');
      }
      contentLength = n;
    } else if (name === 'host' && host === '') {
      host = fields[i + 1]!;
    }
  }
  // A request that ended with its head has no body, whatever it declared (RFC 9113 §8.1.1).
  if (endStream && contentLength > 0) {
    throw new H2Error('TRL_H2_INVALID_HEADER', 'content-length without a body');
  }
  return {
    method: pseudo.method,
    scheme: pseudo.scheme,
    authority: pseudo.authority !== '' ? pseudo.authority : host,
    path: pseudo.path,
    headers: fields,
    contentLength,
  };
}
