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

/** Copies a raw header list with its names lower-cased (values untouched). */
export function lowerCaseNames(raw: readonly string[]): FlatHeaders {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    out[i] = (raw[i] as string).toLowerCase();
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

/**
 * Copies `raw` (names in any case) into a forwardable list: names lower-cased, hop-by-hop
 * fields and those named by `Connection` dropped, `te` kept only as `trailers`, pseudo-headers
 * and `host` dropped (the forwarder sets the authority itself).
 */
export function forwardableHeaders(raw: readonly string[]): FlatHeaders {
  let nominated: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'connection') {
      for (const token of (raw[i + 1] as string).split(',')) {
        const t = token.trim().toLowerCase();
        if (t) (nominated ??= new Set()).add(t);
      }
    }
  }
  const out: FlatHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 58 /* ':' */ || name === 'host') continue;
    if (HOP_BY_HOP.has(name) || nominated?.has(name)) continue;
    if (name === 'te') {
      if (value.toLowerCase().includes('trailers')) out.push('te', 'trailers');
      continue;
    }
    out.push(name, value);
  }
  return out;
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

/** `{a: '1', b: ['2', '3']}`, the shape Node's http2 API wants. */
export function headersToObject(headers: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}
