// RFC 9110/9112 character classes as byte tables (one array load per byte on the hot path),
// shared by the request parser (bytes) and the response serialiser (latin1 strings), plus the
// comma-list reader for Connection. Mirrors @trellis/sidecar-h1's tables, which it does not export.

function table(accept: (byte: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b);
  return t;
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";

/**
 * tchar: the bytes of a token (methods, field names, codings). 1 for a tchar, 2 for an upper-case
 * letter (also a tchar), so a name scan learns for free whether it needs lower-casing.
 */
export const TOKEN = table((b) => {
  if (b >= 0x41 && b <= 0x5a) return 2;
  if ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a)) return 1;
  return TCHAR_EXTRA.includes(String.fromCharCode(b)) ? 1 : 0;
});

/** field-vchar / obs-text / SP / HTAB: what a field value may hold. No CR, LF, NUL or CTLs. */
export const FIELD_VALUE = table((b) => (b === 0x09 || (b >= 0x20 && b !== 0x7f) ? 1 : 0));

/** request-target bytes: visible ASCII only (RFC 3986 is ASCII; no controls, SP or obs-text). */
export const TARGET = table((b) => (b > 0x20 && b < 0x7f ? 1 : 0));

/**
 * Host / authority bytes: unreserved, pct-encoded, sub-delims, ':' and the IP-literal brackets.
 * Anything else ('/', '@', '\', SP …) would let Host and the routed authority disagree.
 */
export const AUTHORITY = table((b) =>
  (b >= 0x30 && b <= 0x39) ||
  (b >= 0x41 && b <= 0x5a) ||
  (b >= 0x61 && b <= 0x7a) ||
  "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(b))
    ? 1
    : 0,
);

/** Hex digit value, or -1. */
export const HEX = new Int8Array(256).fill(-1);
for (let b = 0; b < 256; b++) {
  if (b >= 0x30 && b <= 0x39) HEX[b] = b - 0x30;
  else if (b >= 0x41 && b <= 0x46) HEX[b] = b - 0x41 + 10;
  else if (b >= 0x61 && b <= 0x66) HEX[b] = b - 0x61 + 10;
}

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

/** A field value may be empty; it may not contain CR, LF, NUL or other controls. */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] !== 1) return false;
  }
  return true;
}

export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

/**
 * Strips optional whitespace (SP and HTAB only, RFC 9110 §5.6.3). String#trim would also strip
 * NBSP (0xA0, legal obs-text), so `chunked\xa0` would pass for `chunked`: a smuggling lever.
 */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Reads the Connection options acted on (close, keep-alive, upgrade) as a bit set. */
export function connectionFlags(value: string): number {
  // Fast path for the usual single option.
  const lower = value.toLowerCase();
  if (lower === 'keep-alive') return CONN_KEEP_ALIVE;
  if (lower === 'close') return CONN_CLOSE;
  if (lower === 'upgrade') return CONN_UPGRADE;
  let flags = 0;
  for (const raw of lower.split(',')) {
    const token = trimOws(raw);
    if (token === 'close') flags |= CONN_CLOSE;
    else if (token === 'keep-alive') flags |= CONN_KEEP_ALIVE;
    else if (token === 'upgrade') flags |= CONN_UPGRADE;
  }
  return flags;
}
