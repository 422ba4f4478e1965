// Header lists as the proxy carries them: a flat array [name, value, name, value, …] with
// lower-case names, order and repeats kept (Node's rawHeaders shape, cheap to build and to
// hand to either protocol).
import type { FlatHeaders } from '@trellis/sidecar-h1-server';
import type { HeaderEdits } from '@trellis/sidecar-routing';

export type { FlatHeaders };

/**
 * Connection-specific fields (RFC 9110 §7.6.1) never forwarded, plus HTTP/2-forbidden ones.
 * `te` is handled apart: only `te: trailers` survives (gRPC needs it).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'proxy-authenticate',
  'proxy-authorization',
]);

/**
 * `name` in lower case: the same string when it has no upper-case letter (toLowerCase copies
 * the string even then, some 40 bytes per field name on the request path).
 */
function lowerCaseName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c > 0x7f) return name.toLowerCase();
  }
  return name;
}

/** Copies a raw header list with its names lower-cased (values untouched). */
export function lowerCaseNames(raw: readonly string[]): FlatHeaders {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    out[i] = lowerCaseName(raw[i] as string);
    out[i + 1] = raw[i + 1] as string;
  }
  return out;
}

export function getHeader(headers: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name)
      found = found === undefined ? headers[i + 1] : `${found}, ${headers[i + 1]}`;
  }
  return found;
}

/** The field names `raw`'s Connection fields nominate, beyond those dropped anyway. */
function nominatedNames(raw: readonly string[]): Set<string> | undefined {
  let nominated: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 10 && lowerCaseName(name) === 'connection') {
      const value = raw[i + 1] as string;
      // One option (`Connection: keep-alive`, most responses) needs no split.
      if (!value.includes(',')) nominated = nominate(nominated, value);
      else for (const token of value.split(',')) nominated = nominate(nominated, token);
    }
  }
  return nominated;
}

function nominate(nominated: Set<string> | undefined, token: string): Set<string> | undefined {
  const t = lowerCaseName(token.trim());
  // keep-alive and the like are dropped anyway: no Set for them.
  if (t && !HOP_BY_HOP.has(t)) (nominated ??= new Set()).add(t);
  return nominated;
}

/** The value a field is forwarded with (`te` only as trailers), or undefined: dropped. */
function forwardedValue(
  name: string,
  value: string,
  nominated: Set<string> | undefined,
): string | undefined {
  if (name.charCodeAt(0) === 58 /* ':' */ || name === 'host') return undefined;
  if (HOP_BY_HOP.has(name) || nominated?.has(name)) return undefined;
  if (name === 'te') return value.toLowerCase().includes('trailers') ? 'trailers' : undefined;
  return value;
}

/**
 * Copies `raw` (names in any case) into a forwardable list: names lower-cased, hop-by-hop
 * fields and those named by `Connection` dropped, `te` kept only as `trailers`, pseudo-headers
 * and `host` dropped (the forwarder sets the authority itself).
 */
export function forwardableHeaders(raw: readonly string[]): FlatHeaders {
  const nominated = nominatedNames(raw);
  const out: FlatHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = lowerCaseName(raw[i] as string);
    const value = forwardedValue(name, raw[i + 1] as string, nominated);
    if (value !== undefined) out.push(name, value);
  }
  return out;
}

/**
 * forwardableHeaders in place, for a list the caller owns (an upstream response's): the same
 * fields, without a copy per response.
 */
export function keepForwardable(headers: FlatHeaders): FlatHeaders {
  const nominated = nominatedNames(headers);
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = lowerCaseName(headers[r] as string);
    const value = forwardedValue(name, headers[r + 1] as string, nominated);
    if (value === undefined) continue;
    headers[w] = name;
    headers[w + 1] = value;
    w += 2;
  }
  headers.length = w;
  return headers;
}

export function removeHeader(headers: FlatHeaders, name: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] !== name) {
      headers[w] = headers[r] as string;
      headers[w + 1] = headers[r + 1] as string;
      w += 2;
    }
  }
  headers.length = w;
}

export function setHeader(headers: FlatHeaders, name: string, value: string): void {
  removeHeader(headers, name);
  headers.push(name, value);
}

/** Applies a route's header edits in the order remove, set, add. */
export function applyHeaderEdits(headers: FlatHeaders, edits: HeaderEdits | undefined): void {
  if (!edits) return;
  for (const name of edits.remove) removeHeader(headers, name);
  for (const [name, value] of edits.set) setHeader(headers, name, value);
  for (const [name, value] of edits.add) headers.push(name, value);
}
