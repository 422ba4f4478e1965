// Header lists for HTTP/2 (RFC 9113 §8.2–8.3): request and trailer lists are validated before
// they reach the wire, response lists are checked for well-formedness. Lists are flat
// [name, value, name, value, …] arrays: order kept, duplicates allowed, one allocation at most.
import { H2Error } from './errors.js';

/** Header list input: [name, value] pairs, or a flat [name, value, name, value, …] array. */
export type HeaderInput = ReadonlyArray<readonly [string, string]> | readonly string[];

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2); `te` is allowed as "trailers". */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);

// tchar (RFC 9110 §5.6.2) restricted to lowercase, as HTTP/2 requires.
const NAME_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")
  NAME_CHAR[c.charCodeAt(0)] = 1;

function invalid(message: string): H2Error {
  return new H2Error('TRL_H2_INVALID_HEADER', message);
}

/** Flattens pairs (or passes a flat list through) after checking it has whole pairs. */
function flatten(input: HeaderInput): readonly string[] {
  if (input.length === 0 || typeof input[0] === 'string') {
    if (input.length % 2 !== 0) throw invalid('flat header list has an odd number of entries');
    return input as readonly string[];
  }
  const pairs = input as ReadonlyArray<readonly [string, string]>;
  const out = new Array<string>(pairs.length * 2);
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    out[2 * i] = pair[0];
    out[2 * i + 1] = pair[1];
  }
  return out;
}

/** True for a non-empty lowercase token. */
export function isValidFieldName(name: string): boolean {
  const len = name.length;
  if (len === 0) return false;
  for (let i = 0; i < len; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/** RFC 9113 §8.2.1: latin1 octets, no NUL/CR/LF, no leading or trailing SP/HTAB. */
export function isValidFieldValue(value: string): boolean {
  const len = value.length;
  if (len === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(len - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) return false;
  }
  return true;
}

function checkRegularField(name: string, value: string): void {
  if (!isValidFieldName(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
  if (!isValidFieldValue(value)) throw invalid(`invalid value for header ${name}`);
  if (CONNECTION_SPECIFIC.has(name)) throw invalid(`connection-specific header ${name}`);
  if (name === 'te' && value !== 'trailers') throw invalid('te header other than "trailers"');
}

/**
 * A request header list ready for encoding: pseudo-headers first, each at most once, :method plus
 * :scheme and a non-empty :path (or :authority only, for CONNECT); regular names lowercase.
 * Throws H2Error TRL_H2_INVALID_HEADER. A flat input is returned as is (not copied).
 */
export function requestFieldList(input: HeaderInput): readonly string[] {
  const fields = flatten(input);
  let method: string | undefined;
  let scheme = false;
  let path = false;
  let authority = false;
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    const value = fields[i + 1]!;
    if (!REQUEST_PSEUDO.has(name)) throw invalid(`unknown pseudo-header ${name}`);
    if (!isValidFieldValue(value)) throw invalid(`invalid value for ${name}`);
    if (name === ':method') {
      if (method !== undefined) throw invalid('duplicate :method');
      method = value;
    } else if (name === ':scheme') {
      if (scheme) throw invalid('duplicate :scheme');
      scheme = true;
    } else if (name === ':path') {
      if (path) throw invalid('duplicate :path');
      if (value.length === 0) throw invalid('empty :path');
      path = true;
    } else {
      if (authority) throw invalid('duplicate :authority');
      authority = true;
    }
  }
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a) throw invalid(`pseudo-header ${name} after regular headers`);
    checkRegularField(name, fields[i + 1]!);
  }
  if (method === undefined || method.length === 0) throw invalid('missing :method');
  if (method === 'CONNECT') {
    if (scheme || path || !authority) {
      throw invalid('CONNECT needs :authority and no :scheme/:path');
    }
  } else if (!scheme || !path) {
    throw invalid('missing :scheme or :path');
  }
  return fields;
}

/** A trailer list ready for encoding: regular fields only. Throws TRL_H2_INVALID_HEADER. */
export function trailerFieldList(input: HeaderInput): readonly string[] {
  const fields = flatten(input);
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a) throw invalid(`pseudo-header ${name} in trailers`);
    checkRegularField(name, fields[i + 1]!);
  }
  return fields;
}

/** Regular fields of a received block are lowercase tokens and not connection-specific. */
function regularFieldsWellFormed(fields: readonly string[], from: number): boolean {
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (!isValidFieldName(name) || CONNECTION_SPECIFIC.has(name)) return false;
  }
  return true;
}

/**
 * The :status of a decoded response header block, or -1 if the block is malformed: :status must
 * come first and alone among pseudo-headers, be three digits, and regular names well formed.
 */
export function responseStatus(fields: readonly string[]): number {
  if (fields.length < 2 || fields[0] !== ':status') return -1;
  const s = fields[1]!;
  if (s.length !== 3) return -1;
  const a = s.charCodeAt(0) - 48;
  const b = s.charCodeAt(1) - 48;
  const c = s.charCodeAt(2) - 48;
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  return regularFieldsWellFormed(fields, 2) ? a * 100 + b * 10 + c : -1;
}

/** True when a decoded trailer block is well formed (no pseudo-headers). */
export function trailersWellFormed(fields: readonly string[]): boolean {
  return regularFieldsWellFormed(fields, 0);
}

/** Value of the first field named `name` in a flat list, or undefined. */
export function getHeader(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === name) return fields[i + 1];
  }
  return undefined;
}
